// The model store against real files in temp folders. Nothing here touches the network except
// a server this test starts on 127.0.0.1; the real URL is never contacted.

import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type LogLevel, setLogSink } from '../../app/core/log';
import { yoloxNanoCard } from '../../app/station/detector/model-card';
import { resolveModel, sha256OfFile } from '../../app/station/detector/model-store';
import { sharedDir } from '../../app/station/paths';

const SHARED = sharedDir();
const MODEL = path.join(SHARED, 'models', yoloxNanoCard.file.name);
const skip = existsSync(MODEL) ? false : `${MODEL} is absent (see ../shared/README.md)`;

let root = '';
let modelBytes = Buffer.alloc(0);

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ursa-model-store-'));
  if (!skip) modelBytes = readFileSync(MODEL);
});

after(() => {
  rmSync(root, { recursive: true, force: true });
  setLogSink(() => {});
});

let dirCount = 0;
/** A fresh cache folder and a fresh shared folder, both empty. */
function freshDirs(): { cacheDir: string; sharedDir: string } {
  dirCount++;
  const cacheDir = path.join(root, `cache-${dirCount}`);
  const shared = path.join(root, `shared-${dirCount}`);
  mkdirSync(path.join(cacheDir, 'models'), { recursive: true });
  mkdirSync(path.join(shared, 'models'), { recursive: true });
  return { cacheDir, sharedDir: shared };
}

function captureLogs(): { level: LogLevel; message: string }[] {
  const logs: { level: LogLevel; message: string }[] = [];
  setLogSink((level, _scope, message) => logs.push({ level, message }));
  return logs;
}

