// Starts the simulator as a child process and owns it. The child's stdin stays a pipe so that
// it ends by itself if this process dies without disposing it.

import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

import { toDisposable, type Disposable } from '../../core/disposable';
import { createLogger, type LogLevel } from '../../core/log';
import type { SimBearTruth } from '../../core/protocol';
import type { LatLon } from '../../core/types';
import { builtFile } from '../paths';
import type { SimEvent } from './autopilot';
import type { LossOptions } from './lossy';
import type { SimHome } from './vehicle';

const log = createLogger('sim-process');

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3000;
const STDERR_TAIL_LINES = 20;

export interface SimulatorOptions {
  targetHost: string;
  targetPort: number;
  home?: { latDeg: number; lonDeg: number; altitudeMslM: number };
  speedFactor?: number;
  /** A lossy radio between the simulator and the station. */
  loss?: Partial<LossOptions>;
  /** Start signing with this 32-byte key. */
  signingKey?: Buffer;
  /** False makes it answer SET_MESSAGE_INTERVAL with UNSUPPORTED. */
  messageIntervals?: boolean;
  /** The farm yard the bear walks toward; the simulator's default when absent. */
  farm?: LatLon;
  /** Where the bear starts; the simulator's default when absent. */
  bearStart?: LatLon;
  bearSeed?: number;
  /** Stream the drone's camera to udp://127.0.0.1:port; no camera when absent. */
  video?: {
    port: number;
    widthPx?: number;
    heightPx?: number;
    fps?: number;
    horizontalFovDeg?: number;
    verticalFovDeg?: number;
  };
}

type EventOf<K extends SimEvent['event']> = Extract<SimEvent, { event: K }>;

export interface SimulatorProcess extends Disposable {
  readonly pid: number;
  /** The UDP port the simulator sends from and listens on (127.0.0.1). */
  readonly localPort: number;
  /**
   * Resolves with how the process ended (for example "killed by SIGKILL") once it has ended,
   * whether it was disposed or died on its own.
   */
  readonly ended: Promise<string>;
  /** The first event of this kind (that `accept` takes, if given), already seen or to come. */
  waitForEvent<K extends SimEvent['event']>(
    kind: K,
    timeoutMs: number,
    accept?: (event: EventOf<K>) => boolean,
  ): Promise<EventOf<K>>;
  /** Every event of this kind so far, oldest first (bear positions are not kept: see onBear). */
  events<K extends SimEvent['event']>(kind: K): Array<EventOf<K>>;
  /** The bear's true position, once a second. */
  onBear(listener: (truth: SimBearTruth) => void): Disposable;
  /** The newest true position of the bear, null before the first. */
  readonly latestBear: SimBearTruth | null;
  dispose(): Promise<void>;
}

export async function spawnSimulator(options: SimulatorOptions): Promise<SimulatorProcess> {
  const args = [
    builtFile('station/sim.js'),
    '--out',
    `${options.targetHost}:${options.targetPort}`,
  ];
  if (options.home) args.push('--home', formatHome(options.home));
  if (options.speedFactor !== undefined) args.push('--speed-factor', String(options.speedFactor));
  const loss = options.loss ?? {};
  const lossFlags: Array<[string, number | undefined]> = [
    ['--loss', loss.lossProbability],
    ['--latency-ms', loss.latencyMs],
    ['--jitter-ms', loss.jitterMs],
    ['--drop-every-s', loss.dropEveryS],
    ['--drop-for-s', loss.dropForS],
    ['--seed', loss.seed],
  ];
  for (const [flag, value] of lossFlags) if (value !== undefined) args.push(flag, String(value));
  if (options.signingKey) args.push('--signing-key', options.signingKey.toString('hex'));
  if (options.messageIntervals === false) args.push('--no-message-interval');
  const latLon = (point: LatLon): string => `${point.latDeg},${point.lonDeg}`;
  if (options.farm) args.push('--farm', latLon(options.farm));
  if (options.bearStart) args.push('--bear', latLon(options.bearStart));
  if (options.bearSeed !== undefined) args.push('--bear-seed', String(options.bearSeed));
  const video = options.video;
  if (video) {
    args.push('--video-port', String(video.port));
    if (video.widthPx !== undefined || video.heightPx !== undefined) {
      args.push('--video-size', `${video.widthPx ?? 640}x${video.heightPx ?? 480}`);
    }
    if (video.fps !== undefined) args.push('--video-fps', String(video.fps));
    if (video.horizontalFovDeg !== undefined) args.push('--hfov', String(video.horizontalFovDeg));
    if (video.verticalFovDeg !== undefined) args.push('--vfov', String(video.verticalFovDeg));
  }

  // ELECTRON_RUN_AS_NODE lets Electron's binary run the script as plain Node.
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  const sim = new ChildSimulator(child);
  try {
    await sim.started();
  } catch (error) {
    await sim.dispose();
    throw error;
  }
  return sim;
}

