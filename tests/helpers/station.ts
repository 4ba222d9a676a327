// The headless station (dist/station/cli.js) as a real child process, for integration and
// end-to-end tests: its stdout event stream (--events -) parsed as it comes, the tail of its
// log kept for failure messages, and a stop that always ends it.

import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

import { projectRoot, sharedDir } from '../../app/station/paths';

export const STATION_CLI = path.join(projectRoot, 'dist', 'station', 'cli.js');
export const YOLOX_MODEL = path.join(sharedDir(), 'models', 'yolox-nano-416.onnx');

/** A skip reason when the built station or any of `files` (shared material) is missing. */
export function stationMissing(files: string[] = []): string | false {
  if (!existsSync(STATION_CLI)) {
    return `${STATION_CLI} is missing: run "node scripts/build.mjs" first`;
  }
  const missing = files.filter((file) => !existsSync(file));
  return missing.length > 0 ? `missing ${missing.join(', ')} (see ../shared/README.md)` : false;
}

/**
 * The station's cache and data in the test's own folder, and no token or tile source from
 * the developer's shell, so a run never reads or writes the user's own files.
 */
export function stationEnv(workDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    URSA_CACHE_DIR: path.join(workDir, 'cache'),
    URSA_DATA_DIR: path.join(workDir, 'data'),
    ...extra,
  };
  delete env.URSA_TOKEN;
  delete env.URSA_TILES;
  return env;
}

/** Runs the station to its end, for options it must refuse at once. */
export function runStation(
  args: string[],
  env: NodeJS.ProcessEnv,
): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [STATION_CLI, ...args], {
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

export type StationEvent = { type: string; [key: string]: unknown };

const LOG_TAIL_LINES = 80;
const STOP_GRACE_MS = 15_000;

export class StationProcess {
  /** The lines of `--events -`, parsed. */
  readonly events: StationEvent[] = [];
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  private readonly tail: string[] = [];
  private readonly lineListeners: Array<(line: string) => void> = [];
  private observersUrl: string | null = null;

  private constructor(readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as StationEvent);
      } catch {
        this.keep(`(stdout, not JSON) ${line}`);
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      this.keep(line);
      const served = /observers: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
      if (served) this.observersUrl = served[1];
      for (const listener of this.lineListeners) listener(line);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(args: string[], env: NodeJS.ProcessEnv): StationProcess {
    return new StationProcess(
      spawn(process.execPath, [STATION_CLI, ...args], {
        cwd: projectRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  }

  /** The newest lines of the station's log, for failure messages. */
  get log(): string {
    return this.tail.join('\n');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Calls `listener` with each later line of the station's log (stderr). */
  onLogLine(listener: (line: string) => void): void {
    this.lineListeners.push(listener);
  }

  /** Waits for an event at or after index `from` of the events seen so far. */
  async waitEvent(
    match: (event: StationEvent) => boolean,
    timeoutMs: number,
    what: string,
    from = 0,
  ): Promise<StationEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      if (!this.running) {
        throw new Error(
          `station exited (${this.child.exitCode}) waiting for ${what}:\n${this.log}`,
        );
      }
      if (Date.now() > deadline) throw new Error(`no ${what} from the station:\n${this.log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The observers' URL from the station's "observers: URL" log line, once it serves. */
  async serveUrl(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.observersUrl) return this.observersUrl;
      if (!this.running) {
        throw new Error(`station exited (${this.child.exitCode}):\n${this.log}`);
      }
      if (Date.now() > deadline) throw new Error(`the station never served:\n${this.log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGTERM, then SIGKILL if it will not go. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  dispose(): Promise<void> {
    return this.stop();
  }

  private keep(line: string): void {
    this.tail.push(line);
    if (this.tail.length > LOG_TAIL_LINES) this.tail.shift();
  }
}
