// The one typed client of the station: the rest of the UI reads state from here and sends
// commands through here, never touching the WebSocket itself.

import type { HazingEvent, HazingOperator } from '../../core/hazing-log';
import { LOG_LIMIT, mergeAlert, mergeHazingEvent } from '../../core/screen-fold';
import type {
  ActionStatus,
  KnownPerson,
  LinkHealth,
  LogEntry,
  OperatorCommand,
  Role,
  ServerMessage,
  VideoStatus,
} from '../../core/protocol';
import type { ReplayControl, ReplayStatus, ReplayView } from '../../core/replay';
import type { CommandOutcome, MapTarget, VehicleState } from '../../core/types';
import type { ProtectedZone, ZoneAlert } from '../../core/zones';

export type HelloMessage = Extract<ServerMessage, { type: 'hello' }>;
export type FrameMessage = Extract<ServerMessage, { type: 'frame' }>;
export type DetectionsMessage = Extract<ServerMessage, { type: 'detections' }>;
export type VehiclesMessage = Extract<ServerMessage, { type: 'vehicles' }>;
export type SimTruthMessage = Extract<ServerMessage, { type: 'sim-truth' }>;

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface StationState {
  /** The WebSocket to the station, not the vehicle's link; open once the station said hello. */
  connection: ConnectionState;
  role: Role | null;
  hello: HelloMessage | null;
  vehicle: VehicleState | null;
  /** Every vehicle the station hears, and which one is active. */
  vehicles: VehiclesMessage | null;
  /** Health of each vehicle link: rates, loss, time since the last heartbeat. */
  links: LinkHealth[];
  video: VideoStatus | null;
  frame: FrameMessage | null;
  detections: DetectionsMessage | null;
  targets: MapTarget[];
  action: ActionStatus | null;
  /** Newest last, at most LOG_LIMIT entries. */
  log: LogEntry[];
  zones: ProtectedZone[];
  /** Alerts heard on this connection, oldest first: open ones, and acknowledged ones as such. */
  alerts: ZoneAlert[];
  /** The simulated bear's true position (built-in simulator only); null otherwise. */
  simTruth: SimTruthMessage['bear'] | null;
  /** Every person the safety envelope keeps clear of: detected and marked. */
  people: KnownPerson[];
  /** Who hazes under which authority; null until the operator has said. */
  hazingOperator: HazingOperator | null;
  /** This session's hazing log entries, newest state of each, oldest first. */
  hazingEvents: HazingEvent[];
  /** The replay's file, timeline and playback (replay stations only); null when live. */
  replay: ReplayStatus | null;
  /** Everything at the replay's playhead, as last sent; null when live or before the first. */
  replayView: ReplayView | null;
}

export interface StationClient {
  getState(): StationState;
  /** Called after every state change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  command(command: OperatorCommand): Promise<CommandOutcome>;
  /** Moves the replay's playhead, or exports its report (replay stations only). */
  replay(control: ReplayControl): Promise<CommandOutcome>;
  dispose(): void;
}

export interface ClientOptions {
  /** The /ws URL; defaults to the page's own origin. */
  url?: string;
  /** The operator token; defaults to the page URL's `token` query parameter. */
  token?: string | null;
  commandTimeoutMs?: number;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;
/** Heartbeat periods of silence after which the station counts as lost. */
const SILENT_HEARTBEATS = 4;
/** A socket that opens but never brings a hello is no connection to the station. */
const GREETING_TIMEOUT_MS = 10_000;
const WATCHDOG_CHECK_MS = 1_000;
// Take-off waits for the vehicle's acknowledgement; leave the station room to time out first.
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

const INITIAL_STATE: StationState = {
  connection: 'connecting',
  role: null,
  hello: null,
  vehicle: null,
  vehicles: null,
  links: [],
  video: null,
  frame: null,
  detections: null,
  targets: [],
  action: null,
  log: [],
  zones: [],
  alerts: [],
  simTruth: null,
  people: [],
  hazingOperator: null,
  hazingEvents: [],
  replay: null,
  replayView: null,
};

interface PendingCommand {
  resolve: (outcome: CommandOutcome) => void;
  timer: ReturnType<typeof setTimeout>;
}

export function stationUrl(location: Location, token: string | null): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${scheme}//${location.host}/ws${query}`;
}

