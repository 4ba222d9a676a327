// The station server on real sockets, and the UI it serves in real Chromium, in front of a
// recording station: every command the server lets through is kept, so the tests can prove
// what observers cannot do and what each UI gesture sends.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { toDisposable, type Disposable } from '../../app/core/disposable';
import { destination, distanceM, offsetNorthEast } from '../../app/core/geodesy';
import { DEFAULT_ENVELOPE } from '../../app/core/envelope';
import { checkPatternSettings, previewPattern } from '../../app/core/patterns';
import type { OperatorCommand, Role, ServerMessage } from '../../app/core/protocol';
import type { CommandOutcome, MapTarget, VehicleState } from '../../app/core/types';
import { projectRoot } from '../../app/station/paths';
import {
  CLIENT_HEARTBEAT_INTERVAL_MS,
  startServer,
  type StationApi,
  type StationServer,
} from '../../app/station/server';
import { openTileStore, type TileStore } from '../../app/station/tiles/tile-store';
import { chromiumMissing, launchChromium, openTrackedPage } from '../helpers/browser';
import { CONRAD_MT, latLonToTile, makeTileFolder } from '../helpers/tiles';
import { flyingVehicle, scriptedHello } from '../helpers/vehicle-state';

const UI_DIR = path.join(projectRoot, 'dist', 'ui');
const ARTIFACTS = path.join(projectRoot, 'test-artifacts');
const TOKEN = 'test-operator-token-0123456789abcdef';
const HOME = { ...CONRAD_MT, altitudeMslM: 1060 };
const BEAR_ID = 7;
const noUi = existsSync(path.join(UI_DIR, 'index.html'))
  ? false
  : `${UI_DIR} is missing: run "node scripts/build.mjs" first`;

/** A station that keeps every command it is given and emits whatever the test says. */
class RecordingStation implements StationApi {
  readonly commands: OperatorCommand[] = [];
  private readonly listeners = new Set<(message: ServerMessage) => void>();
  vehicle: VehicleState = vehicleAt(offsetNorthEast(HOME, -20, 0));
  targets: MapTarget[] = [];

  hello(role: Role): Extract<ServerMessage, { type: 'hello' }> {
    return scriptedHello(role, HOME, { envelope: DEFAULT_ENVELOPE, speakerAvailable: false });
  }

  snapshot(): ServerMessage[] {
    return [
      { type: 'vehicle', vehicle: this.vehicle },
      {
        type: 'video-status',
        video: {
          label: 'test: no camera',
          state: 'running',
          framesPerSecond: 5,
          width: 640,
          height: 480,
          error: null,
        },
      },
      { type: 'targets', targets: this.targets },
      { type: 'action', action: null },
      // The hazing operator was given earlier in the session: patterns start without asking.
      {
        type: 'hazing-operator',
        operator: { operatorName: 'Test Operator', agencyOrPermitId: 'permit 1' },
      },
    ];
  }

  onMessage(listener: (message: ServerMessage) => void): Disposable {
    this.listeners.add(listener);
    return toDisposable(() => {
      this.listeners.delete(listener);
    });
  }

  async execute(command: OperatorCommand): Promise<CommandOutcome> {
    this.commands.push(command);
    // The real station's words for a successful ABORT.
    if (command.kind === 'abort') {
      return { ok: true, result: 'ACCEPTED', text: 'Holding position (BRAKE)' };
    }
    return { ok: true, result: 'ACCEPTED', text: `${command.kind} accepted` };
  }

  emit(message: ServerMessage): void {
    for (const listener of this.listeners) listener(message);
  }
}

function vehicleAt(position: { latDeg: number; lonDeg: number }): VehicleState {
  return flyingVehicle({ ...position, altitudeMslM: 1080, altitudeRelM: 20 }, HOME, {
    attitude: { rollDeg: 0, pitchDeg: 0, yawDeg: 45 },
  });
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function rawGet(
  port: number,
  requestPath: string,
  options: { method?: string; host?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: requestPath,
        method: options.method ?? 'GET',
        headers: { Host: options.host ?? `127.0.0.1:${port}` },
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end();
  });
}

