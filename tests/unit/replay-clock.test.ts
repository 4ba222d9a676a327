// The replay's playback clock on a driven time source: speed, pause, the end, breaks, seeks;
// and a replay station on a short real log, played to its end.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { DEFAULT_ENVELOPE } from '../../app/core/envelope';
import type { ServerMessage } from '../../app/core/protocol';
import { sharedDir } from '../../app/station/paths';
import { ReplaySession } from '../../app/station/replay/replay-session';
import {
  BREAK_HOLD_MS,
  PlaybackClock,
  ReplayStation,
} from '../../app/station/replay/replay-station';

const SHORT_TLOG = path.join(sharedDir(), 'fixtures', 'tlog', 'olivieri_20211202-133659.tlog');

function drivenClock(axisEndUs: number, breaks: Array<{ axisStartUs: number; axisEndUs: number }>) {
  let nowMs = 1_000_000;
  const clock = new PlaybackClock({ axisEndUs, breaks, nowMs: () => nowMs });
  const wait = (ms: number): boolean => {
    nowMs += ms;
    return clock.advance();
  };
  return { clock, wait };
}

test('playing moves the playhead by elapsed time x speed; paused it stays', () => {
  const { clock, wait } = drivenClock(600_000_000, []);
  wait(5000);
  assert.equal(clock.positionUs, 0, 'a paused clock does not move');
  clock.play();
  wait(1000);
  assert.equal(clock.positionUs, 1_000_000);
  clock.setSpeed(20);
  wait(500);
  assert.equal(clock.positionUs, 11_000_000);
  clock.setSpeed(0.1);
  wait(1000);
  assert.equal(clock.positionUs, 11_100_000);
  clock.pause();
  wait(10_000);
  assert.equal(clock.positionUs, 11_100_000);
  assert.equal(clock.playing, false);
});

test('a speed change counts the time before it at the old speed', () => {
  const { clock, wait } = drivenClock(600_000_000, []);
  clock.play();
  wait(2000);
  clock.setSpeed(4);
  wait(1000);
  assert.equal(clock.positionUs, 6_000_000);
  assert.throws(() => clock.setSpeed(25), /replay speed 25 is outside 0.1..20/);
  assert.throws(() => clock.setSpeed(0), /outside/);
  assert.equal(clock.speed, 4, 'a refused speed leaves the old one');
});

test('at the end the clock pauses there; play again starts from the beginning', () => {
  const { clock, wait } = drivenClock(10_000_000, []);
  clock.play();
  assert.equal(wait(9000), false);
  assert.equal(wait(5000), true, 'advance says the end was reached');
  assert.equal(clock.positionUs, 10_000_000);
  assert.equal(clock.playing, false);
  wait(1000);
  assert.equal(clock.positionUs, 10_000_000);
  clock.play();
  assert.equal(clock.positionUs, 0);
  wait(1000);
  assert.equal(clock.positionUs, 1_000_000);
});

test('playing into a break holds at its start for a moment, then jumps to its end', () => {
  const gap = { axisStartUs: 5_000_000, axisEndUs: 65_000_000 };
  const { clock, wait } = drivenClock(100_000_000, [gap]);
  clock.play();
  wait(4000);
  assert.equal(clock.positionUs, 4_000_000);
  wait(2000);
  assert.equal(clock.positionUs, gap.axisStartUs, 'stops at the start of the break');
  wait(BREAK_HOLD_MS / 2);
  assert.equal(clock.positionUs, gap.axisStartUs, 'still shows the break');
  wait(BREAK_HOLD_MS / 2);
  assert.equal(clock.positionUs, gap.axisEndUs, 'then continues after it');
  wait(1000);
  assert.equal(clock.positionUs, gap.axisEndUs + 1_000_000);
});

test('at 20x a short break is not skipped over within one tick', () => {
  const jumpBack = { axisStartUs: 3_000_000, axisEndUs: 5_000_000 };
  const { clock, wait } = drivenClock(100_000_000, [jumpBack]);
  clock.setSpeed(20);
  clock.play();
  wait(1000);
  assert.equal(clock.positionUs, jumpBack.axisStartUs);
  wait(BREAK_HOLD_MS + 100);
  assert.equal(clock.positionUs, jumpBack.axisEndUs + 2_000_000, 'the rest of the tick plays on');
});