export function connectStation(options: ClientOptions = {}): StationClient {
  const token =
    options.token !== undefined
      ? options.token
      : new URLSearchParams(window.location.search).get('token');
  const url = options.url ?? stationUrl(window.location, token);
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;

  let state: StationState = INITIAL_STATE;
  const listeners = new Set<() => void>();
  const pending = new Map<string, PendingCommand>();
  let socket: WebSocket | null = null;
  let retryMs = FIRST_RETRY_MS;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let watchdog: ReturnType<typeof setInterval> | null = null;
  let lastMessageMs = 0;
  let disposed = false;
  let requestCounter = 0;

  function update(patch: Partial<StationState>): void {
    state = { ...state, ...patch };
    for (const listener of listeners) listener();
  }

  function appendLog(entry: LogEntry): void {
    const log = state.log.length >= LOG_LIMIT ? state.log.slice(1 - LOG_LIMIT) : state.log.slice();
    log.push(entry);
    update({ log });
  }

  function localLog(level: LogEntry['level'], text: string): void {
    appendLog({ timeMs: Date.now(), level, text });
  }

  function settle(requestId: string, outcome: CommandOutcome): void {
    const request = pending.get(requestId);
    if (!request) return;
    pending.delete(requestId);
    clearTimeout(request.timer);
    request.resolve(outcome);
  }

  function handle(message: ServerMessage): void {
    switch (message.type) {
      case 'hello': {
        // Only a greeted socket counts as a connection: an open one may still be a dead end.
        const intervalMs = message.heartbeatIntervalMs;
        if (intervalMs !== undefined && intervalMs > 0) watch(intervalMs * SILENT_HEARTBEATS);
        else stopWatching();
        retryMs = FIRST_RETRY_MS;
        // The snapshot that follows brings the alerts still open; ids may be a new station's.
        update({ hello: message, role: message.role, connection: 'open', alerts: [] });
        if (!message.replay) update({ replay: null, replayView: null });
        return;
      }
      case 'heartbeat':
        return;
      case 'vehicle':
        update({ vehicle: message.vehicle });
        return;
      case 'vehicles':
        update({ vehicles: message });
        return;
      case 'links':
        update({ links: message.links });
        return;
      case 'video-status':
        update({ video: message.video });
        return;
      case 'frame':
        update({ frame: message });
        return;
      case 'detections':
        update({ detections: message });
        return;
      case 'targets':
        update({ targets: message.targets });
        return;
      case 'action':
        update({ action: message.action });
        return;
      case 'log':
        appendLog(message.entry);
        return;
      case 'zones':
        update({ zones: message.zones });
        return;
      case 'alert':
        update({ alerts: mergeAlert(state.alerts, message.alert) });
        return;
      case 'people':
        update({ people: message.people });
        return;
      case 'hazing-operator':
        update({ hazingOperator: message.operator });
        return;
      case 'hazing-event':
        update({ hazingEvents: mergeHazingEvent(state.hazingEvents, message.event) });
        return;
      case 'sim-truth':
        update({ simTruth: message.bear });
        return;
      case 'command-result':
        settle(message.requestId, message.outcome);
        return;
      case 'replay-status':
        update({ replay: message.status });
        return;
      case 'replay-view': {
        // The picture at the playhead replaces the live state whole: nothing of an earlier
        // moment may linger on screen after a seek.
        const view = message.view;
        update({
          replayView: view,
          vehicle: view.vehicle,
          targets: view.targets,
          detections: view.detections ? { type: 'detections', ...view.detections } : null,
          action: view.action,
          zones: view.zones,
          alerts: view.alerts,
          people: view.people,
          hazingOperator: view.hazingOperator,
          hazingEvents: view.hazingEvents,
          log: view.log.slice(-LOG_LIMIT),
        });
        return;
      }
      default:
        localLog('warn', `Unknown message from the station: ${JSON.stringify(message)}`);
    }
  }

  /**
   * A network that drops without closing the socket leaves it open and silent for minutes;
   * the server's heartbeats make that silence visible.
   */
  function watch(silentLimitMs: number): void {
    stopWatching();
    const ws = socket;
    if (!ws) return;
    watchdog = setInterval(() => {
      if (Date.now() - lastMessageMs <= silentLimitMs) return;
      ws.close(4000, 'station silent');
      const silentS = Math.round(silentLimitMs / 1000);
      lose(ws, `The station has not been heard from for ${silentS} s; reconnecting.`);
    }, WATCHDOG_CHECK_MS);
  }

  function stopWatching(): void {
    if (watchdog) clearInterval(watchdog);
    watchdog = null;
  }

  /** Ends a socket for good, whether it closed or went silent; later events from it are ignored. */
  function lose(ws: WebSocket, reason: string): void {
    if (socket !== ws) return;
    socket = null;
    stopWatching();
    // Commands in flight may or may not have reached the vehicle: say so.
    for (const requestId of [...pending.keys()]) {
      settle(requestId, {
        ok: false,
        result: 'TIMEOUT',
        text: 'The connection to the station closed before it answered.',
      });
    }
    if (disposed) return;
    const wasOpen = state.connection === 'open';
    update({ connection: 'closed' });
    if (wasOpen) localLog('error', reason);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }

  function connect(): void {
    if (disposed) return;
    update({ connection: 'connecting' });
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      lastMessageMs = Date.now();
      watch(GREETING_TIMEOUT_MS);
    };
    ws.onmessage = (event: MessageEvent) => {
      if (socket !== ws || typeof event.data !== 'string') return;
      lastMessageMs = Date.now();
      let message: ServerMessage;
      try {
        message = JSON.parse(event.data) as ServerMessage;
      } catch {
        localLog('error', 'The station sent a message that is not JSON');
        return;
      }
      handle(message);
    };
    ws.onclose = () => lose(ws, 'Lost the connection to the station; reconnecting.');
  }

  function nextRequestId(): string {
    requestCounter += 1;
    const random = Math.random().toString(36).slice(2, 10);
    return `${Date.now().toString(36)}-${requestCounter}-${random}`;
  }

  connect();

  const client: StationClient = {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    command(command) {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        return Promise.resolve({
          ok: false,
          result: 'NOT_SENT',
          text: 'Not connected to the station.',
        });
      }
      const requestId = nextRequestId();
      const ws = socket;
      return new Promise<CommandOutcome>((resolve) => {
        const timer = setTimeout(() => {
          settle(requestId, {
            ok: false,
            result: 'TIMEOUT',
            text: `The station did not answer ${command.kind} in time.`,
          });
        }, commandTimeoutMs);
        pending.set(requestId, { resolve, timer });
        ws.send(JSON.stringify({ type: 'command', requestId, command }));
      });
    },
    dispose() {
      disposed = true;
      stopWatching();
      if (retryTimer) clearTimeout(retryTimer);
      socket?.close(1000, 'page closed');
      for (const requestId of [...pending.keys()]) {
        settle(requestId, { ok: false, result: 'NOT_SENT', text: 'The page was closed.' });
      }
      listeners.clear();
    },
    replay(control) {
      return client.command({ kind: 'replay', control });
    },
  };
  return client;
}
