// A real replay station process (`--replay FILE.tlog --serve`) on a shared real log that has a
// long gap and two sessions written over each other, driven over the real WebSocket: the
// timeline's breaks and markers, seeks that match the log read in this test, playing at 20x,
// vehicle commands refused, observers kept off the playhead, and no UDP socket or serial port
// opened by the process. Needs dist/ (node scripts/build.mjs).

import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { ServerMessage } from '../../app/core/protocol';
import type { ReplayStatus, ReplayView } from '../../app/core/replay';
import { sharedDir } from '../../app/station/paths';
import { ReplaySession } from '../../app/station/replay/replay-session';
import { TlogIndex } from '../../app/station/replay/tlog-index';
import { stationEnv, stationMissing, StationProcess, runStation } from '../helpers/station';
import { StationClient, stationWsUrl } from '../helpers/station-client';

const TLOG = path.join(sharedDir(), 'fixtures', 'tlog', 'olivieri_20211208-151717.tlog');
const TOKEN = 'replay-station-test-operator-token';
const WAIT_MS = 60_000;
const REFUSED = 'Replay never commands a vehicle.';

let workDir: string;
let station: StationProcess;
let operator: StationClient;
let served: string;
let index: TlogIndex;
let status: ReplayStatus;

const skip = stationMissing([TLOG]);

before(async () => {
  if (skip) return;
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-station-'));
  station = StationProcess.start(
    [
      ...['--replay', TLOG, '--serve', '127.0.0.1:0', '--token', TOKEN],
      ...['--report-dir', path.join(workDir, 'reports'), '--events', '-'],
    ],
    stationEnv(workDir),
  );
  served = await station.serveUrl(WAIT_MS);
  operator = await StationClient.open(stationWsUrl(served, TOKEN), { waitMs: WAIT_MS });
  index = await TlogIndex.build(TLOG);
  const ready = await operator.waitFor(
    'an indexed replay-status',
    (m): m is Extract<ServerMessage, { type: 'replay-status' }> =>
      m.type === 'replay-status' && m.status.indexing.done,
  );
  status = ready.status;
});

