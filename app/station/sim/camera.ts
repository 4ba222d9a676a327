// The simulated drone's camera as a live stream: frames rendered at a steady rate are piped as
// rgb24 into an ffmpeg child that sends H.264 in MPEG-TS over UDP to 127.0.0.1, each frame's
// PTS its capture wall-clock time (the station's video path measures delay from it). A frame
// is dropped, not queued, while ffmpeg is behind: a late frame is worth less than a fresh one.

import { type ChildProcess, spawn } from 'node:child_process';

import type { Disposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import { ffmpegCommand } from '../video/ffmpeg';
import { wallClockEncoderArgs } from '../video/wall-clock';
import type { BearPose, GroundRenderer, ViewPose } from './render';

const log = createLogger('sim-camera');

const STOP_GRACE_MS = 2000;
const RESTART_DELAY_MS = 2000;
const STDERR_TAIL_CHARS = 2000;

export interface SimVideoOptions {
  /** UDP port on 127.0.0.1 the stream goes to. */
  port: number;
  fps: number;
  /** ffmpeg to run; URSA_FFMPEG or "ffmpeg" from PATH by default. */
  ffmpegPath?: string;
}

/** What the camera sees now: called once per frame. */
export type SceneSnapshot = () => { view: ViewPose; bear: BearPose | null };

export interface SimVideoCounts {
  framesSent: number;
  /** Frames not sent because ffmpeg had not taken the one before. */
  framesDropped: number;
  /** Mean time to render one frame, ms, over the frames so far. */
  renderMsMean: number;
  ffmpegRestarts: number;
}

export class SimVideoStream implements Disposable {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private restartTimer: NodeJS.Timeout | null = null;
  private busy = false;
  private closed = false;
  private renderMsTotal = 0;
  private readonly counts = { framesSent: 0, framesDropped: 0, ffmpegRestarts: 0 };
  readonly target: string;

  constructor(
    private readonly renderer: GroundRenderer,
    private readonly options: SimVideoOptions,
    private readonly snapshot: SceneSnapshot,
  ) {
    const { port, fps } = options;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`camera stream port ${port} is not between 1 and 65535`);
    }
    if (!(fps > 0 && fps <= 30)) throw new Error(`camera frame rate ${fps} is not in (0, 30]`);
    this.target = `udp://127.0.0.1:${port}`;
    this.startFfmpeg();
    this.timer = setInterval(() => this.frame(), 1000 / fps);
    log.info(
      `camera: ${renderer.width}x${renderer.height} at ${fps} fps, ` +
        `${renderer.camera.horizontalFovDeg}x${renderer.camera.verticalFovDeg} deg, ` +
        `H.264 MPEG-TS to ${this.target}`,
    );
  }

  get stats(): SimVideoCounts {
    const rendered = this.counts.framesSent + this.counts.framesDropped;
    return { ...this.counts, renderMsMean: rendered > 0 ? this.renderMsTotal / rendered : 0 };
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const stats = this.stats;
    log.info(
      `camera: ${stats.framesSent} frames sent, ${stats.framesDropped} dropped while ffmpeg ` +
        `was behind, ${stats.renderMsMean.toFixed(1)} ms to render a frame on average`,
    );
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.stdin?.end();
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(kill);
    }
  }

  private startFfmpeg(): void {
    const ffmpegPath = this.options.ffmpegPath ?? ffmpegCommand();
    const args = wallClockEncoderArgs(this.target, {
      widthPx: this.renderer.width,
      heightPx: this.renderer.height,
      fps: this.options.fps,
    });
    // The rawvideo demuxer stamps wall-clock time in units of 1/framerate: at the nominal 10 fps
    // two frames a little under 100 ms apart would share a PTS. Millisecond units give each
    // frame its own time; the encoder passes frames through, so the rate means nothing else.
    const rateAt = args.indexOf('-framerate');
    if (rateAt >= 0 && rateAt < args.indexOf('-i')) args[rateAt + 1] = '1000';
    const child = spawn(ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    this.busy = false;
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    // EPIPE when ffmpeg dies mid-write: 'close' says what happened.
    child.stdin?.on('error', () => {});
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        resolve();
        if (this.closed) return;
        const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
        log.error(`camera ffmpeg ${how}: ${stderr.trim().slice(-500) || 'no message'}`);
        this.restartTimer = setTimeout(() => {
          this.restartTimer = null;
          if (this.closed) return;
          this.counts.ffmpegRestarts++;
          this.startFfmpeg();
        }, RESTART_DELAY_MS);
      });
    });
    child.once('error', (error) => {
      log.error(`camera cannot run ${ffmpegPath}: ${error.message}`);
    });
  }

  private frame(): void {
    const stdin = this.child?.stdin;
    if (!stdin || !stdin.writable) return;
    if (this.busy) {
      this.counts.framesDropped++;
      return;
    }
    const startedMs = performance.now();
    const { view, bear } = this.snapshot();
    // A new buffer each frame: the pipe holds on to it until ffmpeg has read it.
    const rgb = this.renderer.render(view, bear);
    this.renderMsTotal += performance.now() - startedMs;
    this.counts.framesSent++;
    this.busy = !stdin.write(rgb);
    if (this.busy) stdin.once('drain', () => (this.busy = false));
  }
}
