// Checksums of a replay's files: only regular files are read, so a FIFO or a device under a
// sidecar's name cannot hang the replay or read forever.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { sha256File } from '../../app/station/replay/replay-session';

test('a regular file is checksummed whole, also across many chunks', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-sha-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'record.tlog');
  const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  bytes.write('a flight record', 1000);
  writeFileSync(file, bytes);
  const expected = createHash('sha256').update(bytes).digest('hex');
  assert.equal(await sha256File(file), expected);
});

test('a FIFO, a device and a folder are refused at once, naming the file', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-sha-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = path.join(dir, 'record.hazing.jsonl');
  execFileSync('mkfifo', [fifo]);
  const device = path.join(dir, 'record.journal.jsonl');
  symlinkSync('/dev/zero', device);

  for (const file of [fifo, device]) {
    await assert.rejects(sha256File(file), (error: Error) => {
      assert.match(error.message, /is not a regular file/);
      assert.ok(error.message.includes(file));
      return true;
    });
  }
  await assert.rejects(sha256File(dir), /is not a regular file|EISDIR/);
});

test('an aborted checksum stops', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-sha-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'record.tlog');
  writeFileSync(file, Buffer.alloc(1024, 1));
  const closing = new AbortController();
  closing.abort();
  await assert.rejects(sha256File(file, closing.signal), { name: 'AbortError' });
});