/** A WebSocket client that keeps every message and can wait for one that matches. */
class TestSocket {
  readonly messages: ServerMessage[] = [];
  private waiters: Array<() => void> = [];

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as ServerMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers });
      const client = new TestSocket(socket);
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (request, response) => {
        request.destroy();
        reject(new Error(`upgrade refused with HTTP ${response.statusCode}`));
      });
      socket.once('error', reject);
    });
  }

  async next<T extends ServerMessage>(
    match: (message: ServerMessage) => message is T,
    timeoutMs = 10_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error('no matching message arrived');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(value: unknown): void {
    this.socket.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

const isType =
  <K extends ServerMessage['type']>(type: K) =>
  (message: ServerMessage): message is Extract<ServerMessage, { type: K }> =>
    message.type === type;

const resultFor =
  (requestId: string) =>
  (message: ServerMessage): message is Extract<ServerMessage, { type: 'command-result' }> =>
    message.type === 'command-result' && message.requestId === requestId;

describe('station server', { skip: noUi }, () => {
  let station: RecordingStation;
  let server: StationServer;
  let tiles: TileStore;
  let tileDir: string;

  before(async () => {
    tileDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-server-tiles-'));
    makeTileFolder(tileDir, { center: CONRAD_MT, minZoom: 15, maxZoom: 17, radiusTiles: 3 });
    tiles = openTileStore(tileDir);
    station = new RecordingStation();
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      api: station,
      operatorToken: TOKEN,
      tiles,
      uiDir: UI_DIR,
    });
  });

  after(async () => {
    await server?.dispose();
    tiles?.dispose();
    if (tileDir) rmSync(tileDir, { recursive: true, force: true });
  });

  test('refuses a short operator token and a bad image source', async () => {
    const base = { host: '127.0.0.1', port: 0, api: station, tiles: null, uiDir: UI_DIR };
    await assert.rejects(
      startServer({ ...base, operatorToken: 'short' }),
      /operator token must be at least 16 characters/,
    );
    await assert.rejects(
      startServer({
        ...base,
        operatorToken: TOKEN,
        extraImgSrc: ['https://a.example; script-src *'],
      }),
      /extraImgSrc entry .* is not an origin/,
    );
  });

  test('serves the UI with strict security headers', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(server.operatorUrl, `${server.url}?token=${TOKEN}`);
    const page = await rawGet(server.port, '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body.toString(), /<script src="app.js"/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /img-src 'self' data: blob:(;|$)/, 'offline tiles need no other image host');
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self' 'unsafe-inline'/);
    assert.match(csp, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${server.port}`));
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');

    for (const file of ['/app.js', '/app.css', '/leaflet.css']) {
      const response = await rawGet(server.port, file);
      assert.equal(response.status, 200, file);
      assert.ok(response.headers['content-security-policy'], `${file} has a CSP`);
    }
    const post = await rawGet(server.port, '/', { method: 'POST' });
    assert.equal(post.status, 405);
    const missing = await rawGet(server.port, '/nothing-here.js');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['x-content-type-options'], 'nosniff');
  });

  test('nothing outside the UI folder can be read', async () => {
    const attempts = [
      '/../package.json',
      '/../../package.json',
      '/%2e%2e/package.json',
      '/%2E%2E/%2E%2E/package.json',
      '/images/..%2f..%2f..%2fpackage.json',
      '/..%5c..%5cpackage.json',
      '/%00index.html',
      '//etc/passwd',
      '/.%2e/package.json',
      '/%252e%252e/package.json',
      'http://127.0.0.1/../package.json',
      '/tiles/../../package.json',
    ];
    for (const attempt of attempts) {
      const response = await rawGet(server.port, attempt);
      assert.ok([400, 404].includes(response.status), `${attempt} gave ${response.status}`);
      assert.doesNotMatch(response.body.toString(), /"name": "ursa"|root:/, attempt);
    }
  });

  test('a symbolic link cannot lead out of the UI folder', async () => {
    const uiDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-ui-'));
    writeFileSync(path.join(uiDir, 'index.html'), '<!doctype html><title>t</title>');
    symlinkSync(path.join(projectRoot, 'package.json'), path.join(uiDir, 'escape.json'));
    const other = await startServer({
      host: '127.0.0.1',
      port: 0,
      api: station,
      operatorToken: TOKEN,
      tiles: null,
      uiDir,
    });
    try {
      assert.equal((await rawGet(other.port, '/')).status, 200);
      const escaped = await rawGet(other.port, '/escape.json');
      assert.equal(escaped.status, 404);
      assert.doesNotMatch(escaped.body.toString(), /"name": "ursa"/);
    } finally {
      await other.dispose();
      rmSync(uiDir, { recursive: true, force: true });
    }
    await assert.rejects(
      startServer({
        host: '127.0.0.1',
        port: 0,
        api: station,
        operatorToken: TOKEN,
        tiles: null,
        uiDir: path.join(uiDir, 'gone'),
      }),
      /UI folder .* does not exist/,
    );
  });

  test('refuses requests that name another host (DNS rebinding)', async () => {
    const response = await rawGet(server.port, '/', { host: `evil.example:${server.port}` });
    assert.equal(response.status, 421);
    // A name that only looks like a loopback address is still a name someone can rebind.
    for (const host of ['127.0.0.1.evil.example', '127.evil.example', '127.0.0.1.nip.io']) {
      const lookalike = await rawGet(server.port, '/', { host: `${host}:${server.port}` });
      assert.equal(lookalike.status, 421, host);
    }
    const loopback = await rawGet(server.port, '/', { host: `localhost:${server.port}` });
    assert.equal(loopback.status, 200);
  });

  test('serves map tiles from the store with long cache headers, 404 when absent', async () => {
    const tile = latLonToTile(CONRAD_MT, 16);
    const found = await rawGet(server.port, `/tiles/16/${tile.x}/${tile.y}`);
    assert.equal(found.status, 200);
    assert.equal(found.headers['content-type'], 'image/png');
    assert.equal(found.body.readUInt32BE(0), 0x89504e47, 'a PNG');
    assert.match(String(found.headers['cache-control']), /max-age=\d{5,}/);
    assert.ok(found.headers['content-security-policy']);
    const absent = await rawGet(server.port, '/tiles/3/0/0');
    assert.equal(absent.status, 404);
    const malformed = await rawGet(server.port, '/tiles/16/x/y');
    assert.equal(malformed.status, 400);
  });

  test('WebSocket: a foreign Origin is refused, a missing one is an observer', async () => {
    const wsUrl = `ws://127.0.0.1:${server.port}/ws`;
    await assert.rejects(
      TestSocket.open(`${wsUrl}?token=${TOKEN}`, { Origin: 'http://evil.example' }),
      /HTTP 403/,
    );
    await assert.rejects(
      TestSocket.open(wsUrl, { Origin: `http://127.0.0.1:${server.port + 1}` }),
      /HTTP 403/,
    );
    await assert.rejects(TestSocket.open(`ws://127.0.0.1:${server.port}/other`), /HTTP 404/);

    const observer = await TestSocket.open(wsUrl);
    const hello = await observer.next(isType('hello'));
    assert.equal(hello.role, 'observer');
    assert.equal(hello.tokenRejected, undefined, 'no token presented, none rejected');
    await observer.next(isType('vehicle'));
    await observer.close();

    const sameOrigin = await TestSocket.open(wsUrl, { Origin: `http://127.0.0.1:${server.port}` });
    assert.equal((await sameOrigin.next(isType('hello'))).role, 'observer');
    await sameOrigin.close();
  });

  test('observers cannot command: refused, and the station never hears it', async () => {
    const before = station.commands.length;
    const wsUrl = `ws://127.0.0.1:${server.port}/ws`;
    for (const url of [wsUrl, `${wsUrl}?token=wrong-token`, `${wsUrl}?token=${TOKEN}x`]) {
      const observer = await TestSocket.open(url);
      const hello = await observer.next(isType('hello'));
      assert.equal(hello.role, 'observer', url);
      assert.equal(hello.tokenRejected, url === wsUrl ? undefined : true, url);
      for (const command of [{ kind: 'abort' }, { kind: 'arm-takeoff', altitudeM: 20 }]) {
        const requestId = `observer-${command.kind}`;
        observer.send({ type: 'command', requestId, command });
        const result = await observer.next(resultFor(requestId));
        assert.equal(result.outcome.ok, false);
        assert.equal(result.outcome.result, 'DENIED');
        assert.match(result.outcome.text, /Observers cannot command/);
      }
      await observer.close();
    }
    assert.equal(station.commands.length, before, 'execute was never called');
  });

  test('the operator commands; malformed messages get a clear answer, not a crash', async () => {
    const operator = await TestSocket.open(`ws://127.0.0.1:${server.port}/ws?token=${TOKEN}`);
    const hello = await operator.next(isType('hello'));
    assert.equal(hello.role, 'operator');
    assert.equal(hello.tokenRejected, undefined);

    operator.send({ type: 'command', requestId: 'r1', command: { kind: 'return-home' } });
    const result = await operator.next(resultFor('r1'));
    assert.deepEqual(result.outcome, {
      ok: true,
      result: 'ACCEPTED',
      text: 'return-home accepted',
    });
    assert.deepEqual(station.commands.at(-1), { kind: 'return-home' });

    const count = station.commands.length;
    operator.send('{not json');
    const notJson = await operator.next(
      (m): m is Extract<ServerMessage, { type: 'log' }> =>
        m.type === 'log' && /not JSON/.test(m.entry.text),
    );
    assert.equal(notJson.entry.level, 'error');
    operator.send({ type: 'command', requestId: 'r2', command: { kind: 'self-destruct' } });
    const unknown = await operator.next(resultFor('r2'));
    assert.equal(unknown.outcome.ok, false);
    assert.match(unknown.outcome.text, /unknown command kind "self-destruct"/);
    operator.send({
      type: 'command',
      requestId: 'r3',
      command: {
        kind: 'start-pattern',
        targetId: 1,
        settings: {
          kind: 'push',
          safeBearingDeg: 'north',
          safeZoneId: null,
          standoffM: 30,
          altitudeAglM: 25,
          successDistanceM: 200,
          onSuccess: 'hold',
        },
      },
    });
    const badPush = await operator.next(resultFor('r3'));
    assert.match(badPush.outcome.text, /safeBearingDeg "north" is not a number/);
    operator.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await operator.next(
      (m): m is Extract<ServerMessage, { type: 'log' }> =>
        m.type === 'log' && /binary messages/.test(m.entry.text),
    );
    assert.equal(station.commands.length, count, 'nothing malformed reached the station');

    operator.send({ type: 'command', requestId: 'r4', command: { kind: 'abort' } });
    assert.equal((await operator.next(resultFor('r4'))).outcome.ok, true, 'still serving');
    await operator.close();
  });

  test('a quiet station still sends heartbeats, and announces how often', async () => {
    const client = await TestSocket.open(`ws://127.0.0.1:${server.port}/ws`);
    const hello = await client.next(isType('hello'));
    assert.equal(hello.heartbeatIntervalMs, CLIENT_HEARTBEAT_INTERVAL_MS);
    const first = await client.next(isType('heartbeat'), CLIENT_HEARTBEAT_INTERVAL_MS * 3);
    assert.ok(Math.abs(first.timeMs - Date.now()) < 60_000, 'heartbeats carry the time');
    await client.close();
  });

  test('a slow client misses video frames, never vehicle state, and holds nobody up', async () => {
    // A TCP relay that stops reading from the server plays a client on a stalled network.
    const relay = await startStallingRelay(server.port);
    const headers = { Host: `127.0.0.1:${server.port}` };
    const slow = await TestSocket.open(`ws://127.0.0.1:${relay.port}/ws`, headers);
    const fast = await TestSocket.open(`ws://127.0.0.1:${server.port}/ws`);
    await slow.next(isType('hello'));
    await fast.next(isType('hello'));

    relay.stall();
    // Frames go out one at a time as a camera sends them; the healthy client keeps up.
    const frameCount = 160;
    const jpeg = Buffer.alloc(192 * 1024, 7).toString('base64');
    for (let frameId = 1; frameId <= frameCount; frameId++) {
      station.emit({ type: 'frame', frameId, frameTimeMs: Date.now(), width: 8, height: 8, jpeg });
      await fast.next(
        (m): m is Extract<ServerMessage, { type: 'frame' }> =>
          m.type === 'frame' && m.frameId === frameId,
      );
    }
    const marker = { ...station.vehicle, systemId: 42 };
    station.emit({ type: 'vehicle', vehicle: marker });

    const isMarker = (m: ServerMessage): m is Extract<ServerMessage, { type: 'vehicle' }> =>
      m.type === 'vehicle' && m.vehicle.systemId === 42;
    await fast.next(isMarker);
    assert.equal(fast.messages.filter((m) => m.type === 'frame').length, frameCount);

    relay.resume();
    await slow.next(isMarker, 60_000);
    const slowFrames = slow.messages.filter((m) => m.type === 'frame').length;
    assert.ok(slowFrames < frameCount, `the stalled client skipped frames (${slowFrames})`);

    await slow.close();
    await fast.close();
    await relay.dispose();
  });

  describe('the UI in Chromium', { skip: chromiumMissing() }, () => {
    let browser: Awaited<ReturnType<typeof launchChromium>>;
    const bear = destination(HOME, 0, 40);

    before(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      browser = await launchChromium();
      station.targets = [
        {
          id: BEAR_ID,
          className: 'bear',
          position: bear,
          score: 0.93,
          firstSeenMs: Date.now() - 5_000,
          lastSeenMs: Date.now() - 1_000,
          hits: 9,
        },
      ];
      station.emit({ type: 'targets', targets: station.targets });
    });

    after(async () => {
      await browser?.close();
    });

    test('operator: pick a direction, preview the plan, hold to confirm; Esc aborts', async () => {
      const tracked = await openTrackedPage(browser, server.operatorUrl);
      const { page } = tracked;
      try {
        await page.getByTestId('abort-button').waitFor({ timeout: 15_000 });
        assert.equal(await page.getByTestId('observer-banner').count(), 0);
        assert.equal(await page.getByTestId('status-mode').getAttribute('data-state'), 'GUIDED');

        const marker = page.locator(`.ursa-target[data-target-id="${BEAR_ID}"]`);
        await marker.waitFor({ timeout: 15_000 });
        assert.equal(await marker.getAttribute('data-class'), 'bear');
        // On a loaded machine a click can land while the map re-renders; a user taps again.
        for (let attempt = 1; attempt <= 3; attempt++) {
          await marker.click();
          const shown = await page
            .getByTestId('target-panel')
            .waitFor({ timeout: 5_000 })
            .then(() => true)
            .catch(() => false);
          if (shown) break;
        }
        assert.match(
          await page.getByTestId('target-panel').innerText(),
          /Distance from drone\s+\d+ m/,
          'the distance says from what',
        );
        await page.getByTestId('push-start').click();
        await page.getByTestId('map-pick-hint').waitFor();
        assert.match(
          await page
            .locator('label', { has: page.getByTestId('pattern-altitudeAglM') })
            .innerText(),
          /^Height above ground \(m\)/,
        );

        // Tap the map due east of the bear: the safe direction is east, about 90 degrees.
        const box = await marker.boundingBox();
        assert.ok(box);
        await page.mouse.click(box.x + box.width / 2 + 200, box.y + box.height / 2);
        const bearing = Number(await page.getByTestId('push-bearing').getAttribute('data-value'));
        assert.ok(Math.abs(bearing - 90) < 3, `bearing ${bearing} is about east`);

        const settings = checkPatternSettings({
          kind: 'push',
          safeBearingDeg: bearing,
          safeZoneId: null,
          standoffM: 30,
          altitudeAglM: 25,
          successDistanceM: 200,
          onSuccess: 'hold',
        });
        const drone = station.vehicle.position!;
        const [first] = previewPattern(settings, {
          nowMs: Date.now(),
          drone: { ...drone, altitudeAglM: drone.altitudeRelM },
          bear: { ...bear, trackId: BEAR_ID, courseDeg: null, speedMps: null, lastSeenMs: 0 },
          safeZone: null,
          camera: { horizontalFovDeg: 8, verticalFovDeg: 6, imageWidthPx: 640 },
        });
        assert.ok(first, 'the core previews a path');
        const preview = page.getByTestId('plan-target-preview');
        await preview.waitFor();
        const previewAt = {
          latDeg: Number(await preview.getAttribute('data-lat')),
          lonDeg: Number(await preview.getAttribute('data-lon')),
        };
        assert.ok(distanceM(previewAt, first) < 0.5, 'the preview starts where the core says');
        assert.equal(await page.locator('.ursa-safe-arrow.ursa-preview').count(), 1);
        await page.screenshot({ path: path.join(ARTIFACTS, 'ui-push-preview.png') });

        const confirm = page.getByTestId('pattern-confirm');
        const pushes = () => station.commands.filter((c) => c.kind === 'start-pattern').length;
        await confirm.click();
        // A click does nothing, so the button says what would.
        assert.equal(await confirm.getAttribute('data-hint'), 'true');
        assert.equal(await confirm.innerText(), 'Press and hold to confirm');
        await page.waitForTimeout(2_000);
        assert.equal(pushes(), 0, 'a click is not a hold');
        await page.waitForFunction(
          () =>
            !document.querySelector('[data-testid="pattern-confirm"]')?.hasAttribute('data-hint'),
        );
        assert.equal(await confirm.innerText(), 'Hold to start push', 'the hint goes away');

        const confirmBox = await confirm.boundingBox();
        assert.ok(confirmBox);
        await page.mouse.move(confirmBox.x + confirmBox.width / 2, confirmBox.y + 30);
        await page.mouse.down();
        await page.waitForTimeout(700);
        await page.mouse.up();
        await page.waitForTimeout(1_500);
        assert.equal(pushes(), 0, 'releasing early cancels');

        await page.mouse.down();
        await page.waitForFunction(
          () =>
            Number(
              document
                .querySelector('[data-testid="pattern-confirm"]')
                ?.getAttribute('data-progress'),
            ) > 0.3,
        );
        await page.screenshot({ path: path.join(ARTIFACTS, 'ui-push-holding.png') });
        await page.getByTestId('toast').first().waitFor({ timeout: 10_000 });
        await page.mouse.up();
        assert.equal(pushes(), 1);
        const push = station.commands.at(-1);
        assert.deepEqual(push, { kind: 'start-pattern', targetId: BEAR_ID, settings });

        // The station's words already start with the command's: the label is not repeated.
        assert.match(
          await page.getByTestId('toast').first().innerText(),
          /^✓ start-pattern accepted$/,
        );
        await page.keyboard.press('Escape');
        await page.waitForFunction(
          () => document.querySelectorAll('[data-testid="toast"]').length >= 2,
        );
        assert.deepEqual(station.commands.at(-1), { kind: 'abort' });
        // The command's name once, then the station's words: no "OK", no repetition. The
        // newest toast is on top.
        const abortToast = page.getByTestId('toast').first();
        assert.equal(await abortToast.innerText(), '✓ ABORT: Holding position (BRAKE)');
        assert.equal(await abortToast.getAttribute('data-result'), 'ACCEPTED');
        // Pressed again (as people do), the same toast counts up instead of stacking.
        const aborts = station.commands.length;
        await page.keyboard.press('Escape');
        await page.getByTestId('toast-count').waitFor();
        assert.equal(station.commands.length, aborts + 1);
        assert.equal(await page.getByTestId('toast').count(), 2);
        assert.equal(
          await page.getByTestId('toast').first().innerText(),
          '✓ ABORT: Holding position (BRAKE) ×2',
        );

        await page.getByTestId('takeoff-button').click();
        await page.getByTestId('toast').filter({ hasText: 'Arm + take off' }).waitFor();
        // Two at most, in the map's corner: the oldest made way.
        assert.equal(await page.getByTestId('toast').count(), 2);
        assert.deepEqual(station.commands.at(-1), { kind: 'arm-takeoff', altitudeM: 20 });

        assert.deepEqual(tracked.errors, []);
        assert.deepEqual(tracked.blocked, []);
        assert.ok(
          tracked.requests.some((url) => url.includes('/tiles/')),
          'tiles were loaded',
        );
      } finally {
        await tracked.dispose();
      }
    });

    test('observer: sees the map, video and targets, but no command controls', async () => {
      const count = station.commands.length;
      const tracked = await openTrackedPage(browser, server.url);
      const { page } = tracked;
      try {
        await page.getByTestId('observer-banner').waitFor({ timeout: 15_000 });
        assert.match(await page.getByTestId('observer-banner').innerText(), /Observer: view only/);
        await page.locator('.ursa-drone').waitFor();
        const marker = page.locator(`.ursa-target[data-target-id="${BEAR_ID}"]`);
        await marker.click();
        await page.getByTestId('target-panel').waitFor();
        for (const testId of [
          'abort-button',
          'takeoff-button',
          'return-home-button',
          'push-start',
        ]) {
          assert.equal(await page.getByTestId(testId).count(), 0, `${testId} is hidden`);
        }
        await page.keyboard.press('Escape');
        await page.waitForTimeout(500);
        assert.equal(station.commands.length, count, 'Escape sends nothing for an observer');
        await page.screenshot({ path: path.join(ARTIFACTS, 'ui-observer.png') });
        assert.deepEqual(tracked.errors, []);
        assert.deepEqual(tracked.blocked, []);
      } finally {
        await tracked.dispose();
      }
    });

    test('a lost link is shown loudly', async () => {
      const tracked = await openTrackedPage(browser, server.operatorUrl);
      const { page } = tracked;
      try {
        await page.getByTestId('status-link').waitFor({ timeout: 15_000 });
        station.vehicle = { ...station.vehicle, link: 'lost', lastHeartbeatMs: Date.now() - 6_000 };
        station.emit({ type: 'vehicle', vehicle: station.vehicle });
        await page.getByTestId('link-lost-banner').waitFor();
        assert.equal(await page.getByTestId('status-link').getAttribute('data-state'), 'lost');
        assert.match(await page.getByTestId('status-link').innerText(), /LOST/);
        // What the vehicle last said is no longer live: nothing of it may look healthy.
        for (const testId of VEHICLE_TILES) {
          assert.deepEqual(await tileLook(page, testId), { stale: 'true', tone: 'tone-stale' });
        }
        assert.equal(await page.locator('.ursa-drone').getAttribute('data-stale'), 'true');
        await page.screenshot({ path: path.join(ARTIFACTS, 'ui-link-lost.png') });

        station.vehicle = { ...station.vehicle, link: 'connected', lastHeartbeatMs: Date.now() };
        station.emit({ type: 'vehicle', vehicle: station.vehicle });
        await page.getByTestId('link-lost-banner').waitFor({ state: 'detached' });
        assert.deepEqual(await tileLook(page, 'status-battery'), {
          stale: null,
          tone: 'tone-good',
        });
        assert.deepEqual(await tileLook(page, 'status-gps'), { stale: null, tone: 'tone-good' });
        assert.equal(await page.locator('.ursa-drone').getAttribute('data-stale'), 'false');
      } finally {
        station.vehicle = { ...station.vehicle, link: 'connected', lastHeartbeatMs: Date.now() };
        station.emit({ type: 'vehicle', vehicle: station.vehicle });
        await tracked.dispose();
      }
    });

    test('the UI shows a lost station loudly and reconnects by itself', async () => {
      const tracked = await openTrackedPage(browser, server.operatorUrl);
      const { page } = tracked;
      try {
        await page.getByTestId('abort-button').waitFor({ timeout: 15_000 });
        const { port } = server;
        await server.dispose();
        await page.getByTestId('station-lost-banner').waitFor({ timeout: 15_000 });
        assert.equal(await attributeOf(page, 'status-station', 'data-state'), 'closed');
        await assertAllStale(page);
        await page.screenshot({ path: path.join(ARTIFACTS, 'ui-station-lost.png') });
        server = await startServer({
          host: '127.0.0.1',
          port,
          api: station,
          operatorToken: TOKEN,
          tiles,
          uiDir: UI_DIR,
        });
        await page
          .getByTestId('station-lost-banner')
          .waitFor({ state: 'detached', timeout: 30_000 });
        assert.equal(await attributeOf(page, 'status-station', 'data-state'), 'open');
        assert.equal(await page.getByTestId('abort-button').count(), 1, 'still the operator');
        await assertAllLive(page);
      } finally {
        await tracked.dispose();
      }
    });

    test('a station that falls silent counts as lost, and comes back', async () => {
      // A relay in the browser that can swallow everything the station says: a network that
      // drops without closing the socket.
      let silent = false;
      const relay = async (context: BrowserContext): Promise<void> => {
        await context.routeWebSocket(/\/ws/, (page) => {
          const upstream = page.connectToServer();
          upstream.onMessage((message) => {
            if (!silent) page.send(message);
          });
        });
      };
      const tracked = await openTrackedPage(browser, server.operatorUrl, undefined, relay);
      const { page } = tracked;
      try {
        await page.getByTestId('abort-button').waitFor({ timeout: 15_000 });
        await assertAllLive(page);
        silent = true;
        await page
          .getByTestId('station-lost-banner')
          .waitFor({ timeout: CLIENT_HEARTBEAT_INTERVAL_MS * 10 });
        await assertAllStale(page);
        assert.match(
          await page.getByTestId('log').innerText(),
          /The station has not been heard from/,
        );
        silent = false;
        await page
          .getByTestId('station-lost-banner')
          .waitFor({ state: 'detached', timeout: 30_000 });
        await assertAllLive(page);
      } finally {
        await tracked.dispose();
      }
    });

    test('a wrong token says so: view only, not silently', async () => {
      const tracked = await openTrackedPage(
        browser,
        `${server.url}?token=not-the-right-token-1234`,
      );
      const { page } = tracked;
      try {
        const banner = page.getByTestId('observer-banner');
        await banner.waitFor({ timeout: 15_000 });
        assert.equal(await banner.innerText(), 'Operator token not accepted: view only');
        assert.equal(await banner.getAttribute('data-token-rejected'), 'true');
        assert.equal(await page.getByTestId('abort-button').count(), 0);
        await page.screenshot({ path: path.join(ARTIFACTS, 'ui-token-rejected.png') });
      } finally {
        await tracked.dispose();
      }
    });

    test('a card for a target that left the map closes itself', async () => {
      const tracked = await openTrackedPage(browser, server.operatorUrl);
      const { page } = tracked;
      const targets = station.targets;
      try {
        const marker = page.locator(`.ursa-target[data-target-id="${BEAR_ID}"]`);
        await marker.click({ timeout: 15_000 });
        await page.getByTestId('push-start').waitFor();
        station.targets = [];
        station.emit({ type: 'targets', targets: [] });
        await page.getByTestId('target-gone').waitFor();
        assert.equal(await page.getByTestId('target-close').count(), 1, 'it can be closed now');
        const goneMs = Date.now();
        await page.getByTestId('target-panel').waitFor({ state: 'detached', timeout: 15_000 });
        const shownMs = Date.now() - goneMs;
        assert.ok(shownMs >= 3_000, `the card stayed long enough to read (${shownMs} ms)`);
      } finally {
        station.targets = targets;
        station.emit({ type: 'targets', targets });
        await tracked.dispose();
      }
    });

    test('the drone stays on top, big, and out from under the video panel', async () => {
      const tracked = await openTrackedPage(browser, server.operatorUrl);
      const { page } = tracked;
      const vehicle = station.vehicle;
      try {
        const drone = page.locator('.ursa-drone');
        await drone.waitFor({ timeout: 15_000 });
        const zIndex = (pane: string): Promise<number> =>
          page.evaluate(
            (name) => Number(getComputedStyle(document.querySelector(name)!).zIndex),
            pane,
          );
        const droneZ = await zIndex('.leaflet-ursa-drone-pane');
        for (const pane of ['.leaflet-marker-pane', '.leaflet-ursa-plan-pane']) {
          assert.ok(droneZ > (await zIndex(pane)), `the drone draws above ${pane}`);
        }
        const size = await drone.boundingBox();
        assert.ok(size && size.width >= 56, `the drone icon is big (${size?.width} px)`);

        // The map's scale from two known points: the bear and the drone, on one meridian.
        const bearBox = await page
          .locator(`.ursa-target[data-target-id="${BEAR_ID}"]`)
          .boundingBox();
        const droneBox = await drone.boundingBox();
        assert.ok(bearBox && droneBox);
        const metresPerPx =
          distanceM(station.targets[0]!.position, vehicle.position!) /
          (centre(droneBox).y - centre(bearBox).y);
        assert.ok(metresPerPx > 0.05 && metresPerPx < 5, `scale ${metresPerPx} m/px`);

        // Fly to the inner top-right corner of the video panel, near enough the middle of the
        // map that following the whole view would not pan: the drone must not stay under it.
        const panel = await page.getByTestId('video-panel').boundingBox();
        assert.ok(panel);
        const moveTo = async (eastPx: number, southPx: number): Promise<void> => {
          const from = station.vehicle.position!;
          const to = offsetNorthEast(from, -southPx * metresPerPx, eastPx * metresPerPx);
          station.vehicle = vehicleAt(to);
          station.emit({ type: 'vehicle', vehicle: station.vehicle });
          await page.waitForFunction(
            (lat) => document.querySelector('.ursa-drone')?.getAttribute('data-lat') === lat,
            to.latDeg.toFixed(7),
          );
          await page.waitForTimeout(1_000);
        };
        const before = centre((await drone.boundingBox())!);
        const corner = { x: panel.x + panel.width - 40, y: panel.y + 40 };
        await moveTo(corner.x - before.x, corner.y - before.y);
        const map = await page.getByTestId('map').boundingBox();
        let now = (await drone.boundingBox())!;
        assert.ok(map && !overlaps(now, panel), 'the drone is not under the video panel');
        assert.ok(inside(now, map), 'the drone is on the map');
        await page.screenshot({ path: path.join(ARTIFACTS, 'ui-drone-followed.png') });

        // The operator pans the map away: it stays put while the drone flies, until asked.
        await page.mouse.move(map.x + map.width - 150, map.y + 150);
        await page.mouse.down();
        await page.mouse.move(map.x + map.width - 250, map.y + 250, { steps: 8 });
        await page.mouse.up();
        await page.locator('[data-testid="map-follow"][data-on="false"]').waitFor();
        // Leaflet's drag inertia keeps the map gliding a moment after the mouse is released.
        // The bear stands still on the ground, so its marker shows whether the map moves.
        const bearMarker = page.locator(`.ursa-target[data-target-id="${BEAR_ID}"]`);
        let anchor = (await bearMarker.boundingBox())!;
        for (let settledReads = 0; settledReads < 3;) {
          await page.waitForTimeout(200);
          const next = (await bearMarker.boundingBox())!;
          const still = Math.abs(next.x - anchor.x) < 0.5 && Math.abs(next.y - anchor.y) < 0.5;
          settledReads = still ? settledReads + 1 : 0;
          anchor = next;
        }
        const panned = (await drone.boundingBox())!;
        await moveTo(-300, 200);
        now = (await drone.boundingBox())!;
        const anchorAfter = (await bearMarker.boundingBox())!;
        assert.ok(
          Math.abs(anchorAfter.x - anchor.x) < 1 && Math.abs(anchorAfter.y - anchor.y) < 1,
          'the map did not pan',
        );
        // The drone moved on screen instead, left and down (the scale is only approximate).
        assert.ok(centre(panned).x - centre(now).x > 200, 'the drone moved left on screen');
        assert.ok(centre(now).y - centre(panned).y > 130, 'the drone moved down on screen');
        await page.getByTestId('map-follow').click();
        await page.locator('[data-testid="map-follow"][data-on="true"]').waitFor();
        await page.waitForTimeout(1_000);
        now = (await drone.boundingBox())!;
        assert.ok(!overlaps(now, panel) && inside(now, map), 'following again brings it back');
        assert.deepEqual(tracked.errors, []);
      } finally {
        station.vehicle = vehicle;
        station.emit({ type: 'vehicle', vehicle });
        await tracked.dispose();
      }
    });
  });
});

