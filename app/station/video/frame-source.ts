// Video ingest. One ffmpeg process decodes the source in real time and writes every frame
// twice: rgb24 on stdout for the detector and JPEG on fd 3 for the UI, so each raw frame has
// the picture the operator sees. Live streams also log each frame's PTS (showinfo on stderr),
// paired with the frames in order, so a wall-clock-stamped stream gives its capture times.
// Files and images that fail become an 'error' status; live streams never stop for good: they
// report 'reconnecting' and are opened again. Nothing here throws into the station.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { type Disposable, toDisposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import type { VideoStatus } from '../../core/protocol';
import { DEMO_FPS, DEMO_LABEL, ensureDemoClip } from './demo-clip';
import {
  describeSpawnError,
  type FfmpegResult,
  ffmpegCommand,
  parsePpm,
  runFfmpeg,
  stderrTail,
} from './ffmpeg';
import { JpegStreamSplitter } from './jpeg-stream';
import { isLiveSpec, parseLiveSpec, prepareLiveSpec } from './live-input';
import { captureTimeFromPts } from './wall-clock';

const log = createLogger('video');

export interface VideoFrame {
  /** Counts up from 1 for each source opened. */
  frameId: number;
  /**
   * Capture time, ms since epoch, where the stream carries wall-clock stamps; otherwise the
   * time the frame arrived from ffmpeg.
   */
  frameTimeMs: number;
  /** When the frame arrived from ffmpeg, ms since epoch. */
  arrivalMs: number;
  /** arrivalMs minus capture time; null where the stream's times are not wall-clock time. */
  delayMs: number | null;
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
  /**
   * Frames skipped after delivery (a detector replacing a waiting frame with a newer one),
   * added into status.droppedFrames.
   */
  droppedDownstream?: () => number;
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
/** A live stream that shows no picture for this long after opening is opened again. */
const LIVE_OPEN_TIMEOUT_MS = 10_000;
/** A live stream silent for this long once running is opened again. */
const LIVE_STALL_MS = 3000;
const WATCHDOG_INTERVAL_MS = 500;
/** Waits before each reopening of a live stream, the last repeated. */
const RECONNECT_BACKOFF_MS = [500, 1000, 2000, 4000];
/**
 * A wall-clock-stamped stream whose frames arrive this much later than the earliest delay seen
 * in the run has fallen behind (data piling up in ffmpeg): it is reopened to catch up.
 */
const MAX_FALL_BEHIND_MS = 1500;
/**
 * What a live ffmpeg (logging at info) says when it caught SIGINT, SIGTERM or SIGHUP. The
 * station ends its own ffmpegs with SIGKILL, so this is a signal from outside: Ctrl-C to the
 * whole process group, a shutdown. A new ffmpeg then would be one that signal never reached,
 * left running (holding the port) if the station goes before it disposes the source.
 */
const FFMPEG_GOT_SIGNAL = /received signal (\d+)/;
const OUTSIDE_SIGNALS = new Set<string>(['SIGINT', 'SIGTERM', 'SIGHUP']);

const SHOWINFO_PTS = /Parsed_showinfo_\d+ @ [^\]]*\] n:\s*\d+ pts:\s*(-?\d+|NOPTS)/;
const DELAY_CLOCK = 'capture to arrival at the station (the stream carries wall-clock times)';
const DELAY_NOT_CLOCK = "not measurable: the stream's timestamps are not wall-clock time";
const DELAY_FILE = 'not measurable: played from a file';

interface Input {
  /** Named in errors: the file, pattern or folder the operator gave. */
  what: string;
  /** ffmpeg arguments that open the input (before -i's value, and -i itself). */
  args: string[];
  /** The fps filter for sources that can run faster than wanted. */
  fpsFilter: string | null;
  /** A network stream: reconnects, and its PTS may be capture wall-clock time. */
  live: boolean;
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
  if (isLiveSpec(spec)) {
    const live = parseLiveSpec(spec, path.join(options.cacheDir, 'sdp'));
    prepareLiveSpec(live);
    return {
      what: `live stream ${live.display}`,
      args: live.args,
      fpsFilter: fps !== undefined ? `fps=${fps}` : null,
      live: true,
    };
  }
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
      live: false,
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
      live: false,
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
      live: false,
    };
  }
  return {
    what: `video file ${spec}`,
    args: [...loop, '-i', spec],
    fpsFilter: fps !== undefined ? `fps=${fps}` : null,
    live: false,
  };
}

