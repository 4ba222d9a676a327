// The station's HTTP and WebSocket server: serves the built UI, map tiles and /ws. Whoever
// holds the operator token commands the vehicle; everyone else only watches.

import { createHash, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Disposable } from '../core/disposable';
import { checkHazingOperator } from '../core/hazing-log';
import { createLogger } from '../core/log';
import { checkPatternSettings, type PatternNudge, type PatternSettings } from '../core/patterns';
import {
  checkPointCamera,
  type ClientMessage,
  type OperatorCommand,
  type Role,
  type ServerMessage,
} from '../core/protocol';
import { checkReplayControl } from '../core/replay';
import type { CommandOutcome } from '../core/types';
import { checkZoneInput } from '../core/zones';

const log = createLogger('server');

export interface StationApi {
  hello(role: Role): Extract<ServerMessage, { type: 'hello' }>;
  /** Current state for a newly connected client. */
  snapshot(): ServerMessage[];
  /** The live stream, forwarded to every client. */
  onMessage(listener: (message: ServerMessage) => void): Disposable;
  execute(command: OperatorCommand): Promise<CommandOutcome>;
  /**
   * The hazing log as it stands, for GET /hazing-log.json and /hazing-log.csv; a station
   * without one answers those with 404.
   */
  hazingLog?(): { json: string; csv: string };
  /**
   * A file of an exported incident report, for GET /reports/<folder>/<file> (a replay
   * station's); null when there is none. Names are single path segments, checked here too.
   */
  reportFile?(folder: string, file: string): Promise<{ data: Buffer; contentType: string } | null>;
}

/** What the server needs of a tile store (the station's TileStore has this shape). */
export interface TileProvider {
  getTile(z: number, x: number, y: number): { data: Buffer; contentType: string } | null;
}

export interface ServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  api: StationApi;
  operatorToken: string;
  tiles: TileProvider | null;
  /** The built UI: index.html, app.js, app.css, leaflet.css, images/. */
  uiDir: string;
  /**
   * More image sources for the CSP (origins such as https://tile.example.org). Online tile
   * hosts named by hello's urlTemplate are added without being listed here.
   */
  extraImgSrc?: string[];
}

export interface StationServer {
  port: number;
  /** Observer URL: view only. */
  url: string;
  /** The URL with the operator token: it can command the vehicle. */
  operatorUrl: string;
  dispose(): Promise<void>;
}

/** A client whose socket holds more than this skips video frames until it drains. */
export const FRAME_SKIP_BUFFERED_BYTES = 1024 * 1024;
/** A client this far behind is hopeless: it is dropped so it cannot eat the station's memory. */
const DROP_CLIENT_BUFFERED_BYTES = 64 * 1024 * 1024;
const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;
const HEARTBEAT_INTERVAL_MS = 15_000;
/**
 * How often every client hears from the server even when the station has nothing to say, so
 * a UI can tell a quiet station from a dead network within seconds.
 */
export const CLIENT_HEARTBEAT_INTERVAL_MS = 2_000;
export const MIN_TOKEN_LENGTH = 16;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

interface Client {
  socket: WebSocket;
  role: Role;
  alive: boolean;
  remote: string;
}

