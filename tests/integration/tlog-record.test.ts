// The real headless station (dist/station/cli.js, built by scripts/build.mjs) recording a
// session with the built-in simulator: killed with SIGKILL, its flight record still opens and
// holds both sides of the conversation up to the last second; a folder it cannot use is
// reported while it flies on; the record goes to the data folder unless told otherwise.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';

import { projectRoot } from '../../app/station/paths';
import { frameHeader } from '../../app/station/tlog/frame';
import { TlogFileReader, type TlogRecord } from '../../app/station/tlog/reader';

const CLI = path.join(projectRoot, 'dist', 'station', 'cli.js');
const SIM = path.join(projectRoot, 'dist', 'station', 'sim.js');
const SKIP = !existsSync(CLI) || !existsSync(SIM) ? `run "node scripts/build.mjs" first` : false;
const START_TIMEOUT_MS = 20_000;
const RECORD_FOR_MS = 4000;

type StationEvent = { type: string; [key: string]: unknown };

class Station {
  readonly events: StationEvent[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as StationEvent);
      } catch {
        this.stderr.push(`(stdout) ${line}`);
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(args: string[], workDir: string): Station {
    const env = {
      ...process.env,
      URSA_DATA_DIR: path.join(workDir, 'data'),
      URSA_CACHE_DIR: path.join(workDir, 'cache'),
    };
    return new Station(
      spawn(process.execPath, [CLI, ...args], { cwd: projectRoot, env, stdio: 'pipe' }),
    );
  }

  async waitFor(match: (event: StationEvent) => boolean, what: string): Promise<StationEvent> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no ${what} from the station:\n${this.stderr.join('\n')}`);
      }
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function workDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-record-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function readAll(file: string) {
  const reader = TlogFileReader.open(file);
  const records: TlogRecord[] = [];
  for (let r = reader.next(); r; r = reader.next()) records.push(r);
  reader.dispose();
  return { records, stats: reader.stats };
}

const linkConnected = (e: StationEvent): boolean =>
  e.type === 'log' && e.text === 'Vehicle link connected';

test(
  'kill -9 while recording: the record opens and holds all but the last second',
  { skip: SKIP },
  async (t) => {
    const dir = path.join(workDir(t), 'records');
    const station = Station.start(['--sim', '--record', dir, '--events', '-'], path.dirname(dir));
    t.after(() => station.stop());
    const started = await station.waitFor((e) => e.type === 'record', 'record event');
    const file = String(started.path);
    assert.equal(path.dirname(file), dir);
    assert.match(path.basename(file), /^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\.tlog$/);
    assert.ok(
      station.stderr.some((line) => line.includes(`Recording the flight to ${file}`)),
      'the station logs where it records',
    );
    await station.waitFor(linkConnected, 'connected vehicle');
    await sleep(RECORD_FOR_MS);

    const killUs = Date.now() * 1000;
    station.child.kill('SIGKILL');
    await station.exited;
    assert.equal(station.child.signalCode, 'SIGKILL');

    const { records, stats } = readAll(file);
    assert.equal(stats.bytesSkipped, 0, 'nothing but whole records in the file');
    assert.equal(stats.crcErrors, 0);
    assert.equal(stats.truncatedTailBytes, 0, 'each flush writes whole records');
    const heartbeats = records
      .filter((r) => r.messageId === 0)
      .map((r) => ({ timeUs: r.timeUs, ...frameHeader(r.frame) }));
    const fromGcs = heartbeats.filter((h) => h.systemId === 255 && h.componentId === 190);
    const fromVehicle = heartbeats.filter((h) => h.systemId === 1 && h.componentId === 1);
    // The station and the simulator each send one a second; the last second may be lost.
    assert.ok(fromGcs.length >= RECORD_FOR_MS / 1000 - 1, `${fromGcs.length} station heartbeats`);
    assert.ok(fromVehicle.length >= RECORD_FOR_MS / 1000 - 1, `${fromVehicle.length} vehicle ones`);
    assert.ok(
      records.some((r) => r.messageId === 33),
      'vehicle positions are in the record',
    );

    const lastUs = records[records.length - 1].timeUs;
    assert.ok(lastUs <= killUs, 'no record from after the kill');
    assert.ok(
      killUs - lastUs < 1_500_000,
      `last record ${(killUs - lastUs) / 1e6} s before the kill`,
    );
    const times = records.map((r) => r.timeUs);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'records are in time order',
    );
  },
);

test(
  'a record folder that cannot be made is reported and the station flies on',
  { skip: SKIP },
  async (t) => {
    const dir = workDir(t);
    const notAFolder = path.join(dir, 'file');
    writeFileSync(notAFolder, 'not a folder');
    const station = Station.start(
      ['--sim', '--record', path.join(notAFolder, 'logs'), '--events', '-', '--duration', '3'],
      dir,
    );
    t.after(() => station.stop());
    await station.waitFor(
      (e) => e.type === 'vehicle' && e.link === 'connected' && e.lat !== null,
      'a flying vehicle',
    );
    assert.equal(await station.exited, 0);
    // Said at start-up, before the event stream begins: it is in the station's log.
    const error = station.stderr.find((line) => line.includes('flight record'));
    assert.match(error ?? '(none)', /ERROR \[station\] No flight record: cannot make the flight/);
    assert.match(
      error ?? '',
      /folder .*file\/logs: a part of the path is not a folder \(ENOTDIR\)\. The station goes on/,
    );
    assert.ok(!station.events.some((e) => e.type === 'record'));
  },
);

test(
  'the record goes to the data folder by default, and nowhere with --record off',
  { skip: SKIP },
  async (t) => {
    const dir = workDir(t);
    const byDefault = Station.start(['--sim', '--duration', '2'], path.join(dir, 'a'));
    t.after(() => byDefault.stop());
    assert.equal(await byDefault.exited, 0, byDefault.stderr.join('\n'));
    const logs = path.join(dir, 'a', 'data', 'logs');
    // The flight record and, beside it, the session's journal (no video without --video).
    const files = readdirSync(logs).sort();
    const tlog = files.find((name) => name.endsWith('.tlog')) ?? '(none)';
    assert.match(tlog, /^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\.tlog$/);
    assert.deepEqual(files, [tlog.replace(/\.tlog$/, '.journal.jsonl'), tlog]);
    const { records } = readAll(path.join(logs, tlog));
    assert.ok(records.length > 10, `${records.length} records after a clean stop`);

    const off = Station.start(['--sim', '--duration', '2', '--record', 'off'], path.join(dir, 'b'));
    t.after(() => off.stop());
    assert.equal(await off.exited, 0, off.stderr.join('\n'));
    assert.equal(existsSync(path.join(dir, 'b', 'data', 'logs')), false);
  },
);
