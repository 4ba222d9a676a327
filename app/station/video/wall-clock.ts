// Frames stamped with their capture wall-clock time. A sender that encodes with
// wallClockEncoderArgs puts each frame's capture time (ms since epoch, modulo the MPEG-TS 33-bit
// 90 kHz wrap) in its PTS, so the station can tell how old every frame is when it arrives.

import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Disposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import { ffmpegCommand, stderrTail } from './ffmpeg';

const log = createLogger('wall-clock');

/** MPEG-TS timestamps are 33 bits of a 90 kHz clock: they wrap every 26.5 hours. */
export const PTS_WRAP_MS = 2 ** 33 / 90;
/** A PTS this close to the arrival time (after unwrapping) is taken as capture wall-clock time. */
export const CLOCK_TOLERANCE_MS = 10_000;

/**
 * The capture time (ms since epoch) a PTS stands for, or null when the PTS is not wall-clock
 * time: ptsMs is the frame's timestamp in ms as decoded (wrapped or not), arrivalMs when it came.
 */
export function captureTimeFromPts(ptsMs: number, arrivalMs: number): number | null {
  if (!Number.isFinite(ptsMs) || !Number.isFinite(arrivalMs)) return null;
  const wraps = Math.round((arrivalMs - ptsMs) / PTS_WRAP_MS);
  const captureMs = ptsMs + wraps * PTS_WRAP_MS;
  return Math.abs(arrivalMs - captureMs) <= CLOCK_TOLERANCE_MS ? Math.round(captureMs) : null;
}

export interface WallClockFormat {
  widthPx: number;
  heightPx: number;
  /** The nominal frame rate the sender aims for. */
  fps: number;
  codec?: 'h264' | 'h265';
  /** Pixel format of the raw frames written to ffmpeg's stdin; rgb24 by default. */
  pixelFormat?: 'rgb24' | 'rgba' | 'bgr24' | 'gray';
}

function checkFormat(format: WallClockFormat): void {
  const { widthPx, heightPx, fps } = format;
  if (!Number.isInteger(widthPx) || !Number.isInteger(heightPx) || widthPx < 16 || heightPx < 16) {
    throw new Error(
      `wall-clock stream size must be whole pixels >= 16, got ${widthPx}x${heightPx}`,
    );
  }
  if (widthPx % 2 !== 0 || heightPx % 2 !== 0) {
    throw new Error(`wall-clock stream size must be even for 4:2:0, got ${widthPx}x${heightPx}`);
  }
  if (!(fps > 0 && fps <= 120)) throw new Error(`wall-clock stream fps must be in (0, 120]`);
}

/**
 * ffmpeg arguments that read raw frames from stdin and send them as low-latency H.264 or H.265
 * in MPEG-TS to `target` (for example "udp://127.0.0.1:5600"), each frame's PTS its arrival
 * wall-clock time at ffmpeg, which for a sender writing frames as it makes them is capture
 * time. -copyts keeps the clock time; mpegts_copyts and muxdelay 0 stop the muxer shifting it.
 */
export function wallClockEncoderArgs(target: string, format: WallClockFormat): string[] {
  checkFormat(format);
  const h265 = format.codec === 'h265';
  const keyframeEvery = String(Math.max(1, Math.round(format.fps)));
  const output =
    target.startsWith('udp://') && !target.includes('pkt_size')
      ? `${target}${target.includes('?') ? '&' : '?'}pkt_size=1316`
      : target;
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-f',
    'rawvideo',
    '-pix_fmt',
    format.pixelFormat ?? 'rgb24',
    '-video_size',
    `${format.widthPx}x${format.heightPx}`,
    // The raw demuxer's time base is 1/framerate, and wall-clock stamps are rounded to it:
    // 1000 keeps them to the millisecond. The nominal rate goes to the encoder with -r.
    '-framerate',
    '1000',
    '-use_wallclock_as_timestamps',
    '1',
    '-i',
    'pipe:0',
    '-c:v',
    h265 ? 'libx265' : 'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    // A keyframe a second: a receiver that joins or reconnects has a picture within a second.
    '-g',
    keyframeEvery,
    '-bf',
    '0',
    ...(h265 ? ['-x265-params', 'log-level=error:repeat-headers=1'] : []),
    '-pix_fmt',
    'yuv420p',
    '-r',
    String(format.fps),
    '-enc_time_base',
    '1/90000',
    '-fps_mode',
    'passthrough',
    '-copyts',
    '-f',
    'mpegts',
    '-mpegts_copyts',
    '1',
    '-muxdelay',
    '0',
    '-flush_packets',
    '1',
    output,
  ];
}

export interface WallClockTestStream extends Disposable {
  readonly target: string;
  /** Resolves when both ffmpeg processes have exited. */
  readonly ended: Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Sends ffmpeg's testsrc pattern as a live wall-clock-stamped stream to 127.0.0.1 through the
 * same rawvideo pipe and encoder arguments a simulator uses: one ffmpeg paces testsrc in real
 * time into the other's stdin. For tests and demos; `port` is the UDP port on 127.0.0.1.
 */
export function startWallClockTestStream(options: {
  port: number;
  widthPx?: number;
  heightPx?: number;
  fps?: number;
  codec?: 'h264' | 'h265';
  ffmpegPath?: string;
}): WallClockTestStream {
  const format: WallClockFormat = {
    widthPx: options.widthPx ?? 320,
    heightPx: options.heightPx ?? 240,
    fps: options.fps ?? 25,
    codec: options.codec ?? 'h264',
  };
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new Error(`test stream port must be 1..65535, got ${options.port}`);
  }
  const target = `udp://127.0.0.1:${options.port}`;
  const encoderArgs = wallClockEncoderArgs(target, format);
  const ffmpegPath = options.ffmpegPath ?? ffmpegCommand();
  const source = spawn(
    ffmpegPath,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-f',
      'lavfi',
      '-i',
      `testsrc=size=${format.widthPx}x${format.heightPx}:rate=${format.fps},realtime`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const encoder = spawn(ffmpegPath, encoderArgs, { stdio: ['pipe', 'ignore', 'pipe'] });
  (source.stdout as Readable).pipe(encoder.stdin as Writable);
  // EPIPE when one side stops first: the close handlers below tell what happened.
  (encoder.stdin as Writable).on('error', () => {});
  (source.stdout as Readable).on('error', () => {});

  const exited = (child: ChildProcess, name: string): Promise<void> =>
    new Promise((resolve) => {
      let stderr = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-4000);
      });
      child.once('error', (error) => {
        log.error(`test stream ${name}: ${error.message}`);
        resolve();
      });
      child.once('close', (code, signal) => {
        if (code !== 0 && signal === null) log.warn(`test stream ${name}: ${stderrTail(stderr)}`);
        resolve();
      });
    });
  const ended = Promise.all([exited(source, 'source'), exited(encoder, 'encoder')]).then(
    () => undefined,
  );
  let disposed = false;
  return {
    target,
    ended,
    async dispose() {
      if (disposed) return ended;
      disposed = true;
      for (const child of [source, encoder]) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await ended;
    },
  };
}