async function serve(
  body: Buffer,
  withLength = true,
): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server = http.createServer((request, response) => {
    requests++;
    if (request.url !== '/yolox_nano.onnx') {
      response.writeHead(404).end();
      return;
    }
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/octet-stream' };
    if (withLength) headers['content-length'] = body.length;
    response.writeHead(200, headers);
    // Several writes, so progress is reported more than once.
    const pieceBytes = 256 * 1024;
    for (let offset = 0; offset < body.length; offset += pieceBytes) {
      response.write(body.subarray(offset, offset + pieceBytes));
    }
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/yolox_nano.onnx`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('the card matches the shared model file', { skip }, async () => {
  assert.equal(await sha256OfFile(MODEL), yoloxNanoCard.file.sha256);
  assert.equal(modelBytes.length, yoloxNanoCard.file.sizeBytes);
  assert.equal(yoloxNanoCard.classNames.length, 80);
  assert.equal(yoloxNanoCard.classNames[21], 'bear');
  const sharedNames = readFileSync(path.join(SHARED, 'models', 'coco-classes.txt'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  assert.deepEqual(yoloxNanoCard.classNames, sharedNames);
});

test('finds the model in the shared folder when the cache is empty', { skip }, async () => {
  const dirs = freshDirs();
  copyFileSync(MODEL, path.join(dirs.sharedDir, 'models', yoloxNanoCard.file.name));
  const found = await resolveModel({ ...dirs, envPath: null });
  assert.equal(found.source, 'shared');
  assert.equal(found.path, path.join(dirs.sharedDir, 'models', yoloxNanoCard.file.name));
  assert.equal(found.card.file.sha256, yoloxNanoCard.file.sha256);
});

test('the user cache wins over the shared folder', { skip }, async () => {
  const dirs = freshDirs();
  copyFileSync(MODEL, path.join(dirs.cacheDir, 'models', yoloxNanoCard.file.name));
  copyFileSync(MODEL, path.join(dirs.sharedDir, 'models', yoloxNanoCard.file.name));
  const found = await resolveModel({ ...dirs, envPath: null });
  assert.equal(found.source, 'cache');
  assert.equal(found.path, path.join(dirs.cacheDir, 'models', yoloxNanoCard.file.name));
});

test('a truncated cached copy is passed over for the shared one', { skip }, async () => {
  const dirs = freshDirs();
  writeFileSync(
    path.join(dirs.cacheDir, 'models', yoloxNanoCard.file.name),
    modelBytes.subarray(0, 100_000),
  );
  copyFileSync(MODEL, path.join(dirs.sharedDir, 'models', yoloxNanoCard.file.name));
  const found = await resolveModel({ ...dirs, envPath: null });
  assert.equal(found.source, 'shared');
});

test(
  'no usable file: the error names the expected file, hash and every place',
  { skip },
  async () => {
    const dirs = freshDirs();
    const cached = path.join(dirs.cacheDir, 'models', yoloxNanoCard.file.name);
    writeFileSync(cached, modelBytes.subarray(0, 100_000));
    const shared = path.join(dirs.sharedDir, 'models', yoloxNanoCard.file.name);
    await assert.rejects(
      resolveModel({ ...dirs, envPath: null, allowDownload: false }),
      (error) => {
        const message = (error as Error).message;
        assert.match(message, new RegExp(yoloxNanoCard.file.name.replace('.', '\\.')));
        assert.ok(message.includes(yoloxNanoCard.file.sha256), message);
        assert.ok(message.includes(`${cached} has sha256`), message);
        assert.ok(message.includes('100000 of 3660092 bytes: truncated?'), message);
        assert.ok(message.includes(`${shared} does not exist`), message);
        assert.match(message, /Download is off/);
        return true;
      },
    );
  },
);

test('an empty file is refused as empty', { skip }, async () => {
  const dirs = freshDirs();
  const empty = path.join(root, 'empty.onnx');
  writeFileSync(empty, '');
  await assert.rejects(
    resolveModel({ ...dirs, explicitPath: empty, envPath: null }),
    new RegExp(`model file ${empty} \\(from --model\\) is empty; expected yolox-nano-416\\.onnx`),
  );
});

test('an explicit path wins, and a missing one is an error, not a fallback', { skip }, async () => {
  const dirs = freshDirs();
  copyFileSync(MODEL, path.join(dirs.sharedDir, 'models', yoloxNanoCard.file.name));
  const found = await resolveModel({ ...dirs, explicitPath: MODEL, envPath: null });
  assert.equal(found.source, 'explicit');
  assert.equal(found.path, MODEL);
  const missing = path.join(root, 'nowhere', 'model.onnx');
  await assert.rejects(
    resolveModel({ ...dirs, explicitPath: missing, envPath: null }),
    new RegExp(
      `model file ${missing} \\(from --model\\) does not exist; expected ` +
        `yolox-nano-416\\.onnx \\(yolox-nano, sha256 ${yoloxNanoCard.file.sha256}`,
    ),
  );
});

test(
  'an explicit file of another model is used but logged as not the carded model',
  { skip },
  async () => {
    const dirs = freshDirs();
    const other = path.join(root, 'other-model.onnx');
    writeFileSync(other, 'not the carded weights');
    const logs = captureLogs();
    const found = await resolveModel({ ...dirs, explicitPath: other, envPath: null });
    assert.equal(found.source, 'explicit');
    assert.equal(found.path, other);
    const warning = logs.find((entry) => entry.level === 'warn');
    assert.ok(warning, 'a warning is logged');
    assert.match(warning.message, /is not the carded model yolox-nano/);
  },
);

test('URSA_MODEL is used when no explicit path is given', { skip }, async () => {
  const dirs = freshDirs();
  const found = await resolveModel({ ...dirs, envPath: MODEL });
  assert.equal(found.source, 'env');
  assert.equal(found.path, MODEL);
  const saved = process.env.URSA_MODEL;
  process.env.URSA_MODEL = MODEL;
  try {
    assert.equal((await resolveModel({ ...dirs })).source, 'env');
    // --model beats the environment.
    const explicit = await resolveModel({ ...dirs, explicitPath: MODEL });
    assert.equal(explicit.source, 'explicit');
  } finally {
    if (saved === undefined) delete process.env.URSA_MODEL;
    else process.env.URSA_MODEL = saved;
  }
});

test(
  'downloads into the cache from a local server, with progress and hash check',
  { skip },
  async () => {
    const dirs = freshDirs();
    const server = await serve(modelBytes);
    try {
      const progress: [number, number | null][] = [];
      const found = await resolveModel({
        ...dirs,
        envPath: null,
        allowDownload: true,
        downloadUrl: server.url,
        onProgress: (received, total) => progress.push([received, total]),
      });
      const cached = path.join(dirs.cacheDir, 'models', yoloxNanoCard.file.name);
      assert.equal(found.source, 'download');
      assert.equal(found.path, cached);
      assert.equal(await sha256OfFile(cached), yoloxNanoCard.file.sha256);
      assert.ok(progress.length > 1, 'progress reported more than once');
      assert.deepEqual(progress[progress.length - 1], [modelBytes.length, modelBytes.length]);
      assert.ok(progress.every(([, total]) => total === modelBytes.length));
      assert.deepEqual(readdirSync(path.dirname(cached)), [yoloxNanoCard.file.name]);
      // Next time the cached file is used, without asking the server again.
      const again = await resolveModel({
        ...dirs,
        envPath: null,
        allowDownload: true,
        downloadUrl: server.url,
      });
      assert.equal(again.source, 'cache');
      assert.equal(server.requests(), 1);
    } finally {
      await server.close();
    }
  },
);

test('a download with the wrong bytes is refused and leaves nothing behind', { skip }, async () => {
  const dirs = freshDirs();
  const server = await serve(modelBytes.subarray(0, 500_000), false);
  try {
    const progress: (number | null)[] = [];
    await assert.rejects(
      resolveModel({
        ...dirs,
        envPath: null,
        allowDownload: true,
        downloadUrl: server.url,
        onProgress: (_received, total) => progress.push(total),
      }),
      (error) => {
        const message = (error as Error).message;
        assert.ok(message.includes(`Download from ${server.url} failed`), message);
        assert.ok(message.includes('downloaded 500000 bytes with sha256'), message);
        assert.ok(message.includes(`expected ${yoloxNanoCard.file.sha256}`), message);
        return true;
      },
    );
    // Without content-length the total is unknown.
    assert.ok(progress.length > 0 && progress.every((total) => total === null));
    assert.deepEqual(readdirSync(path.join(dirs.cacheDir, 'models')), []);
  } finally {
    await server.close();
  }
});

test('a download that the server refuses names the HTTP status', { skip }, async () => {
  const dirs = freshDirs();
  const server = await serve(modelBytes);
  try {
    await assert.rejects(
      resolveModel({
        ...dirs,
        envPath: null,
        allowDownload: true,
        downloadUrl: server.url.replace('yolox_nano.onnx', 'missing.onnx'),
      }),
      /failed: HTTP 404/,
    );
  } finally {
    await server.close();
  }
});
