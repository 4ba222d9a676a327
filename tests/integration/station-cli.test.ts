// The headless station as a real process: what it says about bad options, how it treats a
// tile pack's text, and what the operator hears when the simulator dies.

import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';

import { projectRoot } from '../../app/station/paths';
import { makeTileFolder } from '../helpers/tiles';

const CLI = path.join(projectRoot, 'dist', 'station', 'cli.js');
let workDir: string;

before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-cli-'));
});

after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    URSA_DATA_DIR: path.join(workDir, 'data'),
    URSA_CACHE_DIR: path.join(workDir, 'cache'),
  };
}

function runCli(args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: env(),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

interface Running {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  waitFor(match: (e: Record<string, unknown>) => boolean, what: string): Promise<void>;
}

function startStation(args: string[]): Running {
  const child = spawn(process.execPath, [CLI, ...args, '--events', '-', '--record', 'off'], {
    env: env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Array<Record<string, unknown>> = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    events.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr!.resume();
  return {
    child,
    events,
    async waitFor(match, what) {
      const deadline = Date.now() + 20_000;
      while (!events.some(match)) {
        if (Date.now() > deadline) throw new Error(`no ${what}: ${JSON.stringify(events)}`);
        if (child.exitCode !== null) throw new Error(`station exited waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

test('bad options are refused with a message that names them', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--sim', '--takeoff-alt', '5000'], /--takeoff-alt must be from 1 to 120, not 5000/],
    [['--sim', '--serve', '127.0.0.1:99999'], /port 99999 is above 65535/],
    [['--sim', '--hfov', '0'], /--hfov must be from 1 to 179/],
    [['--sim', '--video', ''], /--video needs a source/],
    [['--sim', '--bogus'], /Unknown option '--bogus'/],
    [[], /nothing to connect to/],
    [['--link', 'udp:127.0.0.1:14550'], /unknown scheme "udp"/],
    [['--link', 'tlog:/no/such/file.tlog?speed=4'], /no\/such\/file\.tlog/],
    [['--sim', '--setup-signing'], /--setup-signing needs a --link vehicle/],
  ];
  const records = path.join(workDir, 'typo-records');
  for (const [args, message] of cases) {
    const { status, stderr } = runCli([...args, '--record', records]);
    assert.equal(status, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, message);
  }
  assert.ok(!existsSync(records), 'a refused command line leaves no flight record behind');
});

test('an events file that cannot be written stops the start with its path', () => {
  const target = path.join(workDir, 'no-such-folder', 'events.jsonl');
  const { status, stderr } = runCli(['--sim', '--events', target, '--record', 'off']);
  assert.equal(status, 1);
  assert.match(stderr, new RegExp(`--events: cannot write to ${target} \\(ENOENT\\)`));
});

test("a tile pack's attribution reaches the map as text, never as markup", async () => {
  const tiles = path.join(workDir, 'tiles');
  makeTileFolder(tiles, { minZoom: 12, maxZoom: 12, radiusTiles: 0 });
  const evil = '<img src=x onerror=alert(1)> "ALL CLEAR" & more';
  writeFileSync(path.join(tiles, 'metadata.json'), JSON.stringify({ attribution: evil }));

  const station = startStation(['--sim', '--serve', '127.0.0.1:0', '--tiles', tiles]);
  try {
    await station.waitFor((e) => e.type === 'serve', 'serve event');
    const serve = station.events.find((e) => e.type === 'serve') as { url: string };
    const socket = new WebSocket(`${serve.url.replace(/^http/, 'ws')}ws`);
    const hello = await new Promise<{ tiles: { attribution: string } }>((resolve, reject) => {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string };
        if (message.type === 'hello') resolve(message as never);
      });
      socket.on('error', reject);
    });
    socket.close();
    assert.equal(
      hello.tiles.attribution,
      '&lt;img src=x onerror=alert(1)&gt; &quot;ALL CLEAR&quot; &amp; more',
    );
  } finally {
    await stop(station.child);
  }
});

test('the operator hears at once when the simulator dies', { timeout: 60_000 }, async () => {
  const station = startStation(['--sim']);
  try {
    await station.waitFor((e) => e.type === 'vehicle' && e.link === 'connected', 'vehicle');
    const children = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(station.child.pid)])
      .toString()
      .split('\n')
      .filter((line) => line.includes('sim.js'));
    assert.equal(children.length, 1, 'one simulator child');
    process.kill(Number(children[0].trim().split(/\s+/)[0]), 'SIGKILL');

    await station.waitFor(
      (e) => e.type === 'log' && /The simulator stopped \(killed by SIGKILL\)/.test(String(e.text)),
      'simulator-stopped log entry',
    );
    await station.waitFor((e) => e.type === 'vehicle' && e.link === 'lost', 'link lost');
    // The stream keeps saying so, once a second, rather than falling silent.
    await station.waitFor(
      () => station.events.filter((e) => e.type === 'vehicle' && e.link === 'lost').length >= 3,
      'repeated link-lost vehicle lines',
    );
    assert.equal(station.child.exitCode, null, 'the station keeps running');
  } finally {
    await stop(station.child);
  }
});
