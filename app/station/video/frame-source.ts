// Video ingest. One ffmpeg process decodes the source in real time and writes every frame
// twice: rgb24 on stdout for the detector and JPEG on fd 3 for the UI, so each raw frame has
// the picture the operator sees. Failures become an 'error' status, never an exception.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { type Disposable, toDisposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import type { VideoStatus } from '../../core/protocol';
import { DEMO_FPS, DEMO_LABEL, ensureDemoClip } from './demo-clip';
import { describeSpawnError, ffmpegCommand, parsePpm, runFfmpeg, stderrTail } from './ffmpeg';
import { JpegStreamSplitter } from './jpeg-stream';

const log = createLogger('video');

export interface VideoFrame {
  /** Counts up from 1 for each source opened. */
  frameId: number;
  /** Wall-clock time the frame arrived from ffmpeg, ms since epoch. */
  frameTimeMs: number;
  width: number;
  height: number;
  /** rgb24, row-major, width x height x 3 bytes. */
  rgb: Uint8Array;
  jpeg: Buffer;
}

export interface FrameSource extends Disposable {
  readonly label: string;
  readonly status: VideoStatus;
  onFrame(listener: (frame: VideoFrame) => void): Disposable;
  onStatus(listener: (status: VideoStatus) => void): Disposable;
  dispose(): Promise<void>;
}

export interface FrameSourceOptions {
  /** The demo clip and other derived files are cached here. */
  cacheDir: string;
  sharedDir: string;
  /** Frames wider than this are scaled down; 640 by default. */
  maxWidth?: number;
  /** Frame rate cap for videos; the rate of image sequences (5 by default). */
  fps?: number;
  /** ffmpeg to run; URSA_FFMPEG or "ffmpeg" from PATH by default. */
  ffmpegPath?: string;
}

const DEFAULT_MAX_WIDTH_PX = 640;
const DEFAULT_SEQUENCE_FPS = 5;
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp']);
/** Frames seen over this window give the measured rate. */
const FPS_WINDOW_MS = 3000;
const STATUS_INTERVAL_MS = 1000;
const STOP_GRACE_MS = 2000;
/** One output running this many frames ahead of the other means the pipes are out of step. */
const MAX_UNPAIRED_FRAMES = 30;
const JPEG_QUALITY = '5';

interface Input {
  /** Named in errors: the file, pattern or folder the operator gave. */
  what: string;
  /** ffmpeg arguments that open the input (before -i's value, and -i itself). */
  args: string[];
  /** The fps filter for sources that can run faster than wanted. */
  fpsFilter: string | null;
}

function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]{}]/g, (c) => `\\${c}`);
}

/** A printf-style pattern (img_%04d.jpg) as a RegExp over file names. */
function patternRegExp(fileNamePattern: string): RegExp {
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const parts = fileNamePattern.split(/(%0?\d*d)/);
  const source = parts.map((part) => (/^%0?\d*d$/.test(part) ? '\\d+' : escape(part))).join('');
  return new RegExp(`^${source}$`);
}