export async function startServer(options: ServerOptions): Promise<StationServer> {
  const { api, tiles } = options;
  if (options.operatorToken.length < MIN_TOKEN_LENGTH) {
    throw new Error(
      `operator token must be at least ${MIN_TOKEN_LENGTH} characters ` +
        `(got ${options.operatorToken.length})`,
    );
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new Error(`server port must be an integer 0-65535, got ${options.port}`);
  }
  const uiDir = path.resolve(options.uiDir);
  const realUiDir = await fs.realpath(uiDir).catch(() => {
    throw new Error(`UI folder ${uiDir} does not exist: run "npm run build" first`);
  });
  const imgSources = imageSources(api, options.extraImgSrc ?? []);
  const tokenDigest = digest(options.operatorToken);
  const clients = new Set<Client>();

  const httpServer = http.createServer((request, response) => {
    handleHttp(request, response).catch((error: unknown) => {
      log.error(`request ${request.method} ${safePath(request.url)} failed: ${message(error)}`);
      if (!response.headersSent) sendText(response, 500, 'internal error');
      else response.destroy();
    });
  });
  // Keep-alive sockets would hold dispose() open; the UI does few requests anyway.
  httpServer.keepAliveTimeout = 5_000;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  httpServer.on('error', (error) => log.error(`http server: ${message(error)}`));
  const port = (httpServer.address() as AddressInfo).port;
  const urlHost = formatHost(isWildcard(options.host) ? '127.0.0.1' : options.host);
  const baseUrl = `http://${urlHost}:${port}`;
  const allowedOrigins = originsFor(options.host, port);
  const csp = contentSecurityPolicy(imgSources, allowedOrigins);

  function setCommonHeaders(response: http.ServerResponse): void {
    response.setHeader('Content-Security-Policy', csp);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('X-Frame-Options', 'DENY');
    // The operator token sits in the page URL: never send it to a tile host.
    response.setHeader('Referrer-Policy', 'no-referrer');
    response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  }

  async function handleHttp(
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<void> {
    setCommonHeaders(response);
    if (!hostAllowed(request.headers.host, options.host, port)) {
      sendText(response, 421, 'unknown host');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      sendText(response, 405, 'method not allowed');
      return;
    }
    const pathname = parsePath(request.url);
    if (pathname === null) {
      sendText(response, 400, 'bad request path');
      return;
    }
    if (pathname === '/ws') {
      sendText(response, 426, 'WebSocket upgrade required');
      return;
    }
    if (pathname.startsWith('/tiles/')) {
      serveTile(pathname, request, response);
      return;
    }
    if (pathname === '/hazing-log.json' || pathname === '/hazing-log.csv') {
      serveHazingLog(pathname === '/hazing-log.json' ? 'json' : 'csv', request, response);
      return;
    }
    if (pathname.startsWith('/reports/')) {
      await serveReport(pathname, request, response);
      return;
    }
    await serveStatic(pathname === '/' ? '/index.html' : pathname, request, response);
  }

  async function serveReport(
    pathname: string,
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<void> {
    const match = /^\/reports\/([A-Za-z0-9][A-Za-z0-9._-]*)\/([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(
      pathname,
    );
    const found = match && api.reportFile ? await api.reportFile(match[1], match[2]) : null;
    if (!found) {
      sendText(response, 404, 'no such report file');
      return;
    }
    response.statusCode = 200;
    response.setHeader('Content-Type', found.contentType);
    response.setHeader('Content-Length', found.data.length);
    response.setHeader('Cache-Control', 'no-store');
    response.end(request.method === 'HEAD' ? undefined : found.data);
  }

  function serveTile(
    pathname: string,
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): void {
    const match = /^\/tiles\/(\d{1,2})\/(\d{1,9})\/(\d{1,9})(?:\.(?:png|jpg|jpeg|webp))?$/.exec(
      pathname,
    );
    if (!match) {
      sendText(response, 400, 'tile path must be /tiles/{z}/{x}/{y}');
      return;
    }
    const [z, x, y] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const tile = tiles ? tiles.getTile(z, x, y) : null;
    if (!tile) {
      response.setHeader('Cache-Control', 'no-cache');
      sendText(response, 404, 'no such tile');
      return;
    }
    response.statusCode = 200;
    response.setHeader('Content-Type', tile.contentType);
    response.setHeader('Content-Length', tile.data.length);
    // Tiles of one store never change while it is served.
    response.setHeader('Cache-Control', 'public, max-age=604800, immutable');
    response.end(request.method === 'HEAD' ? undefined : tile.data);
  }

  function serveHazingLog(
    format: 'json' | 'csv',
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): void {
    if (!api.hazingLog) {
      sendText(response, 404, 'this station keeps no hazing log');
      return;
    }
    const data = Buffer.from(api.hazingLog()[format], 'utf8');
    const day = new Date().toISOString().slice(0, 10);
    response.statusCode = 200;
    response.setHeader(
      'Content-Type',
      format === 'json'
        ? 'application/json; charset=utf-8'
        : 'text/csv; charset=utf-8; header=present',
    );
    response.setHeader('Content-Length', data.length);
    response.setHeader(
      'Content-Disposition',
      `attachment; filename="ursa-hazing-log-${day}.${format}"`,
    );
    // The log grows while hazing goes on: every download is fresh.
    response.setHeader('Cache-Control', 'no-store');
    response.end(request.method === 'HEAD' ? undefined : data);
  }

  async function serveStatic(
    pathname: string,
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<void> {
    const file = resolveInside(uiDir, pathname);
    const type = file ? CONTENT_TYPES[path.extname(file).toLowerCase()] : undefined;
    // A symbolic link inside the folder must not lead out of it.
    const real = file && type ? await fs.realpath(file).catch(() => null) : null;
    const inside = real !== null && real.startsWith(realUiDir + path.sep);
    const stat = inside ? await fs.stat(real).catch(() => null) : null;
    if (!file || !type || !real || !stat || !stat.isFile()) {
      sendText(response, 404, 'not found');
      return;
    }
    const data = await fs.readFile(real);
    response.statusCode = 200;
    response.setHeader('Content-Type', type);
    response.setHeader('Content-Length', data.length);
    response.setHeader('Cache-Control', 'no-cache');
    response.end(request.method === 'HEAD' ? undefined : data);
  }

  httpServer.on('upgrade', (request, socket, head) => {
    socket.on('error', (error) => log.warn(`upgrade socket: ${message(error)}`));
    const refuse = (status: number, reason: string): void => {
      log.warn(`refused WebSocket from ${request.socket.remoteAddress}: ${reason}`);
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
    };
    if (parsePath(request.url) !== '/ws') return refuse(404, 'path is not /ws');
    if (!hostAllowed(request.headers.host, options.host, port)) {
      return refuse(421, 'unknown Host header');
    }
    const origin = request.headers.origin;
    // Browsers always send Origin; a client without one is a program on this machine.
    if (origin !== undefined && !allowedOrigins.includes(origin.toLowerCase())) {
      return refuse(403, `origin ${JSON.stringify(origin)} is not this station`);
    }
    const presented = queryToken(request.url);
    const role: Role = tokenMatches(presented, tokenDigest) ? 'operator' : 'observer';
    // Someone who meant to operate must be told, not silently left watching.
    const tokenRejected = presented !== null && role === 'observer';
    if (tokenRejected) {
      log.warn(`wrong operator token from ${request.socket.remoteAddress}: observer only`);
    }
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws, role, tokenRejected, request));
  });

  function accept(
    socket: WebSocket,
    role: Role,
    tokenRejected: boolean,
    request: http.IncomingMessage,
  ): void {
    const client: Client = {
      socket,
      role,
      alive: true,
      remote: `${request.socket.remoteAddress}:${request.socket.remotePort}`,
    };
    clients.add(client);
    log.info(`${role} connected from ${client.remote} (${clients.size} clients)`);
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('error', (error) => log.warn(`client ${client.remote}: ${message(error)}`));
    socket.on('close', () => {
      clients.delete(client);
      log.info(`${role} ${client.remote} disconnected (${clients.size} clients)`);
    });
    socket.on('message', (data, isBinary) => {
      handleClientMessage(client, data, isBinary).catch((error: unknown) => {
        log.error(`handling a message from ${client.remote}: ${message(error)}`);
      });
    });
    try {
      const hello: ServerMessage = {
        ...api.hello(role),
        heartbeatIntervalMs: CLIENT_HEARTBEAT_INTERVAL_MS,
        ...(tokenRejected ? { tokenRejected: true } : {}),
      };
      sendTo(client, JSON.stringify(hello));
      for (const snapshotMessage of api.snapshot()) sendTo(client, JSON.stringify(snapshotMessage));
    } catch (error) {
      log.error(`could not greet ${client.remote}: ${message(error)}`);
      socket.close(1011, 'station error');
    }
  }

  async function handleClientMessage(
    client: Client,
    data: RawData,
    isBinary: boolean,
  ): Promise<void> {
    const parsed = isBinary
      ? { error: 'binary messages are not understood; send JSON text' }
      : parseClientMessage(rawText(data));
    if ('error' in parsed) {
      // Only the sender is told. Observers are anyone on the network: their noise stays at
      // debug so they cannot fill the station's log either.
      const note = `malformed message from ${client.role} ${client.remote}: ${parsed.error}`;
      if (client.role === 'operator') log.warn(note);
      else log.debug(note);
      sendLog(client, 'error', `The station did not understand a message: ${parsed.error}`);
      if (parsed.requestId !== undefined) {
        sendResult(client, parsed.requestId, {
          ok: false,
          result: 'NOT_SENT',
          text: `Command not understood: ${parsed.error}`,
        });
      }
      return;
    }
    const { requestId, command } = parsed.message;
    if (client.role !== 'operator') {
      log.warn(`observer ${client.remote} tried to command: ${command.kind}`);
      const what = OBSERVER_REFUSALS[command.kind] ?? 'command the vehicle';
      sendResult(client, requestId, {
        ok: false,
        result: 'DENIED',
        text: `Observers cannot ${what} (${command.kind} refused).`,
      });
      return;
    }
    log.info(`operator ${client.remote} commands ${describeCommand(command)}`);
    let outcome: CommandOutcome;
    try {
      outcome = await api.execute(command);
    } catch (error) {
      log.error(`command ${command.kind} failed: ${message(error)}`);
      outcome = { ok: false, result: 'FAILED', text: `${command.kind} failed: ${message(error)}` };
    }
    sendResult(client, requestId, outcome);
  }

  function sendResult(client: Client, requestId: string, outcome: CommandOutcome): void {
    sendTo(client, JSON.stringify({ type: 'command-result', requestId, outcome }));
  }

  function sendLog(client: Client, level: 'info' | 'warn' | 'error', text: string): void {
    sendTo(client, JSON.stringify({ type: 'log', entry: { timeMs: Date.now(), level, text } }));
  }

  function sendTo(client: Client, text: string): void {
    if (client.socket.readyState !== WebSocket.OPEN) return;
    client.socket.send(text, (error) => {
      if (error) log.debug(`send to ${client.remote} failed: ${message(error)}`);
    });
  }

  const subscription = api.onMessage((serverMessage) => {
    // hello is per client (it carries the role); command results go only to the asker;
    // heartbeats are the server's own.
    if (['hello', 'command-result', 'heartbeat'].includes(serverMessage.type)) return;
    if (clients.size === 0) return;
    const text = JSON.stringify(serverMessage);
    const isFrame = serverMessage.type === 'frame';
    for (const client of clients) {
      const buffered = client.socket.bufferedAmount;
      if (buffered > DROP_CLIENT_BUFFERED_BYTES) {
        log.warn(`dropping ${client.remote}: ${buffered} bytes unsent`);
        client.socket.terminate();
        continue;
      }
      // A slow client misses video frames, never vehicle state or commands.
      if (isFrame && buffered > FRAME_SKIP_BUFFERED_BYTES) continue;
      sendTo(client, text);
    }
  });

  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        log.warn(`${client.remote} stopped answering pings`);
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }, HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();
  const clientHeartbeat = setInterval(() => {
    if (clients.size === 0) return;
    const text = JSON.stringify({ type: 'heartbeat', timeMs: Date.now() });
    for (const client of clients) sendTo(client, text);
  }, CLIENT_HEARTBEAT_INTERVAL_MS);
  clientHeartbeat.unref();

  log.info(`serving ${baseUrl}/ (${tiles ? 'with' : 'without'} local tiles)`);

  let disposed: Promise<void> | null = null;
  return {
    port,
    url: `${baseUrl}/`,
    operatorUrl: `${baseUrl}/?token=${encodeURIComponent(options.operatorToken)}`,
    dispose: () => {
      disposed ??= (async () => {
        clearInterval(heartbeat);
        clearInterval(clientHeartbeat);
        await subscription.dispose();
        for (const client of clients) client.socket.close(1001, 'station shutting down');
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            for (const client of clients) client.socket.terminate();
            resolve();
          }, 1_000);
          const check = (): void => {
            if (clients.size > 0) return;
            clearTimeout(force);
            resolve();
          };
          for (const client of clients) client.socket.once('close', check);
          check();
        });
        wss.close();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
      })();
      return disposed;
    },
  };
}