test('seeking into a break and playing holds there, then jumps to its end', () => {
  const gap = { axisStartUs: 5_000_000, axisEndUs: 65_000_000 };
  const { clock, wait } = drivenClock(100_000_000, [gap]);
  clock.seek(30_000_000);
  clock.play();
  wait(500);
  assert.equal(clock.positionUs, 30_000_000);
  wait(BREAK_HOLD_MS);
  assert.ok(clock.positionUs >= gap.axisEndUs);
});

test('seeks are clamped to the timeline; a seek while playing drops a hold', () => {
  const gap = { axisStartUs: 5_000_000, axisEndUs: 65_000_000 };
  const { clock, wait } = drivenClock(100_000_000, [gap]);
  assert.equal(clock.seek(-5), 0);
  assert.equal(clock.seek(1e12), 100_000_000);
  assert.throws(() => clock.seek(Number.NaN), /seek position NaN is not a number/);
  clock.seek(0);
  clock.play();
  wait(6000);
  assert.equal(clock.positionUs, gap.axisStartUs);
  clock.seek(1_000_000);
  wait(1000);
  assert.equal(clock.positionUs, 2_000_000, 'plays on from the seek');
});

test('steps are seeks: stepping back from a break lands before it', () => {
  const gap = { axisStartUs: 5_000_000, axisEndUs: 65_000_000 };
  const { clock, wait } = drivenClock(100_000_000, [gap]);
  clock.seek(gap.axisEndUs);
  clock.seek(clock.positionUs - 100_000);
  wait(1000);
  assert.equal(clock.positionUs, gap.axisEndUs - 100_000, 'paused: a step does not play');
  clock.setTimeline(50_000_000, [gap]);
  assert.equal(clock.positionUs, 50_000_000, 'a shorter timeline clamps the playhead');
});

test(
  'a replay station on a real log: played to the end it pauses there and says so',
  { skip: existsSync(SHORT_TLOG) ? false : `missing ${SHORT_TLOG}` },
  async (t) => {
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-clock-'));
    t.after(() => rmSync(cacheDir, { recursive: true, force: true }));
    const session = ReplaySession.open(SHORT_TLOG, { cacheDir });
    t.after(() => session.dispose());
    let nowMs = 5_000_000;
    const station = new ReplayStation({
      session,
      tiles: {
        kind: 'online',
        urlTemplate: 'https://t.invalid/{z}/{x}/{y}.png',
        attribution: '',
        maxZoom: 19,
      },
      defaults: {
        takeoffAltitudeM: 20,
        standoffM: 40,
        pushAltitudeM: 15,
        envelope: DEFAULT_ENVELOPE,
        speakerAvailable: false,
      },
      mapCenter: { latDeg: 0, lonDeg: 0 },
      reportDir: path.join(cacheDir, 'reports'),
      nowMs: () => nowMs,
    });
    t.after(() => station.dispose());
    const heard: ServerMessage[] = [];
    station.onMessage((message) => heard.push(message));

    const early = await station.execute({ kind: 'replay', control: { action: 'play' } });
    // Indexing a small file may already be done; if not, the control is refused in words.
    if (!early.ok) assert.match(early.text, /still being indexed/);
    await session.whenReady;
    assert.equal(session.status().error, null);
    const endMs = session.status().axisEndMs;
    assert.ok(endMs > 0);

    const play = await station.execute({ kind: 'replay', control: { action: 'play' } });
    assert.equal(play.ok, true, play.text);
    nowMs += endMs + 1000;
    const deadline = Date.now() + 10_000;
    const stopped = (): ServerMessage | undefined =>
      heard.find(
        (m) => m.type === 'replay-status' && !m.status.playing && m.status.positionAxisMs === endMs,
      );
    while (!stopped() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(stopped(), 'a replay-status says it stopped at the end');
    assert.equal(station.positionUs, endMs * 1000);
    const count = heard.length;
    await new Promise((r) => setTimeout(r, 300));
    const later = heard.slice(count).filter((m) => m.type === 'replay-view');
    assert.deepEqual(later, [], 'no view is sent once it stopped');

    const refused = await station.execute({ kind: 'land' });
    assert.deepEqual(refused, {
      ok: false,
      result: 'DENIED',
      text: 'Replay never commands a vehicle.',
    });
    const snapshot = station.snapshot().map((m) => m.type);
    assert.deepEqual(snapshot, ['replay-status', 'replay-view']);
  },
);