after(async () => {
  operator?.close();
  await station?.stop();
  index?.dispose();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** The newest replay-view heard after `from` whose playhead is at axisMs. */
function viewAt(axisMs: number, from: number): Promise<ReplayView> {
  return operator
    .waitFor(
      `a replay-view at ${axisMs} ms`,
      (m): m is Extract<ServerMessage, { type: 'replay-view' }> =>
        m.type === 'replay-view' && Math.abs(m.view.positionAxisMs - axisMs) < 1e-6,
      from,
    )
    .then((m) => m.view);
}

/**
 * What the replay must show at axisUs, read from the log here: in a break, the picture at its
 * start; in a gap the link judged at the time inside it, in a jump back at the time it began.
 */
function expectedVehicle(axisUs: number) {
  const { inBreak, timeUs } = index.timeline.axisToTimeUs(axisUs);
  const at = inBreak ? inBreak.axisStartUs : axisUs;
  const nowUs = inBreak?.kind === 'jump-back' ? inBreak.fromUs : timeUs;
  const read = index.vehicleAt(at, nowUs);
  return JSON.parse(JSON.stringify(read)) as ReturnType<TlogIndex['vehicleAt']>;
}

test('hello says replay; the status holds the log breaks and markers', { skip }, async () => {
  const hello = await operator.waitFor('hello', (m) => m.type === 'hello');
  assert.ok(hello.type === 'hello');
  assert.equal(hello.replay, true);
  assert.equal(hello.role, 'operator');
  assert.equal(status.error, null);
  assert.equal(status.file, TLOG);
  assert.deepEqual(status.breaks, index.timeline.replayBreaks());
  const kinds = status.breaks.map((b) => b.kind).sort();
  assert.deepEqual(kinds, ['gap', 'jump-back', 'jump-back']);
  const gap = status.breaks.find((b) => b.kind === 'gap')!;
  assert.equal(gap.axisEndMs - gap.axisStartMs, 60_000, 'a long gap takes 60 s of axis');
  assert.equal(status.axisEndMs, index.timeline.axisEndUs / 1000);
  // The earliest and latest record: after a jump back not the first and last in the file.
  assert.equal(status.startMs, index.timeline.minUs / 1000);
  assert.equal(status.endMs, index.timeline.maxUs / 1000);
  assert.ok(status.startMs! < index.timeline.startUs / 1000, 'a later session starts earlier');
  // Without a journal the markers are the log's own, on the same axis.
  assert.deepEqual(status.markers, JSON.parse(JSON.stringify(index.markers)));
  assert.ok(
    status.markers.some((m) => m.kind === 'mode'),
    'mode changes are marked',
  );
  assert.equal(status.videoFrames, 0);
  assert.equal(status.files[0]!.role, 'tlog');
  const hashed = await operator.waitFor(
    'the tlog checksum',
    (m) => m.type === 'replay-status' && m.status.files[0]?.sha256 !== null,
  );
  assert.ok(hashed.type === 'replay-status');
  assert.match(hashed.status.files[0]!.sha256!, /^[0-9a-f]{64}$/);
  const ready = await station.waitEvent((e) => e.type === 'replay-ready', WAIT_MS, 'ready');
  assert.equal(ready.breaks, 3);
});

test('seeking anywhere shows the vehicle as the log read here says', { skip }, async () => {
  // A seeded walk over the axis: every part of the file, breaks included.
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const positions = Array.from({ length: 25 }, () => Math.floor(random() * status.axisEndMs));
  positions.push(0, Math.floor(status.axisEndMs));
  for (const b of status.breaks) positions.push(Math.floor(b.axisStartMs) + 500);
  for (const axisMs of positions) {
    const from = operator.messages.length;
    const outcome = await operator.command({ kind: 'replay', control: { action: 'seek', axisMs } });
    assert.equal(outcome.ok, true, outcome.text);
    const view = await viewAt(axisMs, from);
    const expected = expectedVehicle(axisMs * 1000);
    assert.deepEqual(view.vehicle, expected.vehicle, `vehicle at axis ${axisMs} ms`);
    assert.deepEqual(view.vehicleLastKnown, expected.lastKnown, `last known at ${axisMs} ms`);
    const { inBreak, timeUs } = index.timeline.axisToTimeUs(axisMs * 1000);
    assert.equal(view.inBreak === null, inBreak === null, `in a break at ${axisMs} ms`);
    const jumpBack = inBreak?.kind === 'jump-back';
    assert.equal(view.timeMs, (jumpBack ? inBreak.fromUs : timeUs) / 1000);
  }
  const beyond = operator.messages.length;
  const clamped = await operator.command({
    kind: 'replay',
    control: { action: 'seek', axisMs: status.axisEndMs * 10 },
  });
  assert.equal(clamped.ok, true, clamped.text);
  await viewAt(status.axisEndMs, beyond);
});

test(
  'seek-time goes to the first run that holds a time; outside the log it is refused',
  {
    skip,
  },
  async () => {
    const timeMs = Math.round(index.timeline.startUs / 1000 + 30_000);
    const from = operator.messages.length;
    const outcome = await operator.command({
      kind: 'replay',
      control: { action: 'seek-time', timeMs },
    });
    assert.equal(outcome.ok, true, outcome.text);
    const axisMs = index.timeline.timeToAxisUs(timeMs * 1000) / 1000;
    const view = await viewAt(axisMs, from);
    assert.equal(view.timeMs, timeMs);
    assert.ok(Math.abs(axisMs - 30_000) < 1, 'the first run, not a later session over it');

    const outside = await operator.command({
      kind: 'replay',
      control: { action: 'seek-time', timeMs: Date.UTC(2020, 0, 1) },
    });
    assert.equal(outside.ok, false);
    assert.match(
      outside.text,
      /2020-01-01 00:00:00 UTC is outside the log, which runs from 2021-12-08/,
    );
  },
);

test('step moves by log records when there is no video', { skip }, async () => {
  await operator.command({ kind: 'replay', control: { action: 'seek', axisMs: 10_000 } });
  const from = operator.messages.length;
  const stepped = await operator.command({
    kind: 'replay',
    control: { action: 'step', frames: 5 },
  });
  assert.equal(stepped.ok, true, stepped.text);
  const axisMs = index.stepAxisUs(10_000_000, 5) / 1000;
  assert.ok(axisMs > 10_000);
  await viewAt(axisMs, from);
});

test('playing at 20x moves the playhead on; pause stops it', { skip }, async () => {
  await operator.command({ kind: 'replay', control: { action: 'seek', axisMs: 20_000 } });
  const speed = await operator.command({ kind: 'replay', control: { action: 'speed', speed: 20 } });
  assert.equal(speed.ok, true, speed.text);
  const from = operator.messages.length;
  const play = await operator.command({ kind: 'replay', control: { action: 'play' } });
  assert.equal(play.ok, true, play.text);
  const moved = await operator.waitFor(
    'the playhead 10 s on',
    (m) => m.type === 'replay-view' && m.view.positionAxisMs > 30_000,
    from,
  );
  assert.ok(moved.type === 'replay-view');
  const playing = operator.messages
    .slice(from)
    .find((m) => m.type === 'replay-status' && m.status.playing && m.status.speed === 20);
  assert.ok(playing, 'a replay-status says it plays at 20x');
  const views = operator.messages
    .slice(from)
    .filter((m): m is Extract<ServerMessage, { type: 'replay-view' }> => m.type === 'replay-view')
    .map((m) => m.view.positionAxisMs);
  for (let i = 1; i < views.length; i++) assert.ok(views[i]! >= views[i - 1]!, 'never back');
  const pause = await operator.command({ kind: 'replay', control: { action: 'pause' } });
  assert.equal(pause.ok, true, pause.text);
  const paused = await operator.waitFor(
    'a paused status',
    (m) => m.type === 'replay-status' && !m.status.playing,
    from,
  );
  assert.ok(paused.type === 'replay-status');
  const at = paused.status.positionAxisMs;
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const m of operator.messages.slice(operator.messages.indexOf(paused))) {
    if (m.type === 'replay-view') {
      assert.ok(m.view.positionAxisMs <= at + 1e-6, `${m.view.positionAxisMs} after ${at}`);
    }
  }
});

test('every vehicle command is refused; observers cannot move the playhead', { skip }, async () => {
  for (const command of [
    { kind: 'arm-takeoff', altitudeM: 20 },
    { kind: 'abort' },
    { kind: 'land' },
    { kind: 'return-home' },
    { kind: 'set-operator', operator: { operatorName: 'A', agencyOrPermitId: 'B' } },
    { kind: 'point-camera', pitchDeg: -45, yawDeg: 0 },
  ] as const) {
    const outcome = await operator.command(command);
    assert.equal(outcome.ok, false, command.kind);
    assert.equal(outcome.text, REFUSED);
  }

  await operator.command({ kind: 'replay', control: { action: 'seek', axisMs: 5_000 } });
  const observer = await StationClient.open(stationWsUrl(served), { waitMs: WAIT_MS });
  try {
    const hello = await observer.waitFor('hello', (m) => m.type === 'hello');
    assert.ok(hello.type === 'hello' && hello.role === 'observer' && hello.replay === true);
    const seen = await observer.waitFor('the view', (m) => m.type === 'replay-view');
    assert.ok(seen.type === 'replay-view');
    assert.equal(seen.view.positionAxisMs, 5_000);
    for (const control of [
      { action: 'seek', axisMs: 100_000 },
      { action: 'play' },
      { action: 'export-report', fromAxisMs: 0, toAxisMs: 1000 },
    ] as const) {
      const outcome = await observer.command({ kind: 'replay', control });
      assert.equal(outcome.ok, false);
      assert.match(outcome.text, /Observers cannot move the replay's playhead/);
    }
    const from = operator.messages.length;
    await operator.command({ kind: 'replay', control: { action: 'step', frames: 1 } });
    const view = await operator.waitFor('a view', (m) => m.type === 'replay-view', from);
    assert.ok(view.type === 'replay-view');
    assert.ok(view.view.positionAxisMs < 6_000, 'the observer did not move the playhead');
  } finally {
    observer.close();
  }
});

test('the replay process opened no UDP socket and no serial port', { skip }, () => {
  const pid = station.child.pid!;
  const fdDir = `/proc/${pid}/fd`;
  const links = readdirSync(fdDir).flatMap((fd) => {
    try {
      return [readlinkSync(path.join(fdDir, fd))];
    } catch {
      return [];
    }
  });
  const socketInodes = new Set(
    links.map((link) => /^socket:\[(\d+)\]$/.exec(link)?.[1]).filter((inode) => inode),
  );
  assert.ok(socketInodes.size > 0, 'it serves, so it holds sockets');
  const udpInodes = ['udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'].flatMap((table) => {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      return [];
    }
    // Columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    return text
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/)[9])
      .filter((inode): inode is string => inode !== undefined);
  });
  const udpOfProcess = udpInodes.filter((inode) => socketInodes.has(inode));
  assert.deepEqual(udpOfProcess, [], 'a UDP or raw socket of the replay process');
  const serial = links.filter((link) => /^\/dev\/(tty|serial|cu\.)/.test(link));
  assert.deepEqual(serial, []);
});