/** What an observer is told it cannot do, for commands that do not fly the vehicle. */
const OBSERVER_REFUSALS: Partial<Record<OperatorCommand['kind'], string>> = {
  'save-zone': 'change protected zones or acknowledge alerts',
  'delete-zone': 'change protected zones or acknowledge alerts',
  'ack-alert': 'change protected zones or acknowledge alerts',
  'set-operator': 'set the hazing operator',
  'mark-person': 'mark or remove people',
  'remove-person': 'mark or remove people',
  replay: "move the replay's playhead or export a report",
};

/** The largest nudge one command may ask for: a half turn, or 200 m. */
export const NUDGE_LIMITS = { bearingDeltaDeg: 180, distanceDeltaM: 200 } as const;

const MAX_PERSON_ID_LENGTH = 40;

type ParsedClientMessage = { message: ClientMessage } | { error: string; requestId?: string };

/** Checks a client's message field by field; anything unexpected is named in the error. */
export function parseClientMessage(text: string): ParsedClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'message is not JSON' };
  }
  if (!isRecord(value)) return { error: 'message is not a JSON object' };
  if (value.type !== 'command') {
    return { error: `unknown message type ${JSON.stringify(value.type)}` };
  }
  const requestId = value.requestId;
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > 100) {
    return { error: 'requestId must be a string of 1-100 characters' };
  }
  const command = parseCommand(value.command);
  if ('error' in command) return { error: command.error, requestId };
  return { message: { type: 'command', requestId, command: command.command } };
}