function formatHome(home: SimHome): string {
  return `${home.latDeg},${home.lonDeg},${home.altitudeMslM}`;
}

type Waiter = (event: SimEvent) => boolean;

class ChildSimulator implements SimulatorProcess {
  private readonly seenEvents: SimEvent[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly bearListeners = new Set<(truth: SimBearTruth) => void>();
  private bear: SimBearTruth | null = null;
  private readonly stderrTail: string[] = [];
  private readonly exited: Promise<void>;
  private exitDescription: string | null = null;
  private port: number | null = null;

  constructor(private readonly child: ChildProcess) {
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitDescription = signal ? `killed by ${signal}` : `exited with code ${code}`;
        log.info(`simulator (pid ${child.pid}) ${this.exitDescription}`);
        resolve();
      });
      child.once('error', (error) => {
        this.exitDescription = `could not run: ${error.message}`;
        log.error(`simulator ${this.exitDescription}`);
        resolve();
      });
    });
    // Our own exit must not be held up by the pipe to a child we are about to lose anyway.
    child.stdin?.on('error', () => {});
    if (child.stdout) {
      readline.createInterface({ input: child.stdout }).on('line', (line) => this.onStdout(line));
    }
    if (child.stderr) {
      readline.createInterface({ input: child.stderr }).on('line', (line) => this.onStderr(line));
    }
  }

  get ended(): Promise<string> {
    return this.exited.then(() => this.exitDescription ?? 'stopped');
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get localPort(): number {
    if (this.port === null) throw new Error('the simulator has not reported its port yet');
    return this.port;
  }

  async started(): Promise<void> {
    const ready = this.waitForEvent('ready', START_TIMEOUT_MS);
    const died = this.exited.then(() => {
      throw new Error(
        `the simulator ${this.exitDescription ?? 'stopped'} before it was ready` +
          (this.stderrTail.length > 0 ? `:\n${this.stderrTail.join('\n')}` : ''),
      );
    });
    const event = await Promise.race([ready, died]);
    this.port = event.localPort;
    log.info(`simulator (pid ${this.pid}) running on 127.0.0.1:${event.localPort}`);
  }

  waitForEvent<K extends SimEvent['event']>(
    kind: K,
    timeoutMs: number,
    accept: (event: EventOf<K>) => boolean = () => true,
  ): Promise<EventOf<K>> {
    type Wanted = EventOf<K>;
    const matches = (event: SimEvent): event is Wanted =>
      event.event === kind && accept(event as Wanted);
    const seen = this.seenEvents.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise<Wanted>((resolve, reject) => {
      const waiter: Waiter = (event) => {
        if (!matches(event)) return false;
        clearTimeout(timer);
        resolve(event);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`the simulator sent no "${kind}" event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  events<K extends SimEvent['event']>(kind: K): Array<EventOf<K>> {
    return this.seenEvents.filter((event): event is EventOf<K> => event.event === kind);
  }

  onBear(listener: (truth: SimBearTruth) => void): Disposable {
    this.bearListeners.add(listener);
    return toDisposable(() => {
      this.bearListeners.delete(listener);
    });
  }

  get latestBear(): SimBearTruth | null {
    return this.bear;
  }

  async dispose(): Promise<void> {
    this.bearListeners.clear();
    if (this.exitDescription === null) {
      this.child.kill('SIGTERM');
      const grace = new Promise<'late'>((resolve) => {
        const timer = setTimeout(() => resolve('late'), STOP_GRACE_MS);
        void this.exited.then(() => clearTimeout(timer));
      });
      if ((await Promise.race([this.exited, grace])) === 'late') {
        log.warn(`simulator (pid ${this.pid}) ignored SIGTERM; killing it`);
        this.child.kill('SIGKILL');
      }
    }
    await this.exited;
    this.child.stdin?.destroy();
  }

  private onStdout(line: string): void {
    let event: SimEvent;
    try {
      event = JSON.parse(line) as SimEvent;
    } catch {
      log.warn(`simulator printed something that is not an event: ${line.slice(0, 200)}`);
      return;
    }
    if (event.event === 'bear') {
      // Once a second for as long as it runs: kept as the latest only, not in the history.
      const { event: _kind, ...truth } = event;
      this.bear = truth;
      for (const listener of [...this.bearListeners]) {
        try {
          listener(truth);
        } catch (error) {
          log.error(`a bear listener failed: ${String(error)}`);
        }
      }
    } else {
      this.seenEvents.push(event);
    }
    for (const waiter of [...this.waiters]) {
      if (waiter(event)) this.waiters.delete(waiter);
    }
  }

  /** The child logs "TIME LEVEL [scope] message"; pass it on at the same level. */
  private onStderr(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    const match = /^\S+ (DEBUG|INFO|WARN|ERROR)\s+(.*)$/.exec(line);
    const level = (match?.[1].toLowerCase() ?? 'info') as LogLevel;
    log[level](match?.[2] ?? line);
  }
}
