import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { makeFolder } from '../../app/station/fs-util';

test('makeFolder makes missing parents and accepts an existing folder', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ursa-fs-'));
  try {
    const deep = path.join(root, 'a', 'b', 'c');
    makeFolder(deep);
    assert.ok(statSync(deep).isDirectory());
    makeFolder(deep);

    const file = path.join(root, 'file');
    writeFileSync(file, 'x');
    assert.throws(() => makeFolder(path.join(file, 'sub')), /ENOTDIR|not a folder/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('makeFolder fails at once where a folder cannot be made, even under /proc', () => {
  assert.throws(() => makeFolder('/proc/ursa-no-such/deeper'), /ENOENT/);
});