function parseCommand(value: unknown): { command: OperatorCommand } | { error: string } {
  if (!isRecord(value)) return { error: 'command must be an object' };
  const numberField = (name: string): number | string => {
    const field = value[name];
    return typeof field === 'number' && Number.isFinite(field)
      ? field
      : `${String(value.kind)} needs a finite number ${name}`;
  };
  switch (value.kind) {
    case 'abort':
      return { command: { kind: 'abort' } };
    case 'return-home':
      return { command: { kind: 'return-home' } };
    case 'arm-takeoff': {
      const altitudeM = numberField('altitudeM');
      if (typeof altitudeM === 'string') return { error: altitudeM };
      return { command: { kind: 'arm-takeoff', altitudeM } };
    }
    case 'land':
      return { command: { kind: 'land' } };
    case 'start-pattern': {
      const { targetId } = value;
      if (targetId !== null && !(Number.isInteger(targetId) && Number(targetId) >= 1)) {
        return {
          error:
            'start-pattern needs targetId null or a whole number from 1, ' +
            `not ${JSON.stringify(targetId)}`,
        };
      }
      try {
        const settings = checkPatternSettings(value.settings, 'start-pattern');
        return {
          command: { kind: 'start-pattern', targetId: targetId as number | null, settings },
        };
      } catch (error) {
        return { error: message(error) };
      }
    }
    case 'nudge':
      return parseNudge(value.nudge);
    case 'speaker':
      if (typeof value.on !== 'boolean') return { error: 'speaker needs on: true or false' };
      return { command: { kind: 'speaker', on: value.on } };
    case 'set-operator': {
      try {
        return { command: { kind: 'set-operator', operator: checkHazingOperator(value.operator) } };
      } catch (error) {
        return { error: `set-operator: ${message(error)}` };
      }
    }
    case 'mark-person': {
      const position = value.position;
      if (!isRecord(position)) return { error: 'mark-person needs a position { latDeg, lonDeg }' };
      const { latDeg, lonDeg } = position;
      if (typeof latDeg !== 'number' || !Number.isFinite(latDeg) || Math.abs(latDeg) > 90) {
        return {
          error: `mark-person: latDeg ${JSON.stringify(latDeg)} is not a number in -90..90`,
        };
      }
      if (typeof lonDeg !== 'number' || !Number.isFinite(lonDeg) || Math.abs(lonDeg) > 180) {
        return {
          error: `mark-person: lonDeg ${JSON.stringify(lonDeg)} is not a number in -180..180`,
        };
      }
      return { command: { kind: 'mark-person', position: { latDeg, lonDeg } } };
    }
    case 'remove-person': {
      const { personId } = value;
      if (
        typeof personId !== 'string' ||
        personId.length === 0 ||
        personId.length > MAX_PERSON_ID_LENGTH ||
        !/^[\x21-\x7e]+$/.test(personId)
      ) {
        return {
          error: `remove-person needs a personId of 1-${MAX_PERSON_ID_LENGTH} printable characters`,
        };
      }
      return { command: { kind: 'remove-person', personId } };
    }
    case 'point-camera': {
      const pitchDeg = numberField('pitchDeg');
      if (typeof pitchDeg === 'string') return { error: pitchDeg };
      let yawDeg = 0;
      if (value.yawDeg !== undefined) {
        const yaw = numberField('yawDeg');
        if (typeof yaw === 'string') return { error: yaw };
        yawDeg = yaw;
      }
      const problem = checkPointCamera(pitchDeg, yawDeg);
      if (problem) return { error: `point-camera refused: ${problem}` };
      return { command: { kind: 'point-camera', pitchDeg, yawDeg } };
    }
    case 'look-at': {
      const targetId = numberField('targetId');
      if (typeof targetId === 'string') return { error: targetId };
      if (!Number.isInteger(targetId) || targetId < 1) {
        return { error: `look-at needs a whole number targetId from 1, not ${targetId}` };
      }
      return { command: { kind: 'look-at', targetId } };
    }
    case 'select-vehicle': {
      const systemId = numberField('systemId');
      if (typeof systemId === 'string') return { error: systemId };
      if (!Number.isInteger(systemId) || systemId < 1 || systemId > 255) {
        return { error: 'select-vehicle needs a systemId from 1 to 255' };
      }
      return { command: { kind: 'select-vehicle', systemId } };
    }
    case 'save-zone': {
      try {
        return {
          command: { kind: 'save-zone', zone: checkZoneInput(value.zone, 'save-zone: zone') },
        };
      } catch (error) {
        return { error: message(error) };
      }
    }
    case 'delete-zone':
    case 'ack-alert': {
      const field = value.kind === 'delete-zone' ? 'zoneId' : 'alertId';
      const id = numberField(field);
      if (typeof id === 'string') return { error: id };
      if (!Number.isInteger(id) || id < 1) {
        return { error: `${value.kind} needs a whole number ${field} from 1` };
      }
      return value.kind === 'delete-zone'
        ? { command: { kind: 'delete-zone', zoneId: id } }
        : { command: { kind: 'ack-alert', alertId: id } };
    }
    case 'replay':
      try {
        return { command: { kind: 'replay', control: checkReplayControl(value.control) } };
      } catch (error) {
        return { error: `replay: ${(error as Error).message}` };
      }
    default:
      return { error: `unknown command kind ${JSON.stringify(value.kind)}` };
  }
}