const VEHICLE_TILES = [
  'status-mode',
  'status-armed',
  'status-altitude',
  'status-battery',
  'status-gps',
];

async function tileLook(
  page: Page,
  testId: string,
): Promise<{ stale: string | null; tone: string | undefined }> {
  const tile = page.getByTestId(testId);
  const classes = ((await tile.getAttribute('class')) ?? '').split(/\s+/);
  return {
    stale: await tile.getAttribute('data-stale'),
    tone: classes.find((name) => name.startsWith('tone-')),
  };
}

/** The station is out of reach: no tile may claim a live, healthy value. */
async function assertAllStale(page: Page): Promise<void> {
  for (const testId of ['status-link', 'status-video', ...VEHICLE_TILES]) {
    assert.deepEqual(await tileLook(page, testId), { stale: 'true', tone: 'tone-stale' }, testId);
  }
  assert.equal(await page.getByTestId('status-link').locator('.status-value').innerText(), '?');
  assert.equal(await page.getByTestId('status-video').locator('.status-value').innerText(), '?');
  assert.equal(await page.getByTestId('video-panel').getAttribute('data-stale'), 'true');
  assert.equal(await page.getByTestId('video-fps').innerText(), 'not live');
  assert.equal(await page.locator('.ursa-drone').getAttribute('data-stale'), 'true');
  assert.equal(await page.getByTestId('takeoff-button').isDisabled(), true);
}