test('a report file is served only by its exact name', { skip }, async () => {
  for (const bad of [
    '/reports/../package.json',
    '/reports/x/..%2F..%2Fpackage.json',
    '/reports/a',
  ]) {
    const response = await fetch(new URL(bad, served));
    assert.notEqual(response.status, 200, bad);
    await response.arrayBuffer();
  }
});

test('options that make no sense with --replay are refused with words', { skip }, () => {
  const env = stationEnv(workDir);
  for (const [args, words] of [
    [['--replay', TLOG, '--sim'], /--sim makes no sense with --replay/],
    [['--replay', TLOG, '--link', 'udpin:127.0.0.1:14550'], /--link makes no sense with --replay/],
    [['--replay', TLOG, '--video', 'demo'], /--video makes no sense with --replay/],
    [['--replay', TLOG, '--record', workDir], /--record makes no sense with --replay/],
    [['--replay', path.join(workDir, 'nothing.tlog')], /nothing\.tlog does not exist/],
    [['--sim', '--report-dir', workDir], /--report-dir is for --replay/],
  ] as const) {
    const result = runStation([...args], env);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, words);
  }
});

test('a report of a span is written and served to the browser', { skip }, async () => {
  const outcome = await operator.command({
    kind: 'replay',
    control: { action: 'export-report', fromAxisMs: 0, toAxisMs: 120_000 },
  });
  assert.equal(outcome.ok, true, outcome.text);
  const urlPath = /open (\/reports\/[^/\s]+\/report\.html)/.exec(outcome.text)?.[1];
  assert.ok(urlPath, outcome.text);
  const folder = path.join(workDir, 'reports', decodeURIComponent(urlPath.split('/')[2]!));
  assert.match(outcome.text, new RegExp(`Report written to ${folder.replace(/[.]/g, '\\.')}`));
  const names = readdirSync(folder);
  for (const name of ['report.html', 'report.geojson', 'report.kml', 'SHA256SUMS']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
  const page = await fetch(new URL(urlPath, served));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await page.text(), /olivieri_20211208-151717\.tlog/);
  const geojson = await fetch(new URL(urlPath.replace('report.html', 'report.geojson'), served));
  assert.equal(geojson.status, 200);
  const parsed = (await geojson.json()) as { type: string };
  assert.equal(parsed.type, 'FeatureCollection');
  for (const name of ['SHA256SUMS', 'sources.sha256', 'report.kml', 'events.csv']) {
    const response: Response = await fetch(new URL(urlPath.replace('report.html', name), served));
    assert.equal(response.status, 200, name);
    await response.arrayBuffer();
  }
});

