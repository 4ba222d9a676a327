// The headless station as a real process: what it says about bad options, how it treats a
// tile pack's text, and what the operator hears when the simulator dies.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';

import { runStation, stationEnv, StationProcess, type StationEvent } from '../helpers/station';
import { stationWsUrl } from '../helpers/station-client';
import { makeTileFolder } from '../helpers/tiles';

let workDir: string;

before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-cli-'));
});

after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function runCli(args: string[]): { status: number | null; stderr: string } {
  return runStation(args, stationEnv(workDir));
}

function startStation(args: string[]): StationProcess {
  return StationProcess.start([...args, '--events', '-', '--record', 'off'], stationEnv(workDir));
}

/** Waits for an event the station writes soon after it starts. */
function waitFor(station: StationProcess, match: (e: StationEvent) => boolean, what: string) {
  return station.waitEvent(match, 20_000, what);
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
    [['--sim', '--serve', '127.0.0.1:0', '--token', 'short'], /at least 16 characters, got 5/],
    [['--sim', '--zones', os.tmpdir()], /is a folder: give --zones a file/],
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
    const serve = await waitFor(station, (e) => e.type === 'serve', 'serve event');
    const socket = new WebSocket(stationWsUrl(String(serve.url)));
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
    await station.stop();
  }
});

test('the operator hears at once when the simulator dies', { timeout: 60_000 }, async () => {
  const station = startStation(['--sim']);
  try {
    await waitFor(station, (e) => e.type === 'vehicle' && e.link === 'connected', 'vehicle');
    const children = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(station.child.pid)])
      .toString()
      .split('\n')
      .filter((line) => line.includes('sim.js'));
    assert.equal(children.length, 1, 'one simulator child');
    process.kill(Number(children[0].trim().split(/\s+/)[0]), 'SIGKILL');

    await waitFor(
      station,
      (e) => e.type === 'log' && /The simulator stopped \(killed by SIGKILL\)/.test(String(e.text)),
      'simulator-stopped log entry',
    );
    await waitFor(station, (e) => e.type === 'vehicle' && e.link === 'lost', 'link lost');
    // The stream keeps saying so, once a second, rather than falling silent.
    await waitFor(
      station,
      () => station.events.filter((e) => e.type === 'vehicle' && e.link === 'lost').length >= 3,
      'repeated link-lost vehicle lines',
    );
    assert.equal(station.child.exitCode, null, 'the station keeps running');
  } finally {
    await station.stop();
  }
});