async function describeInput(
  spec: string,
  options: FrameSourceOptions,
  signal: AbortSignal,
): Promise<Input> {
  const fps = options.fps;
  const loop = ['-stream_loop', '-1', '-re'];
  if (spec === 'demo') {
    const clip = await ensureDemoClip({
      cacheDir: options.cacheDir,
      sharedDir: options.sharedDir,
      ffmpegPath: options.ffmpegPath,
      signal,
    });
    return {
      what: `demo clip ${clip}`,
      args: [...loop, '-i', clip],
      fpsFilter: fps !== undefined && fps < DEMO_FPS ? `fps=${fps}` : null,
    };
  }
  const sequenceFps = String(fps ?? DEFAULT_SEQUENCE_FPS);
  if (/%0?\d*d/.test(spec)) {
    const dir = path.dirname(spec);
    if (!existsSync(dir)) throw new Error(`image sequence folder ${dir} does not exist`);
    const match = patternRegExp(path.basename(spec));
    const count = (await readdir(dir)).filter((name) => match.test(name)).length;
    if (count === 0) throw new Error(`no images in ${dir} match the pattern ${spec}`);
    return {
      what: `image sequence ${spec}`,
      args: ['-framerate', sequenceFps, ...loop, '-f', 'image2', '-i', spec],
      fpsFilter: null,
    };
  }
  if (!existsSync(spec)) throw new Error(`video file ${spec} does not exist`);
  if (statSync(spec).isDirectory()) {
    // ffmpeg opens one codec for a sequence, so a folder plays its most common image type.
    const byExtension = new Map<string, number>();
    for (const name of await readdir(spec)) {
      const extension = path.extname(name);
      if (!IMAGE_EXTENSIONS.has(extension.toLowerCase())) continue;
      byExtension.set(extension, (byExtension.get(extension) ?? 0) + 1);
    }
    const [extension] = [...byExtension.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
    if (!extension) {
      throw new Error(`folder ${spec} holds no images (${[...IMAGE_EXTENSIONS].join(' ')})`);
    }
    const glob = `${escapeGlob(path.resolve(spec))}/*${escapeGlob(extension)}`;
    return {
      what: `image folder ${spec}`,
      args: [
        '-framerate',
        sequenceFps,
        ...loop,
        '-f',
        'image2',
        '-pattern_type',
        'glob',
        '-i',
        glob,
      ],
      fpsFilter: null,
    };
  }
  return {
    what: `video file ${spec}`,
    args: [...loop, '-i', spec],
    fpsFilter: fps !== undefined ? `fps=${fps}` : null,
  };
}

/** What the operator is told they are watching. */
function labelFor(spec: string): string {
  if (spec === 'demo') return DEMO_LABEL;
  if (/%0?\d*d/.test(spec)) return `images: ${spec}`;
  if (existsSync(spec) && statSync(spec).isDirectory()) return `images: ${spec}`;
  return `file: ${path.basename(spec)}`;
}

/** Input arguments without real-time pacing or looping, for probing. */
function probeArgs(input: Input): string[] {
  const args: string[] = [];
  for (let i = 0; i < input.args.length; i++) {
    if (input.args[i] === '-re') continue;
    if (input.args[i] === '-stream_loop') {
      i++;
      continue;
    }
    args.push(input.args[i]);
  }
  return args;
}

function outputSize(widthPx: number, heightPx: number, maxWidthPx: number) {
  const scale = Math.min(1, maxWidthPx / widthPx);
  // Even sizes keep the JPEG's 4:2:0 chroma planes whole.
  const even = (value: number): number => Math.max(2, 2 * Math.floor(value / 2));
  return { width: even(widthPx * scale), height: even(heightPx * scale) };
}

class FfmpegFrameSource implements FrameSource {
  readonly label: string;
  private current: VideoStatus;
  private readonly frameListeners = new Set<(frame: VideoFrame) => void>();
  private readonly statusListeners = new Set<(status: VideoStatus) => void>();
  private readonly abort = new AbortController();
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private statusTimer: NodeJS.Timeout | null = null;
  private readonly frameTimesMs: number[] = [];
  private nextFrameId = 1;
  private disposed = false;

  constructor(
    private readonly spec: string,
    private readonly options: FrameSourceOptions,
  ) {
    this.label = labelFor(spec);
    this.current = {
      label: this.label,
      state: 'starting',
      framesPerSecond: 0,
      width: 0,
      height: 0,
      error: null,
    };
    // Start on a later turn, so listeners added right after opening see every change.
    setImmediate(() => {
      this.start().catch((error: Error) => this.setError(error.message));
    });
  }

  get status(): VideoStatus {
    return { ...this.current };
  }

  onFrame(listener: (frame: VideoFrame) => void): Disposable {
    this.frameListeners.add(listener);
    return toDisposable(() => {
      this.frameListeners.delete(listener);
    });
  }

  onStatus(listener: (status: VideoStatus) => void): Disposable {
    this.statusListeners.add(listener);
    return toDisposable(() => {
      this.statusListeners.delete(listener);
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.abort.abort();
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
    const child = this.child;
    if (child && child.pid !== undefined && child.exitCode === null && !child.signalCode) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(killTimer);
    }
    if (this.current.state !== 'error') this.update({ state: 'stopped', framesPerSecond: 0 });
    this.frameListeners.clear();
    this.statusListeners.clear();
  }

  private async start(): Promise<void> {
    const ffmpegPath = this.options.ffmpegPath ?? ffmpegCommand();
    const input = await describeInput(this.spec, this.options, this.abort.signal);
    if (this.disposed) return;

    // Decode one frame first: it proves the input opens and gives the size to expect.
    const probe = await runFfmpeg(
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        ...probeArgs(input),
        '-frames:v',
        '1',
        '-f',
        'image2pipe',
        '-c:v',
        'ppm',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ],
      ffmpegPath,
      this.abort.signal,
    );
    if (this.disposed) return;
    if (probe.code !== 0 || probe.stdout.length === 0) {
      throw new Error(`cannot decode ${input.what}: ${stderrTail(probe.stderr)}`);
    }
    const first = parsePpm(probe.stdout, input.what);
    const maxWidthPx = this.options.maxWidth ?? DEFAULT_MAX_WIDTH_PX;
    const { width, height } = outputSize(first.width, first.height, maxWidthPx);

    // Scale and pad to one fixed size: rawvideo has no per-frame header, and image folders
    // may hold pictures of different sizes.
    const fit =
      `scale=${width}:${height}:force_original_aspect_ratio=decrease,` +
      `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,setsar=1`;
    const chain = input.fpsFilter ? `${fit},${input.fpsFilter}` : fit;
    const graph = `[0:v]${chain},split=2[a][b];[a]format=rgb24[raw];[b]format=yuvj420p[jpg]`;
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      ...input.args,
      '-filter_complex',
      graph,
      '-map',
      '[raw]',
      '-f',
      'rawvideo',
      '-flush_packets',
      '1',
      'pipe:1',
      '-map',
      '[jpg]',
      '-c:v',
      'mjpeg',
      '-q:v',
      JPEG_QUALITY,
      '-f',
      'mjpeg',
      '-flush_packets',
      '1',
      'pipe:3',
    ];
    this.run(ffmpegPath, args, input, width, height);
  }

  private run(ffmpegPath: string, args: string[], input: Input, width: number, height: number) {
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    const stdout = child.stdout as Readable;
    const jpegOut = child.stdio[3] as Readable;
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000);
    });

    const frameBytes = width * height * 3;
    const rawFrames: Uint8Array[] = [];
    const jpegs: Buffer[] = [];
    const splitter = new JpegStreamSplitter();
    let filling = new Uint8Array(frameBytes);
    let filled = 0;
    let failed = false;

    const stop = (message: string): void => {
      if (failed) return;
      failed = true;
      this.setError(message);
      child.kill('SIGKILL');
    };
    const pair = (): void => {
      while (rawFrames.length > 0 && jpegs.length > 0) {
        this.deliver({
          frameId: this.nextFrameId++,
          frameTimeMs: Date.now(),
          width,
          height,
          rgb: rawFrames.shift() as Uint8Array,
          jpeg: jpegs.shift() as Buffer,
        });
      }
      if (rawFrames.length > MAX_UNPAIRED_FRAMES || jpegs.length > MAX_UNPAIRED_FRAMES) {
        stop(`ffmpeg's raw and JPEG outputs for ${input.what} are out of step`);
      }
    };

    stdout.on('data', (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        filling.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          rawFrames.push(filling);
          filling = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
      pair();
    });
    jpegOut.on('data', (chunk: Buffer) => {
      if (failed) return;
      try {
        jpegs.push(...splitter.push(chunk));
      } catch (error) {
        stop(`bad JPEG from ffmpeg for ${input.what}: ${(error as Error).message}`);
        return;
      }
      pair();
    });
    // Pipe errors (EPIPE on kill) end with the process; 'close' reports what happened.
    stdout.on('error', () => {});
    jpegOut.on('error', () => {});

    child.on('error', (error) => stop(describeSpawnError(ffmpegPath, error)));
    child.on('close', (code, signal) => {
      if (this.statusTimer) clearInterval(this.statusTimer);
      this.statusTimer = null;
      if (this.disposed || failed) return;
      if (code === 0) {
        log.info(`${input.what} ended`);
        this.update({ state: 'stopped', framesPerSecond: 0 });
      } else {
        this.setError(
          `ffmpeg stopped reading ${input.what} (${signal ?? `exit code ${code}`}): ` +
            stderrTail(stderr),
        );
      }
    });

    this.update({ state: 'running', width, height, error: null });
    log.info(`playing ${input.what} at ${width}x${height}`);
    this.statusTimer = setInterval(() => this.refreshRate(), STATUS_INTERVAL_MS);
    this.statusTimer.unref();
  }

  private deliver(frame: VideoFrame): void {
    this.frameTimesMs.push(frame.frameTimeMs);
    for (const listener of [...this.frameListeners]) {
      try {
        listener(frame);
      } catch (error) {
        log.error(`frame listener failed: ${(error as Error).message}`);
      }
    }
  }

  private measuredFps(nowMs: number): number {
    while (this.frameTimesMs.length > 0 && this.frameTimesMs[0] < nowMs - FPS_WINDOW_MS) {
      this.frameTimesMs.shift();
    }
    const times = this.frameTimesMs;
    if (times.length < 2) return 0;
    const lastMs = times[times.length - 1];
    const intervalMs = (lastMs - times[0]) / (times.length - 1);
    if (intervalMs <= 0) return 0;
    // A source that has gone quiet is at 0 frames a second, whatever its past rate.
    if (nowMs - lastMs > Math.max(2 * intervalMs, STATUS_INTERVAL_MS)) return 0;
    return Math.round(100_000 / intervalMs) / 100;
  }

  private refreshRate(): void {
    if (this.current.state !== 'running') return;
    const framesPerSecond = this.measuredFps(Date.now());
    if (Math.abs(framesPerSecond - this.current.framesPerSecond) >= 0.1) {
      this.update({ framesPerSecond });
    }
  }

  private setError(message: string): void {
    if (this.disposed) return;
    log.error(message);
    this.update({ state: 'error', framesPerSecond: 0, error: message });
  }

  private update(change: Partial<VideoStatus>): void {
    this.current = { ...this.current, ...change };
    const snapshot = this.status;
    for (const listener of [...this.statusListeners]) {
      try {
        listener(snapshot);
      } catch (error) {
        log.error(`video status listener failed: ${(error as Error).message}`);
      }
    }
  }
}

/**
 * Opens a video source: "demo", a video file, an image sequence pattern (dir/img_%04d.jpg) or
 * a folder of images. Returns at once; progress and failures arrive as status changes.
 */
export function openFrameSource(spec: string, options: FrameSourceOptions): FrameSource {
  if (spec.trim().length === 0) {
    throw new Error('video source is empty: give "demo", a video file or images');
  }
  const { maxWidth, fps } = options;
  if (maxWidth !== undefined && !(Number.isInteger(maxWidth) && maxWidth >= 16)) {
    throw new Error(`video maxWidth must be a whole number of pixels >= 16, got ${maxWidth}`);
  }
  if (fps !== undefined && !(fps > 0 && fps <= 120)) {
    throw new Error(`video fps must be in (0, 120], got ${fps}`);
  }
  return new FfmpegFrameSource(spec, options);
}