/** What the operator is told they are watching. */
function labelFor(spec: string): string {
  if (spec === 'demo') return DEMO_LABEL;
  if (isLiveSpec(spec)) return `live: ${parseLiveSpec(spec, '').display}`;
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

interface PendingFrame {
  rgb: Uint8Array;
  jpeg: Buffer;
  /** The frame's PTS in ms for live streams (NaN where ffmpeg had none); null for files. */
  ptsMs: number | null;
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
  private watchdog: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly frameTimesMs: number[] = [];
  private nextFrameId = 1;
  private disposed = false;
  private readonly live: boolean;
  /** Failed opening attempts in a row, for the back-off. */
  private failuresInRow = 0;
  private reconnects = 0;
  private droppedHere = 0;
  private latestDelayMs: number | null = null;

  constructor(
    private readonly spec: string,
    private readonly options: FrameSourceOptions,
  ) {
    this.label = labelFor(spec);
    this.live = isLiveSpec(spec);
    this.current = {
      label: this.label,
      state: 'starting',
      framesPerSecond: 0,
      width: 0,
      height: 0,
      error: null,
      live: this.live,
      delayMs: null,
      delayMeasures: this.live ? DELAY_NOT_CLOCK : DELAY_FILE,
      frameTimeSource: 'arrival',
      droppedFrames: 0,
      reconnects: 0,
    };
    // Start on a later turn, so listeners added right after opening see every change.
    setImmediate(() => this.open());
  }

  get status(): VideoStatus {
    return { ...this.current, droppedFrames: this.droppedFrames() };
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
    this.clearRunTimers();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.killChild();
    if (this.current.state !== 'error') {
      this.update({ state: 'stopped', framesPerSecond: 0, delayMs: null });
    }
    this.frameListeners.clear();
    this.statusListeners.clear();
  }

  private async killChild(): Promise<void> {
    const child = this.child;
    if (child && child.pid !== undefined && child.exitCode === null && !child.signalCode) {
      // A live ffmpeg blocked on a silent socket ignores SIGTERM, and has nothing to finish.
      child.kill(this.live ? 'SIGKILL' : 'SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(killTimer);
    }
  }

  private droppedFrames(): number {
    return this.droppedHere + (this.options.droppedDownstream?.() ?? 0);
  }

  private open(): void {
    this.start().catch((error: Error) => {
      if (this.live && !error.message.startsWith('ffmpeg not found')) this.retry(error.message);
      else this.setError(error.message);
    });
  }

  /** ffmpeg was signalled from outside: say so, and open nothing new. */
  private stopForGood(reason: string): void {
    if (this.disposed) return;
    log.warn(`${reason}; not reopened`);
    this.latestDelayMs = null;
    this.update({ state: 'stopped', framesPerSecond: 0, delayMs: null, error: reason });
  }

  /** A live stream dropped: say why, and open it again after a short back-off. */
  private retry(reason: string): void {
    if (this.disposed || this.retryTimer) return;
    const waitMs =
      RECONNECT_BACKOFF_MS[Math.min(this.failuresInRow, RECONNECT_BACKOFF_MS.length - 1)];
    this.failuresInRow++;
    log.warn(`${reason}; reconnecting in ${waitMs} ms`);
    this.latestDelayMs = null;
    this.update({ state: 'reconnecting', framesPerSecond: 0, delayMs: null, error: reason });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.disposed) return;
      this.reconnects++;
      this.update({ reconnects: this.reconnects });
      this.open();
    }, waitMs);
  }

  private async start(): Promise<void> {
    const ffmpegPath = this.options.ffmpegPath ?? ffmpegCommand();
    const input = await describeInput(this.spec, this.options, this.abort.signal);
    if (this.disposed) return;

    // Decode one frame first: it proves the input opens and gives the size to expect. A live
    // stream that shows nothing in time is given up on, to be tried again.
    const probeAbort = new AbortController();
    const onDispose = (): void => probeAbort.abort();
    this.abort.signal.addEventListener('abort', onDispose);
    const probeTimer = this.live ? setTimeout(onDispose, LIVE_OPEN_TIMEOUT_MS) : null;
    let probe: FfmpegResult;
    try {
      probe = await runFfmpeg(
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
        probeAbort.signal,
      );
    } catch (error) {
      if (this.disposed) return;
      if (probeAbort.signal.aborted) {
        throw new Error(`no picture from ${input.what} within ${LIVE_OPEN_TIMEOUT_MS / 1000} s`);
      }
      throw error;
    } finally {
      if (probeTimer) clearTimeout(probeTimer);
      this.abort.signal.removeEventListener('abort', onDispose);
    }
    if (this.disposed) return;
    if (probe.code !== 0 || probe.stdout.length === 0) {
      throw new Error(`cannot decode ${input.what}: ${stderrTail(probe.stderr)}`);
    }
    const first = parsePpm(probe.stdout, input.what);
    const maxWidthPx = this.options.maxWidth ?? DEFAULT_MAX_WIDTH_PX;
    const { width, height } = outputSize(first.width, first.height, maxWidthPx);

    // Scale and pad to one fixed size: rawvideo has no per-frame header, and image folders
    // may hold pictures of different sizes. showinfo comes last, so it sees exactly the frames
    // that are written; settb makes its PTS whole milliseconds.
    const fit =
      `scale=${width}:${height}:force_original_aspect_ratio=decrease,` +
      `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,setsar=1`;
    let chain = input.fpsFilter ? `${fit},${input.fpsFilter}` : fit;
    // After showinfo has read the stream's times, frames are renumbered: a lossy stream can
    // repeat a timestamp, which would stop the rawvideo muxer.
    if (input.live) chain += ',settb=1/1000,showinfo,setpts=N';
    const graph = `[0:v]${chain},split=2[a][b];[a]format=rgb24[raw];[b]format=yuvj420p[jpg]`;
    // Every frame the filters pass goes to both outputs once: no duplicates, no drops, so the
    // raw frames, the JPEGs and the showinfo lines pair up in order.
    // Live frames carry their count as timestamps (setpts=N, in ms): the encoders must keep
    // that time base, not round it to their frame rate's.
    const passthrough = [
      '-fps_mode',
      'passthrough',
      ...(input.live ? ['-enc_time_base', '1/1000'] : []),
    ];
    const args = [
      '-hide_banner',
      '-loglevel',
      input.live ? 'info' : 'error',
      '-nostats',
      '-nostdin',
      // reinit_filter 0: one filter graph for the whole run, so setpts's count never restarts
      // (scale still follows a change of picture size).
      ...(input.live ? ['-copyts', '-reinit_filter', '0'] : []),
      ...input.args,
      '-filter_complex',
      graph,
      '-map',
      '[raw]',
      ...passthrough,
      '-f',
      'rawvideo',
      '-flush_packets',
      '1',
      'pipe:1',
      '-map',
      '[jpg]',
      ...passthrough,
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

    const frameBytes = width * height * 3;
    const rawFrames: Uint8Array[] = [];
    const jpegs: Buffer[] = [];
    const ptsQueue: number[] = [];
    const splitter = new JpegStreamSplitter();
    let filling = new Uint8Array(frameBytes);
    let filled = 0;
    /** Why this run is being ended by the station; null while it runs or ends by itself. */
    let endReason: string | null = null;
    const startedMs = Date.now();
    let lastArrivalMs: number | null = null;
    let minDelayMs = Infinity;

    let stderr = '';
    let stderrLine = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (stderrLine + chunk).split('\n');
      stderrLine = lines.pop() ?? '';
      for (const line of lines) {
        const pts = SHOWINFO_PTS.exec(line);
        if (pts) ptsQueue.push(pts[1] === 'NOPTS' ? NaN : Number(pts[1]));
        else if (!line.includes('Parsed_showinfo')) stderr = (stderr + line + '\n').slice(-8000);
      }
      pair();
    });

    const stop = (message: string): void => {
      if (endReason !== null) return;
      endReason = message;
      if (!this.live) this.setError(message);
      child.kill('SIGKILL');
    };
    const pair = (): void => {
      const ready: PendingFrame[] = [];
      while (rawFrames.length > 0 && jpegs.length > 0 && (!input.live || ptsQueue.length > 0)) {
        ready.push({
          rgb: rawFrames.shift() as Uint8Array,
          jpeg: jpegs.shift() as Buffer,
          ptsMs: input.live ? (ptsQueue.shift() as number) : null,
        });
      }
      if (ready.length > 0 && endReason === null) {
        // Several frames complete at once means the station was busy: only the newest is worth
        // showing and detecting; the older ones are counted, not queued.
        this.droppedHere += ready.length - 1;
        const newest = ready[ready.length - 1];
        const arrivalMs = Date.now();
        lastArrivalMs = arrivalMs;
        const captureMs =
          newest.ptsMs === null ? null : captureTimeFromPts(newest.ptsMs, arrivalMs);
        const delayMs = captureMs === null ? null : arrivalMs - captureMs;
        this.failuresInRow = 0;
        this.noteDelay(delayMs);
        this.deliver({
          frameId: this.nextFrameId++,
          frameTimeMs: captureMs ?? arrivalMs,
          arrivalMs,
          delayMs,
          width,
          height,
          rgb: newest.rgb,
          jpeg: newest.jpeg,
        });
        if (delayMs !== null) {
          minDelayMs = Math.min(minDelayMs, delayMs);
          if (delayMs - minDelayMs > MAX_FALL_BEHIND_MS) {
            stop(`fell ${((delayMs - minDelayMs) / 1000).toFixed(1)} s behind ${input.what}`);
          }
        }
      }
      const most = Math.max(rawFrames.length, jpegs.length, input.live ? ptsQueue.length : 0);
      if (most > MAX_UNPAIRED_FRAMES) {
        stop(`ffmpeg's raw, JPEG and timestamp outputs for ${input.what} are out of step`);
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
      if (endReason !== null) return;
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
      this.clearRunTimers();
      if (this.disposed) return;
      const caught = FFMPEG_GOT_SIGNAL.exec(stderr);
      if (endReason === null && (caught || (signal !== null && OUTSIDE_SIGNALS.has(signal)))) {
        const which = signal ?? `signal ${caught?.[1]}`;
        this.stopForGood(`ffmpeg reading ${input.what} was stopped by ${which} from outside`);
        return;
      }
      if (this.live) {
        this.retry(
          endReason ??
            `ffmpeg stopped reading ${input.what} (${signal ?? `exit code ${code}`}): ` +
              stderrTail(stderr),
        );
        return;
      }
      if (endReason !== null) return;
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
    this.statusTimer = setInterval(() => this.refreshStatus(), STATUS_INTERVAL_MS);
    this.statusTimer.unref();
    if (input.live) {
      // A live stream that goes quiet does not end ffmpeg (UDP just waits): notice and reopen.
      this.watchdog = setInterval(() => {
        const nowMs = Date.now();
        if (lastArrivalMs === null && nowMs - startedMs > LIVE_OPEN_TIMEOUT_MS) {
          stop(`no frame from ${input.what} within ${LIVE_OPEN_TIMEOUT_MS / 1000} s`);
        } else if (lastArrivalMs !== null && nowMs - lastArrivalMs > LIVE_STALL_MS) {
          stop(`no frame from ${input.what} for ${LIVE_STALL_MS / 1000} s`);
        }
      }, WATCHDOG_INTERVAL_MS);
      this.watchdog.unref();
    }
  }

  private clearRunTimers(): void {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private noteDelay(delayMs: number | null): void {
    this.latestDelayMs = delayMs;
    const clock = delayMs !== null;
    // Tell at once when the kind of time changes; the value itself goes out once a second.
    if (clock !== (this.current.frameTimeSource === 'capture')) {
      this.update({
        delayMs,
        frameTimeSource: clock ? 'capture' : 'arrival',
        delayMeasures: clock ? DELAY_CLOCK : this.live ? DELAY_NOT_CLOCK : DELAY_FILE,
      });
    }
  }

  private deliver(frame: VideoFrame): void {
    this.frameTimesMs.push(frame.arrivalMs);
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

  private refreshStatus(): void {
    if (this.current.state !== 'running') return;
    const framesPerSecond = this.measuredFps(Date.now());
    const delayMs = this.latestDelayMs;
    const changed =
      Math.abs(framesPerSecond - this.current.framesPerSecond) >= 0.1 ||
      delayMs !== this.current.delayMs ||
      this.droppedFrames() !== this.current.droppedFrames;
    if (changed) this.update({ framesPerSecond, delayMs });
  }

  private setError(message: string): void {
    if (this.disposed) return;
    log.error(message);
    this.update({ state: 'error', framesPerSecond: 0, delayMs: null, error: message });
  }

  private update(change: Partial<VideoStatus>): void {
    this.current = { ...this.current, ...change, droppedFrames: this.droppedFrames() };
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
 * Opens a video source: "demo", a video file, an image sequence pattern (dir/img_%04d.jpg), a
 * folder of images, or a live stream (rtsp://..., udp://HOST:PORT carrying MPEG-TS,
 * rtp://HOST:PORT?codec=h264|h265). Returns at once; progress and failures arrive as status
 * changes. A malformed live URL throws here.
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
