// The headless station records live video beside its flight record: BASE.ts (MPEG-TS) and
// BASE.frames.csv, one row per encoded frame. Real station process, real UDP stream on
// 127.0.0.1, real ffmpeg and ffprobe; and a kill -9 mid-recording leaves both readable.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { yoloxNanoCard } from '../../app/station/detector/model-card';
import { sharedDir } from '../../app/station/paths';
import { FRAME_TABLE_HEADER } from '../../app/station/video/recorder';
import {
  startWallClockTestStream,
  type WallClockTestStream,
} from '../../app/station/video/wall-clock';
import { freeUdpPort } from '../helpers/net';
import { stationEnv, stationMissing, StationProcess } from '../helpers/station';

const MODEL = path.join(sharedDir(), 'models', yoloxNanoCard.file.name);
const skip = stationMissing([MODEL]);
const WAIT_LIMIT_MS = 90_000;

let root = '';
const streams: WallClockTestStream[] = [];
const stations: StationProcess[] = [];

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ursa-video-record-'));
});

after(async () => {
  for (const station of stations) await station.stop();
  for (const stream of streams) await stream.dispose();
  rmSync(root, { recursive: true, force: true });
});

function startStation(recordDir: string, videoPort: number): StationProcess {
  const station = StationProcess.start(
    [
      '--link',
      'udpin:127.0.0.1:0',
      '--video',
      `udp://127.0.0.1:${videoPort}`,
      '--record',
      recordDir,
    ],
    stationEnv(root, { URSA_MODEL: MODEL }),
  );
  stations.push(station);
  return station;
}

function readTable(file: string): Array<{ frame: number; frameId: number; frameTimeMs: number }> {
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines[0], FRAME_TABLE_HEADER);
  return lines
    .slice(1)
    .filter((line) => line.length > 0)
    .map((line) => {
      const [frame, frameId, frameTimeMs] = line.split(',').map(Number);
      return { frame, frameId, frameTimeMs };
    });
}

/** Waits until the folder holds a frame table with at least `rows` rows. */
async function waitForRows(dir: string, rows: number, station: StationProcess): Promise<string> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (Date.now() < deadline) {
    const table = existsSync(dir) ? readdirSync(dir).find((n) => n.endsWith('.frames.csv')) : null;
    if (table && readTable(path.join(dir, table)).length >= rows) return path.join(dir, table);
    await sleep(200);
  }
  throw new Error(`no frame table with ${rows} rows in ${dir}; station said: ${station.log}`);
}

/** Waits until a file stops growing (the recording ffmpeg has finished with it). */
async function waitUntilSettled(file: string): Promise<void> {
  let size = -1;
  for (let i = 0; i < 100; i++) {
    const now = statSync(file).size;
    if (now === size) return;
    size = now;
    await sleep(500);
  }
}

function countFrames(file: string): number {
  const out = execFileSync('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_frames,codec_name',
    '-of',
    'json',
    file,
  ]).toString();
  const stream = (JSON.parse(out) as { streams: Array<Record<string, string>> }).streams[0];
  assert.equal(stream.codec_name, 'h264');
  return Number(stream.nb_read_frames);
}

function checkTable(rows: ReturnType<typeof readTable>): void {
  assert.ok(rows.length > 0);
  for (let i = 0; i < rows.length; i++) {
    assert.equal(rows[i].frame, i, 'rows number the frames of the file in order');
    if (i === 0) continue;
    assert.ok(rows[i].frameId > rows[i - 1].frameId, 'frameIds increase');
    assert.ok(rows[i].frameTimeMs > rows[i - 1].frameTimeMs, 'frame times increase');
  }
}

test(
  'the station records the live video beside the tlog, one table row per frame',
  { skip },
  async () => {
    const port = await freeUdpPort();
    streams.push(startWallClockTestStream({ port, fps: 20 }));
    const dir = path.join(root, 'clean');
    const station = startStation(dir, port);
    const tablePath = await waitForRows(dir, 30, station);
    station.child.kill('SIGTERM');
    await station.exited;

    const base = tablePath.replace(/\.frames\.csv$/, '');
    assert.ok(existsSync(`${base}.tlog`), 'the video sits beside the flight record');
    const videoPath = `${base}.ts`;
    assert.ok(existsSync(videoPath));
    const rows = readTable(tablePath);
    checkTable(rows);
    // The stream's wall-clock stamps are the frame times: within seconds of now.
    assert.ok(Math.abs(rows[0].frameTimeMs - Date.now()) < WAIT_LIMIT_MS);
    assert.equal(countFrames(videoPath), rows.length);
  },
);

test('a kill -9 mid-recording leaves the video and the table readable', { skip }, async () => {
  const port = await freeUdpPort();
  streams.push(startWallClockTestStream({ port, fps: 20 }));
  const dir = path.join(root, 'killed');
  const station = startStation(dir, port);
  const tablePath = await waitForRows(dir, 20, station);
  station.child.kill('SIGKILL');
  await station.exited;

  const videoPath = tablePath.replace(/\.frames\.csv$/, '.ts');
  await waitUntilSettled(videoPath);
  const rows = readTable(tablePath);
  checkTable(rows);
  assert.ok(rows.length >= 20);
  // Each row's picture had reached ffmpeg before the row was written; a frame or two sent
  // just before the kill may be in the file without its row.
  const frames = countFrames(videoPath);
  assert.ok(
    frames >= rows.length && frames <= rows.length + 3,
    `${frames} frames, ${rows.length} rows`,
  );
});
