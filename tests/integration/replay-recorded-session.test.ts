// A recorded simulator session replays in step. A real station process flies the simulator
// with the demo video and the real detector, recording (tlog, video, frame table, journal,
// hazing log): take off, a confirmed bear, the hazing operator, an orbit, ABORT. What the live
// client received (frames by id, their detections, the vehicle) is kept; then a replay station
// on that tlog must show, for several frames, the same frame id, the same detections and the
// vehicle where it was, with the hazing event and the ABORT on the timeline; and a report of
// the span is written with its checksums. Needs dist/, ffmpeg and ../shared's model.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { distanceM } from '../../app/core/geodesy';
import type { ServerMessage } from '../../app/core/protocol';
import type { ReplayStatus, ReplayView } from '../../app/core/replay';
import type { GeoDetection, GlobalPosition, MapTarget } from '../../app/core/types';
import {
  stationEnv,
  stationMissing,
  StationProcess,
  YOLOX_MODEL as MODEL,
} from '../helpers/station';
import { StationClient, stationWsUrl } from '../helpers/station-client';

const TOKEN = 'replay-recorded-test-operator-token';
const WAIT_MS = 180_000;
const OPERATOR = { operatorName: 'Replay Tester', agencyOrPermitId: 'MT-FWP-REPLAY-1' };
/** The drone flies a few m/s; telemetry and the live client's clock differ by a tick or two. */
const POSITION_TOLERANCE_M = 15;
const FRAMES_CHECKED = 6;

let workDir: string;
before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-recorded-'));
});
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | null | undefined, log: () => string) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await sleep(100);
  }
}

/** What the live operator saw, without the JPEGs. */
class LiveRecord {
  readonly frames = new Map<number, number>();
  readonly detections = new Map<number, { frameTimeMs: number; detections: GeoDetection[] }>();
  readonly positions: Array<{ atMs: number; position: GlobalPosition }> = [];
  targets: MapTarget[] = [];
  altitudeRelM = 0;
  modeName = '';
  abortedEventId: string | null = null;

  constructor(client: StationClient) {
    client.onMessage((message, atMs) => {
      switch (message.type) {
        case 'frame':
          this.frames.set(message.frameId, message.frameTimeMs);
          break;
        case 'detections':
          this.detections.set(message.frameId, {
            frameTimeMs: message.frameTimeMs,
            detections: message.detections,
          });
          break;
        case 'vehicle':
          this.modeName = message.vehicle.modeName;
          if (message.vehicle.position) {
            this.positions.push({ atMs, position: message.vehicle.position });
            this.altitudeRelM = message.vehicle.position.altitudeRelM;
          }
          break;
        case 'targets':
          this.targets = message.targets;
          break;
        case 'hazing-event':
          if (message.event.outcome === 'aborted') this.abortedEventId = message.event.id;
          break;
        default:
      }
    });
  }

  /** The live vehicle position heard nearest to a wall-clock time. */
  positionNear(timeMs: number): GlobalPosition {
    let best = this.positions[0]!;
    for (const sample of this.positions) {
      if (Math.abs(sample.atMs - timeMs) < Math.abs(best.atMs - timeMs)) best = sample;
    }
    return best.position;
  }
}

async function recordSession(recordDir: string): Promise<LiveRecord> {
  const station = StationProcess.start(
    [
      ...['--sim', '--video', 'demo', '--model', MODEL, '--serve', '127.0.0.1:0'],
      ...['--token', TOKEN, '--record', recordDir, '--zones', path.join(workDir, 'z.json')],
      ...['--person-radius', '10', '--bear-standoff', '15'],
    ],
    stationEnv(workDir),
  );
  try {
    const served = await station.serveUrl(WAIT_MS);
    const client = await StationClient.open(stationWsUrl(served, TOKEN), {
      waitMs: WAIT_MS,
      keep: false,
    });
    try {
      const live = new LiveRecord(client);
      const log = () => station.log;
      const takeoff = await client.command({ kind: 'arm-takeoff', altitudeM: 20 });
      assert.equal(takeoff.ok, true, takeoff.text);
      await until('the climb past 5 m', () => (live.altitudeRelM > 5 ? true : null), log);
      const set = await client.command({ kind: 'set-operator', operator: OPERATOR });
      assert.equal(set.ok, true, set.text);
      const bear = await until(
        'a fresh bear track',
        () => live.targets.find((t) => t.className === 'bear' && Date.now() - t.lastSeenMs < 2000),
        log,
      );
      const started = await client.command({
        kind: 'start-pattern',
        targetId: bear.id,
        settings: { kind: 'orbit', radiusM: 40, speedMps: 4, altitudeAglM: 25, clockwise: true },
      });
      assert.equal(started.ok, true, started.text);
      await until('GUIDED', () => (live.modeName === 'GUIDED' ? true : null), log);
      await sleep(3000);
      const abort = await client.command({ kind: 'abort' });
      assert.equal(abort.ok, true, abort.text);
      await until('the aborted hazing event', () => live.abortedEventId, log);
      await sleep(1000);
      return live;
    } finally {
      client.close();
    }
  } finally {
    await station.stop();
  }
}

