// The hazing log is a legal record: a station killed with SIGKILL in the middle of writing it
// loses nothing it had acknowledged. A real child process appends as fast as it can and says
// how far it got; the test kills it and reads the file back.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';

import { projectRoot } from '../../app/station/paths';
import { HazingLogStore, readHazingLogFile } from '../../app/station/hazing/hazing-log-store';

/** How many acknowledged changes the child makes before it is killed. */
const KILL_AFTER_CHANGES = 300;

let workDir: string;
before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-hazing-kill-'));
});
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const STORE_MODULE = path.join(projectRoot, 'app', 'station', 'hazing', 'hazing-log-store.ts');

// The child: one event after another, each with a few nudges and an end; after every change
// returns it prints how many changes are done, so everything printed was acknowledged.
const CHILD = `
import { HazingLogStore } from ${JSON.stringify(STORE_MODULE)};
const store = new HazingLogStore({ filePath: process.argv[2] });
store.setOperator({ operatorName: 'Kill Test', agencyOrPermitId: 'PERMIT-9' });
let changes = 1;
const say = () => process.stdout.write('ack ' + changes + '\\n');
say();
for (let n = 0; ; n++) {
  const event = store.start({
    trackId: n + 1,
    pattern: { kind: 'orbit', radiusM: 40, speedMps: 3, altitudeAglM: 30, clockwise: true },
    startedMs: Date.now(),
    bearStart: { latDeg: 48.17, lonDeg: -111.95 },
    droneStart: { latDeg: 48.1702, lonDeg: -111.95 },
  });
  changes++; say();
  for (let k = 0; k < 3; k++) {
    store.action(event.id, 'nudge', 'radius +' + k + ' m');
    changes++; say();
  }
  store.end(event.id, { outcome: 'finished', bearEnd: null, droneEnd: null });
  changes++; say();
}
`;

test('SIGKILL while writing loses no acknowledged change', { timeout: 120_000 }, async () => {
  const file = path.join(workDir, 'flight', 'hazing-log.jsonl');
  const script = path.join(workDir, 'child.ts');
  writeFileSync(script, CHILD);
  const child = spawn(process.execPath, ['--import', 'tsx', script, file], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  let acknowledged = 0;
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      const match = /^ack (\d+)$/.exec(line);
      if (match) acknowledged = Number(match[1]);
      if (acknowledged >= KILL_AFTER_CHANGES) {
        child.kill('SIGKILL');
        break;
      }
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL', `the child was killed, not ended early: ${stderr}`);
  assert.ok(acknowledged >= KILL_AFTER_CHANGES, `only ${acknowledged} changes: ${stderr}`);

  const read = readHazingLogFile(file);
  assert.ok(read.skippedLines <= 1, 'at most the last line was cut short');
  assert.equal(read.skippedLines === 1, read.tornLastLine);
  // Count the changes in the rebuilt events: operator, starts, nudges, ends.
  const changes =
    read.operators.length +
    read.events.reduce((sum, event) => sum + event.actions.length + (event.outcome ? 1 : 0), 0);
  assert.ok(changes >= acknowledged, `${changes} changes on disk, ${acknowledged} acknowledged`);
  for (const [index, event] of read.events.entries()) {
    assert.equal(event.trackId, index + 1, 'events in order, none missing');
    assert.deepEqual(event.operator, { operatorName: 'Kill Test', agencyOrPermitId: 'PERMIT-9' });
    if (index < read.events.length - 1) assert.equal(event.outcome, 'finished');
  }

  // The next run of the station goes on in the same file without losing the old events.
  const next = new HazingLogStore({ filePath: file });
  try {
    next.setOperator({ operatorName: 'After Kill', agencyOrPermitId: 'PERMIT-9' });
    next.start({
      trackId: null,
      pattern: { kind: 'orbit', radiusM: 40, speedMps: 3, altitudeAglM: 30, clockwise: true },
      startedMs: Date.now(),
      bearStart: null,
      droneStart: null,
    });
  } finally {
    next.dispose();
  }
  const reopened = readHazingLogFile(file);
  assert.equal(reopened.events.length, read.events.length + 1);
  assert.equal(reopened.tornLastLine, false);
  assert.equal(
    new Set(reopened.events.map((e) => e.id)).size,
    reopened.events.length,
    'ids unique',
  );
});
