// Live video benchmarks, on 127.0.0.1 only.
// - Decode: a wall-clock-stamped H.264 stream over UDP (640x480, 30 frames/s), received by bare
//   ffmpeg (the station's own low-latency input arguments, frames thrown away) against the
//   station's video path (ffmpeg writing rgb24 and JPEG, read and paired in Node): delay from
//   capture to a decoded frame, p50 and p95, and frames per second.
// - End to end: the station with the built-in simulator and its camera, the real model, the
//   tracker and the map; from each frame's capture, and from its arrival out of ffmpeg, to its
//   detections placed on the map (the 'detections' message), p50 and p95.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { DEFAULT_ENVELOPE } from '../app/core/envelope';
import type { ServerMessage } from '../app/core/protocol';
import { sharedDir } from '../app/station/paths';
import { DEFAULT_SIM_HOME, DEFAULT_VIDEO } from '../app/station/sim/args';
import { Station } from '../app/station/station';
import { ffmpegCommand } from '../app/station/video/ffmpeg';
import { openFrameSource } from '../app/station/video/frame-source';
import { parseLiveSpec } from '../app/station/video/live-input';
import { captureTimeFromPts, startWallClockTestStream } from '../app/station/video/wall-clock';
import { freeUdpPort } from '../tests/helpers/net';
import { percentile, report, reportRate } from './bench-report';

const STREAM = { widthPx: 640, heightPx: 480, fps: 30 };
/** Frames left out at the start, while decoders settle. */
const SETTLE_FRAMES = 30;
const MEASURED_FRAMES = 300;
const RECEIVE_TIMEOUT_MS = 60_000;
/** Detected frames measured end to end. */
const END_TO_END_FRAMES = 100;
const END_TO_END_TIMEOUT_MS = 240_000;
const TAKEOFF_ALTITUDE_M = 50;

interface Reception {
  delaysMs: number[];
  framesPerSecond: number;
}

function withTimeout<T>(work: Promise<T>, what: string, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: nothing after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Bare ffmpeg: showinfo prints each decoded frame's PTS, which is its capture time. */
async function receiveBare(port: number, workDir: string): Promise<Reception> {
  const live = parseLiveSpec(`udp://127.0.0.1:${port}`, path.join(workDir, 'sdp'));
  const ffmpeg = spawn(
    ffmpegCommand(),
    ['-hide_banner', '-nostats', '-nostdin', ...live.args, '-copyts', '-vf', 'showinfo'].concat([
      '-f',
      'null',
      '-',
    ]),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const delaysMs: number[] = [];
  let seen = 0;
  let firstMs = 0;
  const lines = readline.createInterface({ input: ffmpeg.stderr });
  try {
    return await withTimeout(
      new Promise<Reception>((resolve) => {
        lines.on('line', (line) => {
          const match = /pts_time:\s*([\d.]+)/.exec(line);
          if (!match) return;
          const arrivalMs = Date.now();
          seen++;
          if (seen === SETTLE_FRAMES) firstMs = arrivalMs;
          if (seen <= SETTLE_FRAMES) return;
          const captureMs = captureTimeFromPts(Number(match[1]) * 1000, arrivalMs);
          if (captureMs !== null) delaysMs.push(arrivalMs - captureMs);
          if (seen === SETTLE_FRAMES + MEASURED_FRAMES) {
            resolve({
              delaysMs,
              framesPerSecond: MEASURED_FRAMES / ((arrivalMs - firstMs) / 1000),
            });
          }
        });
      }),
      'bare ffmpeg',
      RECEIVE_TIMEOUT_MS,
    );
  } finally {
    lines.close();
    // The port must be free again before the station's receiver binds it.
    const exited = new Promise((resolve) => ffmpeg.once('close', resolve));
    ffmpeg.kill('SIGKILL');
    await exited;
  }
}

async function receiveStation(port: number, workDir: string): Promise<Reception> {
  const source = openFrameSource(`udp://127.0.0.1:${port}`, {
    cacheDir: workDir,
    sharedDir: sharedDir(),
    maxWidth: STREAM.widthPx,
  });
  const delaysMs: number[] = [];
  let seen = 0;
  let firstMs = 0;
  try {
    return await withTimeout(
      new Promise<Reception>((resolve) => {
        source.onFrame((frame) => {
          seen++;
          if (seen === SETTLE_FRAMES) firstMs = frame.arrivalMs;
          if (seen <= SETTLE_FRAMES) return;
          if (frame.delayMs !== null) delaysMs.push(frame.delayMs);
          if (seen === SETTLE_FRAMES + MEASURED_FRAMES) {
            const spanS = (frame.arrivalMs - firstMs) / 1000;
            resolve({ delaysMs, framesPerSecond: MEASURED_FRAMES / spanS });
          }
        });
      }),
      'station video path',
      RECEIVE_TIMEOUT_MS,
    );
  } finally {
    await source.dispose();
  }
}

export async function benchLiveDecode(): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-bench-live-'));
  const port = await freeUdpPort();
  const stream = startWallClockTestStream({ port, ...STREAM });
  try {
    const bare = await receiveBare(port, workDir);
    const station = await receiveStation(port, workDir);
    if (bare.delaysMs.length === 0 || station.delaysMs.length === 0) {
      throw new Error('live decode: no frame carried a wall-clock stamp');
    }
    const line = (name: string, r: Reception): string =>
      `${name}: delay p50 ${percentile(r.delaysMs, 0.5).toFixed(0)} ms, p95 ` +
      `${percentile(r.delaysMs, 0.95).toFixed(0)} ms, ${r.framesPerSecond.toFixed(1)} frames/s`;
    process.stdout.write(
      `live H.264 over UDP, ${STREAM.widthPx}x${STREAM.heightPx} at ${STREAM.fps} frames/s, ` +
        `capture to decoded frame:\n  ${line('ffmpeg decode alone', bare)}\n  ` +
        `${line('station video path', station)}\n`,
    );
    for (const fraction of [0.5, 0.95]) {
      const name = `live video delay p${fraction * 100}`;
      report(name, percentile(station.delaysMs, fraction), percentile(bare.delaysMs, fraction));
    }
    reportRate(
      'live video frames per second',
      station.framesPerSecond,
      'frames/s',
      bare.framesPerSecond,
    );
  } finally {
    await stream.dispose();
    rmSync(workDir, { recursive: true, force: true });
  }
}

interface FrameTimes {
  frameTimeMs: number;
  arrivalMs: number;
}

/** The recorder's frame table: frame,frameId,frameTimeMs,arrivalMs,delayMs. */
function readFrameTable(file: string): Map<number, FrameTimes> {
  const table = new Map<number, FrameTimes>();
  for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
    const [, frameId, frameTimeMs, arrivalMs] = line.split(',').map(Number);
    if (Number.isFinite(frameId)) table.set(frameId, { frameTimeMs, arrivalMs });
  }
  return table;
}