async function assertAllLive(page: Page): Promise<void> {
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="status-link"]')?.textContent?.includes('OK'),
  );
  for (const testId of ['status-link', 'status-video', ...VEHICLE_TILES]) {
    assert.equal((await tileLook(page, testId)).stale, null, testId);
  }
  assert.equal(await page.getByTestId('status-link').getAttribute('data-state'), 'connected');
  assert.equal(
    await page.getByTestId('status-video').locator('.status-value').innerText(),
    '5.0 fps',
  );
  assert.equal(await page.getByTestId('video-panel').getAttribute('data-stale'), null);
  assert.equal(await page.locator('.ursa-drone').getAttribute('data-stale'), 'false');
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

function centre(box: Box): { x: number; y: number } {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function inside(a: Box, b: Box): boolean {
  return (
    a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height
  );
}

function attributeOf(page: Page, testId: string, name: string): Promise<string | null> {
  return page.getByTestId(testId).getAttribute(name);
}

interface StallingRelay extends Disposable {
  port: number;
  stall(): void;
  resume(): void;
}

async function startStallingRelay(targetPort: number): Promise<StallingRelay> {
  const upstreams = new Set<net.Socket>();
  let stalled = false;
  const relay = net.createServer((downstream) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    upstreams.add(upstream);
    downstream.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => downstream.write(chunk));
    if (stalled) upstream.pause();
    const close = (): void => {
      upstreams.delete(upstream);
      upstream.destroy();
      downstream.destroy();
    };
    upstream.on('close', close).on('error', close);
    downstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as AddressInfo).port,
    stall() {
      stalled = true;
      for (const upstream of upstreams) upstream.pause();
    },
    resume() {
      stalled = false;
      for (const upstream of upstreams) upstream.resume();
    },
    dispose: () =>
      new Promise<void>((resolve) => {
        for (const upstream of upstreams) upstream.destroy();
        relay.close(() => resolve());
      }),
  };
}