function parseNudge(value: unknown): { command: OperatorCommand } | { error: string } {
  if (!isRecord(value)) return { error: 'nudge needs a nudge { bearingDeltaDeg, distanceDeltaM }' };
  const nudge: PatternNudge = {};
  for (const field of ['bearingDeltaDeg', 'distanceDeltaM'] as const) {
    const delta = value[field];
    if (delta === undefined) continue;
    const limit = NUDGE_LIMITS[field];
    if (typeof delta !== 'number' || !Number.isFinite(delta) || Math.abs(delta) > limit) {
      return {
        error: `nudge ${field} ${JSON.stringify(delta)} is not a number in -${limit}..${limit}`,
      };
    }
    nudge[field] = delta;
  }
  if (nudge.bearingDeltaDeg === undefined && nudge.distanceDeltaM === undefined) {
    return { error: 'nudge needs bearingDeltaDeg or distanceDeltaM' };
  }
  return { command: { kind: 'nudge', nudge } };
}

/** The settings that matter to whoever reads the log, in a few words. */
function describePattern(settings: PatternSettings): string {
  switch (settings.kind) {
    case 'push': {
      const toward =
        settings.safeZoneId === null
          ? `${settings.safeBearingDeg.toFixed(0)} deg`
          : `safe zone ${settings.safeZoneId}`;
      return (
        `toward ${toward}, ` +
        `standoff ${settings.standoffM} m, ${settings.altitudeAglM} m AGL, ` +
        `success at ${settings.successDistanceM} m then ${settings.onSuccess}`
      );
    }
    case 'orbit':
      return (
        `radius ${settings.radiusM} m at ${settings.speedMps} m/s, ` +
        `${settings.altitudeAglM} m AGL, ` +
        (settings.clockwise ? 'clockwise' : 'counter-clockwise')
      );
    case 'zigzag':
      return (
        `across a line, ${settings.halfWidthM} m either side, legs ${settings.legSpacingM} m ` +
        `apart, ${settings.altitudeAglM} m AGL at ${settings.speedMps} m/s`
      );
    case 'search':
      return (
        `${settings.polygon.length}-corner area at ${settings.altitudeAglM} m AGL, ` +
        `${settings.overlapPct}% overlap, ${settings.speedMps} m/s`
      );
    case 'shadow':
      return (
        `${settings.offsetM} m at ${settings.offsetBearingDeg.toFixed(0)} deg from the bear, ` +
        `${settings.altitudeAglM} m AGL`
      );
  }
}