export async function benchEndToEnd(): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-bench-e2e-'));
  const port = await freeUdpPort();
  const station = await Station.start({
    sim: true,
    simHome: DEFAULT_SIM_HOME,
    simWorld: { videoPort: port },
    links: [],
    recordDir: workDir,
    video: `udp://127.0.0.1:${port}`,
    camera: { horizontalFovDeg: DEFAULT_VIDEO.hfovDeg, verticalFovDeg: DEFAULT_VIDEO.vfovDeg },
    defaults: {
      takeoffAltitudeM: TAKEOFF_ALTITUDE_M,
      standoffM: 30,
      pushAltitudeM: 25,
      envelope: DEFAULT_ENVELOPE,
      speakerAvailable: false,
    },
    tiles: { kind: 'offline', urlTemplate: '/tiles/{z}/{x}/{y}.png', attribution: '', maxZoom: 19 },
    mapCenter: DEFAULT_SIM_HOME,
    zonesFile: path.join(workDir, 'zones.json'),
  });
  const placed: Array<{ frameId: number; frameTimeMs: number; placedMs: number }> = [];
  try {
    const done = new Promise<void>((resolve) => {
      station.onMessage((message: ServerMessage) => {
        if (message.type !== 'detections') return;
        const grounded = message.detections.some((d) => d.className === 'bear' && d.ground);
        if (!grounded) return;
        placed.push({
          frameId: message.frameId,
          frameTimeMs: message.frameTimeMs,
          placedMs: Date.now(),
        });
        if (placed.length === END_TO_END_FRAMES) resolve();
      });
    });
    await waitFor(() => station.vehicle?.link === 'connected', 'the simulator', 30_000);
    const takeoff = await station.execute({ kind: 'arm-takeoff', altitudeM: TAKEOFF_ALTITUDE_M });
    if (!takeoff.ok) throw new Error(`take-off refused: ${takeoff.text}`);
    await withTimeout(
      done,
      `${END_TO_END_FRAMES} frames with a bear on the map`,
      END_TO_END_TIMEOUT_MS,
    );
  } finally {
    const tablePath = station.videoTablePath;
    await station.dispose();
    const table = tablePath ? readFrameTable(tablePath) : new Map<number, FrameTimes>();
    rmSync(workDir, { recursive: true, force: true });
    reportEndToEnd(placed, table);
  }
}

function reportEndToEnd(
  placed: Array<{ frameId: number; frameTimeMs: number; placedMs: number }>,
  table: Map<number, FrameTimes>,
): void {
  if (placed.length === 0) {
    process.stdout.write('end to end: no bear was placed on the map\n');
    return;
  }
  const fromCaptureMs = placed.map((p) => p.placedMs - p.frameTimeMs);
  const fromArrivalMs = placed
    .map((p) => {
      const times = table.get(p.frameId);
      return times ? p.placedMs - times.arrivalMs : null;
    })
    .filter((value): value is number => value !== null);
  const describe = (samples: number[]): string =>
    `p50 ${percentile(samples, 0.5).toFixed(0)} ms, p95 ${percentile(samples, 0.95).toFixed(0)} ms`;
  process.stdout.write(
    `end to end (simulator camera, ${placed.length} frames with a bear placed on the map):\n` +
      `  capture to map ${describe(fromCaptureMs)}\n` +
      (fromArrivalMs.length > 0 ? `  frame arrival to map ${describe(fromArrivalMs)}\n` : ''),
  );
  if (fromArrivalMs.length === 0) return;
  // Capture to map is measured against capture to arrival: what the camera, encoder, network
  // and decoder take before the station's own work starts.
  const toArrivalMs = placed
    .map((p) => table.get(p.frameId))
    .filter((times): times is FrameTimes => times !== undefined)
    .map((times) => times.arrivalMs - times.frameTimeMs);
  for (const fraction of [0.5, 0.95]) {
    const name = `p${fraction * 100}`;
    report(`frame arrival to map ${name}`, percentile(fromArrivalMs, fraction), null);
    const baseline = Math.round(percentile(toArrivalMs, fraction));
    report(`capture to map ${name}`, percentile(fromCaptureMs, fraction), baseline);
  }
}

async function waitFor(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
