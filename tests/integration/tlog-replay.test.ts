// A flight record as a link: the real headless station replaying a shared log shows the
// vehicle where and in the modes the log has it; a replay link refuses commands and sends
// nothing; long gaps and the jumps back of overlapping sessions are shortened and said; records
// come in paced by their timestamps.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';

import { MavLinkProtocolV2, minimal } from 'node-mavlink';

import { setLogSink } from '../../app/core/log';
import { VehicleLink } from '../../app/station/mavlink/vehicle-link';
import { projectRoot, sharedDir } from '../../app/station/paths';
import type { RawFrame } from '../../app/station/tlog/frame';
import { TlogReplayTransport } from '../../app/station/tlog/replay';
import { summarizeTlogFile } from '../../app/station/tlog/summary';
import { TlogWriter } from '../../app/station/tlog/writer';

const CLI = path.join(projectRoot, 'dist', 'station', 'cli.js');
const FIXTURES = path.join(sharedDir(), 'fixtures', 'tlog');
const CODELEVER = path.join(FIXTURES, 'codelever_2013-10-13_16-58-51.tlog');
const OLIVIERI_AUTO = path.join(FIXTURES, 'olivieri_20211202-132613.tlog');
const OLIVIERI_GAP = path.join(FIXTURES, 'olivieri_20211208-151717.tlog');
const missing = (...files: string[]): string | false =>
  files.find((f) => !existsSync(f)) ? `missing ${files.join(', ')} (build, ../shared)` : false;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until<T>(read: () => T | null | undefined, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Collects what the code under test logs, for the duration of one test. */
function captureLog(t: { after: (fn: () => void) => void }): string[] {
  const lines: string[] = [];
  setLogSink((level, scope, message) => lines.push(`${level} [${scope}] ${message}`));
  t.after(() => setLogSink(() => {}));
  return lines;
}

test(
  'the station replays a shared log as if live: positions and modes from the log',
  { skip: missing(CLI, CODELEVER) },
  async (t) => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const expected = summarizeTlogFile(CODELEVER);
    const child = spawn(
      process.execPath,
      [CLI, '--link', `tlog:${CODELEVER}?speed=20`, '--events', '-', '--duration', '8'],
      {
        cwd: projectRoot,
        env: { ...process.env, URSA_DATA_DIR: path.join(work, 'data') },
        stdio: 'pipe',
      },
    );
    const events: Record<string, unknown>[] = [];
    const stderr: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => events.push(JSON.parse(line)));
    createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr.join('\n'));

    const vehicles = events.filter((e) => e.type === 'vehicle' && e.lat !== null);
    assert.ok(vehicles.length >= 4, `${vehicles.length} vehicle lines with a position`);
    const box = expected.positionBounds!;
    const modes = new Set(Object.keys(expected.flightModes));
    for (const v of vehicles) {
      assert.equal(v.systemId, 1);
      assert.equal(v.link, 'connected');
      assert.ok(modes.has(String(v.mode)), `mode ${v.mode} is one the log has`);
      const lat = Number(v.lat);
      const lon = Number(v.lon);
      assert.ok(lat >= box.minLatDeg && lat <= box.maxLatDeg, `latitude ${lat} in the log's box`);
      assert.ok(lon >= box.minLonDeg && lon <= box.maxLonDeg, `longitude ${lon} in the log's box`);
      assert.ok(Number(v.altitudeRelM) <= expected.maxAltitudeRelM!);
    }
    assert.ok(stderr.some((l) => l.includes(`replaying ${CODELEVER} at 20x`)));
    assert.ok(!events.some((e) => e.type === 'record'), 'a replay is not recorded');
    assert.equal(existsSync(path.join(work, 'data', 'logs')), false);
  },
);

test(
  'a replay link refuses commands and sends nothing',
  { skip: missing(OLIVIERI_AUTO) },
  async (t) => {
    captureLog(t);
    const frames: RawFrame[] = [];
    const link = await VehicleLink.open(`tlog:${OLIVIERI_AUTO}?speed=10`, {
      onRawFrame: (frame) => frames.push(frame),
    });
    t.after(() => link.dispose());
    const state = await until(
      () => (link.state.link === 'connected' && link.state.position ? link.state : null),
      15_000,
      'the replayed vehicle with a position',
    );
    assert.equal(state.systemId, 10);
    assert.equal(state.vehicleType, 'QUADROTOR');
    assert.ok(Math.abs(state.position!.latDeg - -15.84) < 0.01);

    for (const outcome of [await link.setMode('RTL'), await link.armAndTakeoff(10)]) {
      assert.equal(outcome.ok, false);
      assert.equal(outcome.result, 'NOT_SENT');
      assert.match(outcome.text, /not sent: replay: commands are not sent \(NOT_SENT\)$/);
    }
    await sleep(1500);
    assert.ok(frames.some((f) => f.direction === 'in'));
    assert.equal(frames.filter((f) => f.direction === 'out').length, 0, 'no heartbeat goes out');
  },
);

test(
  'gaps and jumps back in a log are shortened and said, and every record is replayed',
  { skip: missing(OLIVIERI_GAP) },
  async (t) => {
    const logged = captureLog(t);
    const expected = summarizeTlogFile(OLIVIERI_GAP);
    let frames = 0;
    const replay = TlogReplayTransport.open(
      { kind: 'tlog', path: OLIVIERI_GAP, speed: 100 },
      () => frames++,
    );
    t.after(() => replay.dispose());
    // At 100x this log's 3521 s would take 35 s; its sessions alone take about 8.
    await until(
      () => logged.find((l) => l.includes('replay finished')),
      60_000,
      'the end of the replay',
    );
    assert.equal(frames, expected.packets);
    assert.equal(replay.packetsReplayed, expected.packets);
    const gaps = logged.filter((l) => l.includes('has a 3369.0 s gap'));
    const jumps = logged.filter((l) => l.includes('jumps back'));
    assert.equal(gaps.length, 1, logged.join('\n'));
    assert.equal(jumps.length, expected.timeJumpsBack);
    assert.match(gaps[0], /replaying it as 1 s$/);
  },
);

test('records come in paced by their timestamps over the replay speed', async (t) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  captureLog(t);
  const file = path.join(work, 'paced.tlog');
  const writer = TlogWriter.create(file);
  const beat = Object.assign(new minimal.Heartbeat(), {
    type: minimal.MavType.QUADROTOR,
    autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
    baseMode: 0,
    customMode: 0,
    systemStatus: minimal.MavState.STANDBY,
    mavlinkVersion: 3,
  });
  const startUs = Date.UTC(2026, 0, 1) * 1000;
  for (let i = 0; i < 5; i++) {
    writer.write(startUs + i * 1_000_000, new MavLinkProtocolV2(1, 1).serialize(beat, i));
  }
  writer.dispose();

  const arrivalsMs: number[] = [];
  const replay = TlogReplayTransport.open({ kind: 'tlog', path: file, speed: 10 }, () =>
    arrivalsMs.push(performance.now()),
  );
  t.after(() => replay.dispose());
  await until(() => (arrivalsMs.length === 5 ? true : null), 10_000, 'five records');
  // Four seconds of log at 10x: at least 400 ms from the first to the last.
  const spanMs = arrivalsMs[4] - arrivalsMs[0];
  assert.ok(spanMs >= 390, `records came ${spanMs} ms apart in all`);
  for (let i = 1; i < 5; i++) assert.ok(arrivalsMs[i] - arrivalsMs[i - 1] >= 90);
});
