// A video recording is written as frames come, and its frame table matches the file however
// the station stops: a short recording stopped by the station, and one ended by Ctrl-C to the
// station's whole process group (ffmpegs included). Real ffmpeg and ffprobe, a real station
// process on the simulator's camera (UDP on 127.0.0.1).

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { projectRoot, sharedDir } from '../../app/station/paths';
import { BEAR_PICTURE } from '../../app/station/sim/world';
import { JpegStreamSplitter } from '../../app/station/video/jpeg-stream';
import { FRAME_TABLE_HEADER, VideoRecorder } from '../../app/station/video/recorder';
import { freeUdpPort } from '../helpers/net';
import { STATION_CLI, stationEnv, stationMissing } from '../helpers/station';

const WAIT_MS = 90_000;
const FEED_FPS = 10;
/** About 8 s of video at FEED_FPS. */
const FEED_FRAMES = 80;
/** Rows in the table by which the file must hold frames (ffmpeg's default probe: 125). */
const EARLY_ROWS = 20;

let root = '';
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ursa-record-stop-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function tableRows(file: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines[0], FRAME_TABLE_HEADER);
  return lines.slice(1).filter((line) => line.length > 0).length;
}

/** Frames ffprobe decodes from the file: 0 when there is no file or no picture in it yet. */
function countFrames(file: string): number {
  if (!existsSync(file)) return 0;
  const out = execFileSync('ffprobe', [
    ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
    ...['-show_entries', 'stream=nb_read_frames', '-of', 'json', file],
  ]).toString();
  const streams = (JSON.parse(out) as { streams: Array<{ nb_read_frames?: string }> }).streams;
  return Number(streams[0]?.nb_read_frames ?? 0);
}

/** Distinct JPEG frames of a test pattern, as the station's frame source makes them. */
function testJpegs(count: number): Buffer[] {
  const mjpeg = execFileSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
      ...['-i', `testsrc2=size=640x480:rate=${FEED_FPS}`, '-frames:v', String(count)],
      ...['-q:v', '5', '-f', 'mjpeg', 'pipe:1'],
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const jpegs = new JpegStreamSplitter().push(mjpeg);
  assert.equal(jpegs.length, count);
  return jpegs;
}

test('a short recording is written as frames come, and the file has every row', async () => {
  const jpegs = testJpegs(FEED_FRAMES);
  const base = path.join(root, 'short');
  const recorder = VideoRecorder.start(base, {});
  let framesWhenEarly = -1;
  try {
    for (let i = 0; i < jpegs.length; i++) {
      const nowMs = Date.now();
      recorder.write({
        frameId: i + 1,
        frameTimeMs: nowMs,
        arrivalMs: nowMs,
        delayMs: null,
        jpeg: jpegs[i],
      });
      await sleep(1000 / FEED_FPS);
      if (framesWhenEarly < 0 && tableRows(`${base}.frames.csv`) >= EARLY_ROWS) {
        // A moment for ffmpeg to encode what it has; the point is seconds, not milliseconds.
        await sleep(500);
        framesWhenEarly = countFrames(`${base}.ts`);
      }
    }
  } finally {
    await recorder.dispose();
  }
  assert.equal(recorder.failed, null);
  assert.ok(framesWhenEarly > 0, `the file held ${framesWhenEarly} frames at ${EARLY_ROWS} rows`);
  const rows = tableRows(`${base}.frames.csv`);
  assert.equal(rows, FEED_FRAMES);
  assert.equal(recorder.framesRecorded, rows);
  assert.equal(countFrames(`${base}.ts`), rows);
});

const skipStation = stationMissing([path.join(sharedDir(), BEAR_PICTURE)]);

test(
  'Ctrl-C to the station group after ~8 s: the video has exactly the rows of its table',
  { skip: skipStation, timeout: 240_000 },
  async () => {
    const port = await freeUdpPort();
    const dir = path.join(root, 'interrupted');
    const child = spawn(
      process.execPath,
      [
        STATION_CLI,
        ...['--sim', '--video', 'sim', '--sim-video-port', String(port)],
        ...['--record', dir, '--events', '-'],
      ],
      {
        cwd: projectRoot,
        env: stationEnv(root),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const pid = child.pid as number;
    const log: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => log.push(line));
    createInterface({ input: child.stdout }).on('line', () => {});
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const killer = setTimeout(() => process.kill(-pid, 'SIGKILL'), 3 * WAIT_MS);
    try {
      let table: string | undefined;
      const deadline = Date.now() + WAIT_MS;
      while (!table || tableRows(table) === 0) {
        assert.ok(Date.now() < deadline, `no frames recorded:\n${log.join('\n')}`);
        assert.equal(child.exitCode, null, `the station ended:\n${log.join('\n')}`);
        await sleep(200);
        const name = existsSync(dir)
          ? readdirSync(dir).find((n) => n.endsWith('.frames.csv'))
          : undefined;
        table = name ? path.join(dir, name) : undefined;
      }
      await sleep(8000);
      process.kill(-pid, 'SIGINT');
      await exited;

      const rows = tableRows(table);
      assert.ok(rows > 0);
      assert.equal(
        countFrames(table.replace(/\.frames\.csv$/, '.ts')),
        rows,
        log.slice(-30).join('\n'),
      );
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null && child.signalCode === null) process.kill(-pid, 'SIGKILL');
    }
  },
);
