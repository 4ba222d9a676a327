// The MAVLink fuzzer as CI runs it: a real child process with a smaller count than the full
// million (`npm run fuzz`). Random and mutated frames go through the station's decoder, the
// live frame scanner and the tlog reader; no exception may escape and nothing may hang.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

import { projectRoot } from '../../app/station/paths';

const SCRIPT = path.join(projectRoot, 'scripts', 'fuzz-mavlink.ts');

function runFuzz(args: string[], timeoutMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('20,000 fuzzed cases: no exception escapes, no parser wedges, no stall', async () => {
  const { code, stdout, stderr } = await runFuzz(['--count', '20000', '--seed', '3'], 180_000);
  assert.equal(code, 0, stderr);
  const line = stdout.split('\n').find((l) => l.startsWith('FUZZ '));
  assert.ok(line, `no FUZZ line in:\n${stdout}\n${stderr}`);
  const result = JSON.parse(line.slice('FUZZ '.length)) as Record<string, number>;
  assert.equal(result.cases, 20000);
  assert.equal(result.canaryChecks, 40);
  assert.ok(result.bytes > 20000 * 10);
  assert.ok(result.decodedMessages > 0 && result.tlogRecords > 0 && result.scannerFrames > 0);
});

test('the watchdog reports a fuzzer that hangs, with the case it hung on', async () => {
  const { code, stderr } = await runFuzz(
    ['--count', '5000', '--spin-after', '300', '--stall-s', '2'],
    60_000,
  );
  assert.equal(code, 3, stderr);
  assert.match(stderr, /STALL: no progress for 2 s at case 300 \(seed 1\); the case being fed/);
});

test('bad arguments are refused with exit code 2', async () => {
  const { code, stderr } = await runFuzz(['--count', 'many'], 30_000);
  assert.equal(code, 2);
  assert.match(stderr, /--count must be a positive integer, got "many"/);
});