function signed(value: number, unit: string): string {
  return `${value >= 0 ? '+' : ''}${value} ${unit}`;
}

function describeCommand(command: OperatorCommand): string {
  switch (command.kind) {
    case 'arm-takeoff':
      return `arm + take off to ${command.altitudeM} m`;
    case 'start-pattern': {
      const target = command.targetId === null ? '' : ` on bear ${command.targetId}`;
      return `start ${command.settings.kind}${target}: ${describePattern(command.settings)}`;
    }
    case 'nudge': {
      const parts: string[] = [];
      if (command.nudge.bearingDeltaDeg !== undefined) {
        parts.push(`turn ${signed(command.nudge.bearingDeltaDeg, 'deg')}`);
      }
      if (command.nudge.distanceDeltaM !== undefined) {
        parts.push(`distance ${signed(command.nudge.distanceDeltaM, 'm')}`);
      }
      return `nudge: ${parts.join(', ')}`;
    }
    case 'speaker':
      return `speaker ${command.on ? 'on' : 'off'}`;
    default:
      return command.kind;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant time: comparing equal-length digests leaks neither the token nor its length. */
function tokenMatches(candidate: string | null, expected: Buffer): boolean {
  if (candidate === null) return false;
  return timingSafeEqual(digest(candidate), expected);
}

function queryToken(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://station.invalid').searchParams.get('token');
  } catch {
    return null;
  }
}

/** The decoded path, or null when it is malformed or could step outside a folder. */
function parsePath(url: string | undefined): string | null {
  if (!url || !url.startsWith('/')) return null;
  const raw = url.split('?')[0]!.split('#')[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded.split('/').some((segment) => segment === '..' || segment === '.')) return null;
  return decoded;
}

/** A file path strictly inside root, or null. Hidden files are never served. */
function resolveInside(root: string, pathname: string): string | null {
  if (pathname.split('/').some((segment) => segment.startsWith('.'))) return null;
  const file = path.resolve(root, `.${pathname}`);
  if (!file.startsWith(root + path.sep)) return null;
  return file;
}

function safePath(url: string | undefined): string {
  // Never log the operator token.
  return (url ?? '').split('?')[0]!.slice(0, 200);
}

function sendText(response: http.ServerResponse, status: number, text: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.setHeader('Cache-Control', response.getHeader('Cache-Control') ?? 'no-store');
  response.end(`${text}\n`);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function isLoopback(host: string): boolean {
  // An address in 127.0.0.0/8, not a name that merely starts with "127." (127.0.0.1.evil.org).
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

function formatHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** Origins a browser showing this station's page sends. */
function originsFor(host: string, port: number): string[] {
  const hosts = new Set<string>([host.toLowerCase()]);
  if (isLoopback(host) || isWildcard(host)) {
    for (const name of ['127.0.0.1', 'localhost', '::1']) hosts.add(name);
  }
  hosts.delete('');
  hosts.delete('0.0.0.0');
  hosts.delete('::');
  return [...hosts].map((name) => `http://${formatHost(name)}:${port}`);
}

/**
 * Refuses Host headers naming other sites, which defeats DNS rebinding. Reached through a
 * wildcard bind, any IP literal is fine: an address cannot be rebound.
 */
function hostAllowed(header: string | undefined, host: string, port: number): boolean {
  if (!header) return true;
  let hostname: string;
  let headerPort: string;
  try {
    const parsed = new URL(`http://${header}`);
    hostname = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    headerPort = parsed.port;
  } catch {
    return false;
  }
  if (headerPort !== '' && Number(headerPort) !== port) return false;
  if (hostname === host.toLowerCase()) return true;
  if ((isLoopback(host) || isWildcard(host)) && isLoopback(hostname)) return true;
  return isWildcard(host) && isIP(hostname) !== 0;
}

function imageSources(api: StationApi, extra: string[]): string[] {
  const sources = new Set<string>();
  for (const source of extra) {
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^\s;,'"]+$/i.test(source)) {
      throw new Error(`extraImgSrc entry ${JSON.stringify(source)} is not an origin`);
    }
    sources.add(source);
  }
  const tiles = api.hello('observer').tiles;
  if (tiles.kind === 'online') {
    const origin = templateOrigin(tiles.urlTemplate);
    if (origin) sources.add(origin);
    else log.warn(`cannot find the tile host in ${tiles.urlTemplate}; tiles may be blocked`);
  }
  return [...sources];
}

/** https://{s}.tile.example.org/{z}/{x}/{y}.png -> https://*.tile.example.org */
function templateOrigin(template: string): string | null {
  const match = /^(https?):\/\/([^/?#]+)/i.exec(template);
  if (!match) return null;
  const host = match[2]!.replace(/\{[a-z]+\}/gi, '*');
  if (!/^[a-z0-9*.:[\]-]+$/i.test(host)) return null;
  return `${match[1]!.toLowerCase()}://${host.toLowerCase()}`;
}

function contentSecurityPolicy(imgSources: string[], origins: string[]): string {
  // CSP has no syntax for IPv6 literals; 'self' covers the page's own origin anyway.
  const wsOrigins = origins
    .filter((origin) => !origin.includes('['))
    .map((origin) => origin.replace(/^http:/, 'ws:'));
  return [
    "default-src 'self'",
    ["img-src 'self' data: blob:", ...imgSources].join(' '),
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    ["connect-src 'self'", ...wsOrigins].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
  ].join('; ');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
