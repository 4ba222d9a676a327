// The safety envelope's and the speaker's command-line options, through the built station:
// a value outside its range is refused at start (exit 2) with words naming the option and the
// range, before anything is started or recorded.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { runStation, stationEnv, stationMissing } from '../helpers/station';

let workDir: string;
before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-hazing-cli-'));
});
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const CASES: Array<{ args: string[]; error: string }> = [
  { args: ['--floor-agl', '70'], error: '--floor-agl must be from 5 to 60, not 70' },
  { args: ['--ceiling-agl', '150'], error: '--ceiling-agl must be from 20 to 120, not 150' },
  { args: ['--bear-standoff', 'near'], error: '--bear-standoff must be a number, not "near"' },
  { args: ['--person-radius', '5'], error: '--person-radius must be from 10 to 200, not 5' },
  { args: ['--battery-reserve', '80'], error: '--battery-reserve must be from 10 to 60, not 80' },
  {
    args: ['--floor-agl', '40', '--ceiling-agl', '30'],
    error: '--floor-agl (40 m) must be below --ceiling-agl (30 m)',
  },
  {
    args: ['--floor-agl', '30'],
    error: "--push-alt 15 m is outside the envelope's 30-120 m above the ground",
  },
  {
    args: ['--bear-standoff', '50'],
    error: "--standoff 40 m is inside the envelope's bear standoff of 50 m",
  },
  { args: ['--speaker-relay', '1.5'], error: '--speaker-relay must be a whole relay number' },
  { args: ['--speaker-relay=300'], error: '--speaker-relay must be from 0 to 255, not 300' },
];

test(
  'envelope and speaker options out of range are refused at start',
  { skip: stationMissing() },
  () => {
    for (const { args, error } of CASES) {
      const result = runStation(['--sim', '--record', 'off', ...args], stationEnv(workDir));
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.ok(result.stderr.includes(`error: ${error}`), `${args.join(' ')}: ${result.stderr}`);
    }
  },
);