test('broken sidecars are warnings that name them; the replay still works', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(workDir, 'broken-'));
  const tlog = path.join(dir, 'flight.tlog');
  copyFileSync(TLOG, tlog);
  writeFileSync(path.join(dir, 'flight.journal.jsonl'), 'not json\n{"t":1,"what":2}\n');
  writeFileSync(path.join(dir, 'flight.hazing.jsonl'), '{"kind":"event","event":\n');
  writeFileSync(path.join(dir, 'flight.ts'), Buffer.alloc(4096, 0x47));
  writeFileSync(
    path.join(dir, 'flight.frames.csv'),
    'frame,frameId,frameTimeMs,arrivalMs,delayMs\n0,1,1638987440000,1638987440000,0\n',
  );
  const session = ReplaySession.open(tlog, { cacheDir: path.join(dir, 'cache') });
  t.after(() => session.dispose());
  await session.whenReady;
  const replayStatus = session.status();
  assert.equal(replayStatus.error, null);
  assert.equal(replayStatus.indexing.done, true);
  const warnings = replayStatus.warnings.join('\n');
  for (const name of ['flight.journal.jsonl', 'flight.hazing.jsonl', 'flight.ts']) {
    assert.ok(warnings.includes(path.join(dir, name)), `a warning names ${name}:\n${warnings}`);
  }
  assert.equal(replayStatus.videoFrames, 0);
  assert.deepEqual(
    replayStatus.files.map((file) => file.role),
    ['tlog', 'video', 'frame-table', 'journal', 'hazing-log'],
  );
  const view = session.viewAt(30_000_000);
  assert.equal(view.frameIndex, null);
  assert.deepEqual(view.vehicle, expectedVehicle(30_000_000).vehicle);
  await session.whenHashed;
  assert.ok(session.status().files.every((file) => /^[0-9a-f]{64}$/.test(file.sha256 ?? '')));

  assert.throws(
    () => ReplaySession.open(path.join(dir, 'missing.tlog')),
    /flight record .*missing\.tlog does not exist/,
  );
  const empty = path.join(dir, 'empty.tlog');
  writeFileSync(empty, '');
  const emptySession = ReplaySession.open(empty);
  t.after(() => emptySession.dispose());
  await emptySession.whenReady;
  assert.match(emptySession.status().error ?? '', /cannot replay .*empty\.tlog/);
  assert.equal(emptySession.ready, false);
});
