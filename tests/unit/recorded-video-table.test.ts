// The frame table of a recorded video is read only when it is a bounded regular file: a link to
// a device, a FIFO or an oversized file is refused at once with an Error naming the table, so
// the replay goes on without video instead of eating memory or hanging the station.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { MAX_FRAME_TABLE_BYTES, RecordedVideo } from '../../app/station/replay/recorded-video';
import { FRAME_TABLE_HEADER } from '../../app/station/video/recorder';

let root = '';
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ursa-frame-table-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const open = (table: string): Promise<RecordedVideo> =>
  RecordedVideo.open(path.join(root, 'none.ts'), table, { cacheDir: path.join(root, 'cache') });

test('a frame table linked to /dev/zero is refused as not a regular file', async () => {
  const table = path.join(root, 'zero.frames.csv');
  symlinkSync('/dev/zero', table);
  await assert.rejects(open(table), /frame table .*zero\.frames\.csv .*not a regular file/);
});

test('a frame table that is a FIFO with no writer is refused without blocking', async (t) => {
  const table = path.join(root, 'fifo.frames.csv');
  try {
    execFileSync('mkfifo', [table]);
  } catch {
    t.skip('mkfifo is not available here');
    return;
  }
  await assert.rejects(open(table), /frame table .*fifo\.frames\.csv .*not a regular file/);
});

test('a frame table that is a folder is refused', async () => {
  const table = mkdtempSync(path.join(root, 'folder.frames.csv-'));
  await assert.rejects(open(table), /frame table .*folder\.frames\.csv-.* is a folder/);
});

test('a frame table over 256 MB is refused before it is read', async () => {
  const table = path.join(root, 'huge.frames.csv');
  // Sparse: the size is real, the disk holds almost nothing.
  const fd = openSync(table, 'w');
  try {
    ftruncateSync(fd, MAX_FRAME_TABLE_BYTES + 1);
  } finally {
    closeSync(fd);
  }
  await assert.rejects(open(table), /frame table .*huge\.frames\.csv .*more than the 256 MB/);
});

test('a regular table is still read (then the missing video is what is named)', async () => {
  const table = path.join(root, 'good.frames.csv');
  writeFileSync(table, `${FRAME_TABLE_HEADER}\n0,1000,5000,5001,1\n`);
  await assert.rejects(open(table), /recorded video .*none\.ts does not exist/);
});
