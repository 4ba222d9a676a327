// Signing from the operator's side: the headless station gives a vehicle a key over a trusted
// link, keeps it in a private file, and a later session uses it to talk to that vehicle.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { spawnSimulator, type SimulatorProcess } from '../../app/station/sim/spawn';
import { summarizeTlogFile } from '../../app/station/tlog/summary';
import { freeUdpPort } from '../helpers/net';
import { stationEnv, StationProcess, type StationEvent } from '../helpers/station';

let workDir: string;
let simulator: SimulatorProcess | null = null;

before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-signing-'));
});

after(async () => {
  await simulator?.dispose();
  rmSync(workDir, { recursive: true, force: true });
});

function startStation(args: string[], recordDir: string | null = null) {
  const station = StationProcess.start(
    [...args, '--events', '-', '--record', recordDir ?? 'off'],
    stationEnv(workDir),
  );
  const waitFor = (match: (e: StationEvent) => boolean, what: string) =>
    station.waitEvent(match, 20_000, what);
  return { events: station.events, waitFor, stop: () => station.stop() };
}

test(
  '--setup-signing gives the vehicle a key kept private, and the next session uses it',
  {
    timeout: 90_000,
  },
  async () => {
    const keyFile = path.join(workDir, 'keys', 'signing-keys.json');
    const port = await freeUdpPort();
    const link = `udpin:127.0.0.1:${port}`;

    const recordDir = path.join(workDir, 'records');
    const first = startStation(
      ['--link', link, '--signing-keys', keyFile, '--setup-signing'],
      recordDir,
    );
    try {
      simulator = await spawnSimulator({ targetHost: '127.0.0.1', targetPort: port });
      await first.waitFor(
        (e) => e.type === 'log' && /Set up signing/.test(String(e.text)),
        'the signing set-up result',
      );
      const result = first.events.find(
        (e) => e.type === 'log' && /Set up signing/.test(String(e.text)),
      );
      assert.doesNotMatch(String(result?.text), /not sent|refused|failed|TIMEOUT/i);
      assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'only the user may read the keys');
    } finally {
      await first.stop();
    }

    // The flight record keeps everything else, but never the secret key.
    const keys = JSON.parse(readFileSync(keyFile, 'utf8')) as {
      keys: Record<string, { keyHex: string }>;
    };
    const key = Buffer.from(keys.keys['1'].keyHex, 'hex');
    const [record] = readdirSync(recordDir).filter((name) => name.endsWith('.tlog'));
    const recorded = readFileSync(path.join(recordDir, record));
    assert.ok(recorded.length > 1000, 'the session was recorded');
    assert.equal(recorded.indexOf(key), -1, 'the key is not in the record');
    const summary = summarizeTlogFile(path.join(recordDir, record));
    assert.equal(summary.packetsByMessage.SETUP_SIGNING, undefined);
    assert.ok(summary.packetsByMessage.HEARTBEAT > 0);

    // The simulator now refuses unsigned traffic. Without the key, the station's requests are
    // refused as unsigned; with the stored key, they are carried out.
    const sim = simulator!;
    const waitSim = async (check: () => boolean, what: string) => {
      const deadline = Date.now() + 20_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`the simulator saw no ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    try {
      const refusedBefore = sim.events('refused').length;
      const commandsBefore = sim.events('command').length;
      const keyless = startStation(['--link', link, '--signing-keys', 'off']);
      try {
        await waitSim(() => sim.events('refused').length > refusedBefore, 'refusal');
        assert.ok(sim.events('refused').some((e) => e.reason === 'unsigned'));
        assert.equal(sim.events('command').length, commandsBefore, 'nothing unsigned was run');
      } finally {
        await keyless.stop();
      }

      const signed = startStation(['--link', link, '--signing-keys', keyFile]);
      try {
        await signed.waitFor((e) => e.type === 'vehicle' && e.link === 'connected', 'vehicle');
        await waitSim(() => sim.events('command').length > commandsBefore, 'signed command');
      } finally {
        await signed.stop();
      }
    } finally {
      await sim.dispose();
    }
  },
);