test(
  'a recorded session replays with the frame, its detections and the vehicle in step',
  { skip: stationMissing([MODEL]), timeout: 900_000 },
  async (t) => {
    const recordDir = path.join(workDir, 'record');
    const live = await recordSession(recordDir);
    const files = readdirSync(recordDir);
    const tlogName = files.find((name) => name.endsWith('.tlog'));
    assert.ok(tlogName, `no .tlog in ${files.join(', ')}`);
    const base = tlogName.replace(/\.tlog$/, '');
    for (const suffix of ['.ts', '.frames.csv', '.journal.jsonl', '.hazing.jsonl']) {
      assert.ok(files.includes(base + suffix), `${base}${suffix} in ${files.join(', ')}`);
    }
    const tlogPath = path.join(recordDir, tlogName);

    const replay = StationProcess.start(
      [
        ...['--replay', tlogPath, '--serve', '127.0.0.1:0', '--token', TOKEN],
        ...['--report-dir', path.join(workDir, 'reports')],
      ],
      stationEnv(workDir),
    );
    t.after(() => replay.stop());
    const served = await replay.serveUrl(WAIT_MS);
    const client = await StationClient.open(stationWsUrl(served, TOKEN), { waitMs: WAIT_MS });
    t.after(() => client.close());
    const ready = await client.waitFor(
      'an indexed replay',
      (m): m is Extract<ServerMessage, { type: 'replay-status' }> =>
        m.type === 'replay-status' && m.status.indexing.done,
    );
    const status: ReplayStatus = ready.status;
    assert.equal(status.error, null, status.warnings.join('; '));
    assert.ok(status.videoFrames > 0, 'the recorded video is there');
    const kinds = new Set(status.markers.map((m) => m.kind));
    for (const kind of ['hazing-start', 'abort', 'detection'] as const) {
      assert.ok(kinds.has(kind), `a ${kind} marker among ${[...kinds].join(', ')}`);
    }
    const abortMarker = status.markers.find((m) => m.kind === 'abort')!;
    assert.ok(abortMarker.axisMs > 0 && abortMarker.axisMs <= status.axisEndMs);

    // Frames the live client saw with a bear in them, spread over the session.
    const withBears = [...live.detections.entries()]
      .filter(([, d]) => d.detections.some((x) => x.className === 'bear'))
      .filter(([, d]) => d.frameTimeMs >= status.startMs! && d.frameTimeMs <= status.endMs!)
      .sort((a, b) => a[0] - b[0]);
    assert.ok(withBears.length >= FRAMES_CHECKED, `${withBears.length} frames with a bear`);
    const step = Math.floor(withBears.length / FRAMES_CHECKED);
    for (let i = 0; i < FRAMES_CHECKED; i++) {
      const [frameId, liveFrame] = withBears[i * step]!;
      const from = client.messages.length;
      const outcome = await client.command({
        kind: 'replay',
        control: { action: 'seek-time', timeMs: liveFrame.frameTimeMs },
      });
      assert.equal(outcome.ok, true, outcome.text);
      const viewMessage = await client.waitFor(
        `the view at frame ${frameId}`,
        (m): m is Extract<ServerMessage, { type: 'replay-view' }> => m.type === 'replay-view',
        from,
      );
      const view: ReplayView = viewMessage.view;
      assert.ok(Math.abs(view.timeMs - liveFrame.frameTimeMs) < 0.01, `time of ${frameId}`);
      assert.ok(view.detections, `detections at frame ${frameId}`);
      assert.equal(view.detections.frameId, frameId);
      assert.deepEqual(view.detections.detections, liveFrame.detections, `frame ${frameId}`);
      const frame = client.messages
        .slice(from)
        .find((m) => m.type === 'frame' && m.frameId === frameId);
      const snapshotFrame = frame ?? (await frameOf(served, frameId));
      assert.ok(snapshotFrame, `the frame message of ${frameId}`);
      assert.ok(view.vehicle?.position, 'the vehicle has a position');
      const offM = distanceM(view.vehicle.position, live.positionNear(liveFrame.frameTimeMs));
      assert.ok(offM < POSITION_TOLERANCE_M, `vehicle ${offM.toFixed(1)} m from the live one`);
    }

    // Steps are whole video frames: one forward shows the next recorded frame.
    const before = client.messages.length;
    const stepped = await client.command({
      kind: 'replay',
      control: { action: 'step', frames: 1 },
    });
    assert.equal(stepped.ok, true, stepped.text);
    const last = [...client.messages.slice(0, before)]
      .reverse()
      .find((m): m is Extract<ServerMessage, { type: 'replay-view' }> => m.type === 'replay-view');
    const next = await client.waitFor(
      'the view one frame on',
      (m): m is Extract<ServerMessage, { type: 'replay-view' }> => m.type === 'replay-view',
      before,
    );
    assert.equal(next.view.frameIndex, (last?.view.frameIndex ?? -2) + 1);

    // The hazing event at the ABORT, on the timeline and in the view.
    const from = client.messages.length;
    await client.command({
      kind: 'replay',
      control: { action: 'seek', axisMs: abortMarker.axisMs + 500 },
    });
    const atAbort = await client.waitFor(
      'the view after ABORT',
      (m): m is Extract<ServerMessage, { type: 'replay-view' }> => m.type === 'replay-view',
      from,
    );
    assert.ok(
      atAbort.view.hazingEvents.some((e) => e.id === live.abortedEventId),
      'the aborted hazing event is in the view',
    );

    const exported = await client.command({
      kind: 'replay',
      control: { action: 'export-report', fromAxisMs: 0, toAxisMs: status.axisEndMs },
    });
    assert.equal(exported.ok, true, exported.text);
    const urlPath = /open (\/reports\/[^/\s]+\/report\.html)/.exec(exported.text)?.[1];
    assert.ok(urlPath, exported.text);
    const folder = decodeURIComponent(urlPath.split('/')[2]!);
    const reportDir = path.join(workDir, 'reports', folder);
    for (const name of [
      'report.html',
      'report.geojson',
      'report.kml',
      'events.csv',
      'hazing-log.csv',
      'SHA256SUMS',
    ]) {
      assert.ok(existsSync(path.join(reportDir, name)), `${name} in ${reportDir}`);
    }
    // SHA256SUMS covers the report's own files; sources.sha256 the records it was made from.
    const sums = readFileSync(path.join(reportDir, 'SHA256SUMS'), 'utf8');
    const html = readFileSync(path.join(reportDir, 'report.html'));
    const htmlSha = createHash('sha256').update(html).digest('hex');
    assert.match(sums, new RegExp(`^${htmlSha}  report\\.html$`, 'm'));
    const sources = readFileSync(path.join(reportDir, 'sources.sha256'), 'utf8');
    const tlogSha = createHash('sha256').update(readFileSync(tlogPath)).digest('hex');
    assert.ok(sources.includes(tlogSha), `the tlog's checksum in sources.sha256:\n${sources}`);
    const videoSha = createHash('sha256')
      .update(readFileSync(path.join(recordDir, `${base}.ts`)))
      .digest('hex');
    assert.ok(sources.includes(videoSha), `the video's checksum in sources.sha256`);
    const page = await fetch(new URL(urlPath, served));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const pageText = await page.text();
    assert.match(pageText, /<html/i);
    // Key frames: the bear's first sighting, the hazing start and end, the ABORT; at most 12.
    const keyFrames = pageText.split('data:image/jpeg;base64,').length - 1;
    assert.ok(keyFrames >= 2 && keyFrames <= 12, `${keyFrames} key frames in the report`);
  },
);

/** A fresh client's snapshot carries the frame at the playhead. */
async function frameOf(served: string, frameId: number): Promise<ServerMessage | undefined> {
  const observer = await StationClient.open(stationWsUrl(served), { waitMs: 30_000 });
  try {
    return await observer.waitFor(
      `frame ${frameId}`,
      (m) => m.type === 'frame' && m.frameId === frameId,
    );
  } finally {
    observer.close();
  }
}
