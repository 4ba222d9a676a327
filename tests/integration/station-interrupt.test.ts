// Ctrl-C in a terminal sends SIGINT to the whole process group: the station, its simulator and
// every ffmpeg at once. The ffmpegs die of it before the station disposes its video; nothing
// may be started again then, and nothing may outlive the station (an orphaned ffmpeg keeps
// the UDP port). Also through `npm start`'s script, which sits between the terminal and the
// station. Needs dist/ (node scripts/build.mjs), ffmpeg, and ../shared's bear picture.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';

import { projectRoot, sharedDir } from '../../app/station/paths';
import { BEAR_PICTURE } from '../../app/station/sim/world';
import { freeUdpPort } from '../helpers/net';
import { STATION_CLI, stationEnv, stationMissing } from '../helpers/station';

const skip = stationMissing([path.join(sharedDir(), BEAR_PICTURE)]);
const WAIT_MS = 90_000;
/** After the station has gone, for any straggler to show itself (reconnects wait 0.5 s). */
const AFTER_EXIT_MS = 3000;
const ROUNDS = 3;

let workDir: string;
before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-interrupt-'));
});
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Live processes whose command line names the port: the simulator's and the station's ffmpeg. */
function processesUsing(port: number): Array<{ pid: number; command: string }> {
  const found: Array<{ pid: number; command: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let command: string;
    try {
      command = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (new RegExp(`:${port}\\b`).test(command) || command.includes(`-${port}.sdp`)) {
      found.push({ pid: Number(name), command });
    }
  }
  return found.filter((entry) => !/--sim-video-port/.test(entry.command));
}

/** Whether a UDP socket is bound to 127.0.0.1:port (/proc/net/udp, hex address:port). */
function udpPortHeld(port: number): boolean {
  const wanted = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .some((line) => line.trim().split(/\s+/)[1] === wanted);
}

interface Group {
  child: ChildProcess;
  /** The newest lines of its log (stderr). */
  log: string[];
}

/** Starts `args` in its own process group, as a terminal would; resolves once video runs. */
async function startGroup(args: string[], env: NodeJS.ProcessEnv): Promise<Group> {
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    log.push(line);
    if (log.length > 200) log.shift();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`video never ran:\n${log.join('\n')}`));
    }, WAIT_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let event: { type?: string; state?: string };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        return;
      }
      if (event.type === 'video' && event.state === 'running') {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before video ran:\n${log.join('\n')}`));
    });
  });
  return { child, log };
}

/**
 * Ctrl-C to the group `presses` times, 0.3 s apart as an impatient hand would; returns the
 * exit code once it has gone, and fails if anything using the port outlives it.
 */
async function interruptAndCheck(
  { child }: Group,
  port: number,
  presses = 1,
): Promise<number | null> {
  const pid = child.pid as number;
  assert.ok(processesUsing(port).length > 0, 'the ffmpegs are found by their port');
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  for (let press = 0; press < presses; press++) {
    if (press > 0) await new Promise((resolve) => setTimeout(resolve, 300));
    try {
      process.kill(-pid, 'SIGINT');
    } catch {
      // ESRCH: it has gone already.
    }
  }
  const timer = setTimeout(() => process.kill(-pid, 'SIGKILL'), WAIT_MS);
  const code = await exited;
  clearTimeout(timer);
  await new Promise((resolve) => setTimeout(resolve, AFTER_EXIT_MS));
  const left = processesUsing(port);
  for (const { pid: straggler } of left) process.kill(straggler, 'SIGKILL');
  assert.deepEqual(left, [], 'nothing outlives the station');
  assert.equal(udpPortHeld(port), false, `127.0.0.1:${port} is free`);
  return code;
}

const stationArgs = (port: number, record = 'off'): string[] => [
  ...['--sim', '--video', 'sim', '--sim-video-port', String(port)],
  ...['--events', '-', '--record', record],
];

test("Ctrl-C to the station's process group leaves no ffmpeg behind", { skip }, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const port = await freeUdpPort();
    const child = await startGroup([STATION_CLI, ...stationArgs(port)], stationEnv(workDir));
    await interruptAndCheck(child, port);
  }
});

const TWICE = 'Ctrl-C to `npm start`, twice, lets the station finish and leaves nothing';
test(TWICE, { skip }, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const port = await freeUdpPort();
    const env = stationEnv(workDir, { URSA_SERVE: '127.0.0.1:0' });
    const record = path.join(workDir, `record-${round}`);
    const group = await startGroup(
      [path.join(projectRoot, 'scripts', 'start.mjs'), ...stationArgs(port, record)],
      env,
    );
    const code = await interruptAndCheck(group, port, 2);
    const log = group.log.join('\n');
    // The station stopped once and ran its whole clean-up: the recording was closed.
    assert.equal(group.log.filter((line) => /stopping \(SIG/.test(line)).length, 1, log);
    assert.match(log, /video recorded: \d+ frames/);
    assert.equal(code, 0, log);
  }
});
