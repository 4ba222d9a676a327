// Records the station's video beside its flight record: the JPEG frames the station saw,
// encoded by ffmpeg (libx264 ultrafast) into MPEG-TS, which reads back up to the last packet
// after a kill -9, and a CSV frame table written as frames go in, mapping each recorded frame's
// index to the station's frameId and frame time, so replay can line video up with telemetry.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Disposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import { describeSpawnError, ffmpegCommand, stderrTail } from './ffmpeg';

const log = createLogger('video-record');

export const FRAME_TABLE_HEADER = 'frame,frameId,frameTimeMs,arrivalMs,delayMs';
/** JPEG bytes waiting for ffmpeg past this mean it cannot keep up: frames are left out. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
const STOP_GRACE_MS = 5000;
const DEFAULT_NOMINAL_FPS = 25;

export interface RecordedFrame {
  frameId: number;
  frameTimeMs: number;
  arrivalMs: number;
  delayMs: number | null;
  /** One JPEG image. */
  jpeg: Buffer;
}

export interface VideoRecorderOptions {
  /**
   * The rate written into the file's timestamps; the real times are in the frame table.
   * 25 by default.
   */
  nominalFps?: number;
  ffmpegPath?: string;
  /** Told once, in words for the operator, when the recording stops because of a failure. */
  onError?: (message: string) => void;
}

export class VideoRecorder implements Disposable {
  private readonly child: ChildProcess;
  private readonly stdin: Writable;
  private readonly exited: Promise<void>;
  private tableFd: number | null;
  private recorded = 0;
  private skipped = 0;
  private failure: string | null = null;
  private stopping = false;
  private stderr = '';

  private constructor(
    readonly videoPath: string,
    readonly tablePath: string,
    tableFd: number,
    private readonly options: VideoRecorderOptions,
  ) {
    this.tableFd = tableFd;
    const ffmpegPath = options.ffmpegPath ?? ffmpegCommand();
    const fps = options.nominalFps ?? DEFAULT_NOMINAL_FPS;
    // passthrough: one encoded frame for each JPEG, never a duplicate or a drop, so frame N of
    // the file is row N of the table.
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      '-n',
      // No input probe: by default ffmpeg reads 5 s of stream (at the nominal rate) before it
      // opens the output, so at a few frames a second the file stayed empty for half a minute.
      // The input is known: JPEGs, one a frame.
      '-probesize',
      '32',
      '-analyzeduration',
      '0',
      '-f',
      'image2pipe',
      '-c:v',
      'mjpeg',
      '-framerate',
      String(fps),
      '-i',
      'pipe:0',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-threads',
      '1',
      '-pix_fmt',
      'yuv420p',
      '-fps_mode',
      'passthrough',
      // Each packet goes to the file as it is made: no muxer queueing, no output buffering.
      '-muxdelay',
      '0',
      '-muxpreload',
      '0',
      '-f',
      'mpegts',
      '-flush_packets',
      '1',
      videoPath,
    ];
    // Its own process group: Ctrl-C in a terminal goes to the whole group, and an ffmpeg that
    // died of it would lose the frames still in the pipe, so the table would list frames the
    // file lacks. It ends when its input ends: when the station disposes it, or dies.
    this.child = spawn(ffmpegPath, args, {
      stdio: ['pipe', 'ignore', 'pipe'],
      detached: process.platform !== 'win32',
    });
    this.stdin = this.child.stdin as Writable;
    this.stdin.on('error', (error) => this.fail(`video recording stopped: ${error.message}`));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.fail(`no video recording: ${describeSpawnError(ffmpegPath, error)}`);
        resolve();
      });
      this.child.once('close', (code, signal) => {
        if (!this.stopping) {
          this.fail(
            `video recording stopped: ffmpeg ended (${signal ?? `exit code ${code}`}): ` +
              stderrTail(this.stderr),
          );
        }
        resolve();
      });
    });
  }

  /**
   * Starts recording to BASE.ts with its table BASE.frames.csv. Never overwrites: throws an
   * Error naming the file when either exists or the table cannot be made.
   */
  static start(basePath: string, options: VideoRecorderOptions = {}): VideoRecorder {
    const fps = options.nominalFps ?? DEFAULT_NOMINAL_FPS;
    if (!(fps > 0 && fps <= 240)) throw new Error(`video recording fps must be in (0, 240]`);
    const videoPath = `${basePath}.ts`;
    const tablePath = `${basePath}.frames.csv`;
    if (existsSync(videoPath)) throw new Error(`video record ${videoPath} already exists`);
    let fd: number;
    try {
      fd = openSync(tablePath, 'wx');
    } catch (error) {
      throw new Error(`cannot make frame table ${tablePath}: ${(error as Error).message}`);
    }
    writeSync(fd, `${FRAME_TABLE_HEADER}\n`);
    return new VideoRecorder(videoPath, tablePath, fd, options);
  }

  get isRecording(): boolean {
    return this.failure === null && !this.stopping;
  }

  /** Frames in the file (and rows in the table). */
  get framesRecorded(): number {
    return this.recorded;
  }

  /** Frames left out because ffmpeg was behind. */
  get framesSkipped(): number {
    return this.skipped;
  }

  /** Why recording stopped, or null. */
  get failed(): string | null {
    return this.failure;
  }

  /** Adds one station frame; quietly nothing once recording has stopped. */
  write(frame: RecordedFrame): void {
    if (!this.isRecording) return;
    if (this.stdin.writableLength > MAX_PENDING_BYTES) {
      this.skipped++;
      return;
    }
    // The row goes in once ffmpeg has the picture, so after a crash every row has its frame.
    this.stdin.write(frame.jpeg, (error) => {
      if (error || this.tableFd === null) return;
      const row =
        `${this.recorded},${frame.frameId},${frame.frameTimeMs},${frame.arrivalMs},` +
        `${frame.delayMs ?? ''}\n`;
      try {
        writeSync(this.tableFd, row);
        this.recorded++;
      } catch (error) {
        this.fail(`frame table ${this.tablePath}: ${(error as Error).message}`);
      }
    });
  }

  async dispose(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // ffmpeg finishes the file when its input ends; one that hangs is killed.
    this.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
    this.closeTable();
    log.info(`video recorded: ${this.recorded} frames in ${this.videoPath}`);
  }

  private closeTable(): void {
    if (this.tableFd === null) return;
    closeSync(this.tableFd);
    this.tableFd = null;
  }

  private fail(message: string): void {
    if (this.failure !== null || this.stopping) return;
    this.failure = message;
    this.closeTable();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    if (this.options.onError) this.options.onError(message);
    else log.error(message);
  }
}
