// Finding the detector's weights. Weights are never committed: they come from the operator
// (--model or URSA_MODEL), the user's model cache, ../shared/models, or, when allowed, a
// download from the card's URL into the cache, checked against the card's sha256.

import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '../../core/log';
import { type ModelCard, yoloxNanoCard } from './model-card';
import { makeFolder } from '../fs-util';

const log = createLogger('model-store');
const DOWNLOAD_STALL_MS = 30_000;

export type ModelSource = 'explicit' | 'env' | 'cache' | 'shared' | 'download';

export interface ResolveModelOptions {
  /** A model file the operator named (--model); wins over everything else. */
  explicitPath?: string;
  /** The user's cache folder; models live in its models/ subfolder. */
  cacheDir: string;
  sharedDir: string;
  /** Off unless asked for: the station must work offline and never phone home by surprise. */
  allowDownload?: boolean;
  onProgress?: (receivedBytes: number, totalBytes: number | null) => void;
  card?: ModelCard;
  /** Where to download from instead of the card's URL (a mirror, or a local test server). */
  downloadUrl?: string;
  /** URSA_MODEL by default; pass null to ignore the environment. */
  envPath?: string | null;
}

export interface ResolvedModel {
  path: string;
  source: ModelSource;
  card: ModelCard;
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

type Check = { ok: true } | { ok: false; reason: string };

/** Is this file the carded model? Explains why not. */
async function checkFile(file: string, card: ModelCard, requireHash: boolean): Promise<Check> {
  let sizeBytes: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) return { ok: false, reason: 'is not a file' };
    sizeBytes = info.size;
  } catch {
    return { ok: false, reason: 'does not exist' };
  }
  if (sizeBytes === 0) return { ok: false, reason: 'is empty' };
  const sha256 = await sha256OfFile(file);
  if (sha256 === card.file.sha256) return { ok: true };
  const sizeNote =
    sizeBytes < card.file.sizeBytes
      ? `, ${sizeBytes} of ${card.file.sizeBytes} bytes: truncated?`
      : `, ${sizeBytes} bytes`;
  const reason = `has sha256 ${sha256}${sizeNote}`;
  if (requireHash) return { ok: false, reason };
  log.warn(`${file} is not the carded model ${card.name} (${reason}); using it as asked`);
  return { ok: true };
}

function expected(card: ModelCard): string {
  return (
    `${card.file.name} (${card.name}, sha256 ${card.file.sha256}, ` +
    `${card.file.sizeBytes} bytes)`
  );
}

export async function resolveModel(options: ResolveModelOptions): Promise<ResolvedModel> {
  const card = options.card ?? yoloxNanoCard;
  const envPath = options.envPath === undefined ? process.env.URSA_MODEL : options.envPath;

  // A file the operator named is used even if it is another model, but never replaced by a
  // different one behind their back: if it is unusable, that is the error.
  const named: { path: string; source: ModelSource } | null = options.explicitPath
    ? { path: options.explicitPath, source: 'explicit' }
    : envPath
      ? { path: envPath, source: 'env' }
      : null;
  if (named) {
    const file = path.resolve(named.path);
    const check = await checkFile(file, card, false);
    if (!check.ok) {
      const by = named.source === 'explicit' ? '--model' : 'URSA_MODEL';
      throw new Error(
        `model file ${file} (from ${by}) ${check.reason}; expected ${expected(card)}`,
      );
    }
    log.debug(`model: ${file} (${named.source})`);
    return { path: file, source: named.source, card };
  }

  const looked: string[] = [];
  const candidates: { path: string; source: ModelSource }[] = [
    { path: path.join(options.cacheDir, 'models', card.file.name), source: 'cache' },
    { path: path.join(options.sharedDir, 'models', card.file.name), source: 'shared' },
  ];
  for (const candidate of candidates) {
    const file = path.resolve(candidate.path);
    const check = await checkFile(file, card, true);
    if (check.ok) {
      log.debug(`model: ${file} (${candidate.source})`);
      return { path: file, source: candidate.source, card };
    }
    looked.push(`${file} ${check.reason}`);
  }

  const url = options.downloadUrl ?? card.file.url;
  if (!options.allowDownload) {
    throw new Error(
      `no usable model: expected ${expected(card)}. Looked at: ${looked.join('; ')}. ` +
        `Download is off; pass --model FILE, set URSA_MODEL, or allow the download from ${url}`,
    );
  }
  const target = path.resolve(candidates[0].path);
  try {
    await downloadVerified(url, target, card, options.onProgress);
  } catch (error) {
    throw new Error(
      `no usable model: expected ${expected(card)}. Looked at: ${looked.join('; ')}. ` +
        `Download from ${url} failed: ${(error as Error).message}`,
    );
  }
  log.info(`model: downloaded ${url} to ${target}`);
  return { path: target, source: 'download', card };
}

/** Downloads to a temporary file beside the target, checks sha256, then renames it in. */
async function downloadVerified(
  url: string,
  target: string,
  card: ModelCard,
  onProgress?: (receivedBytes: number, totalBytes: number | null) => void,
): Promise<void> {
  makeFolder(path.dirname(target));
  const temp = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.part`;
  // A stalled connection must end in an error, not a station waiting forever.
  const abort = new AbortController();
  let stallTimer: NodeJS.Timeout | undefined;
  const armStallTimer = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(
      () => abort.abort(new Error(`no data for ${DOWNLOAD_STALL_MS / 1000} s`)),
      DOWNLOAD_STALL_MS,
    );
  };
  try {
    armStallTimer();
    const response = await fetch(url, { redirect: 'follow', signal: abort.signal });
    if (!response.ok || !response.body) {
      throw new Error(`HTTP ${response.status} ${response.statusText}`);
    }
    const lengthHeader = response.headers.get('content-length');
    const totalBytes =
      lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
    const hash = createHash('sha256');
    const out = createWriteStream(temp);
    const closed = new Promise<void>((resolve, reject) => {
      out.on('close', resolve);
      out.on('error', reject);
    });
    let receivedBytes = 0;
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value: bytes } = await reader.read();
        if (done) break;
        armStallTimer();
        hash.update(bytes);
        receivedBytes += bytes.length;
        if (!out.write(bytes)) await once(out, 'drain');
        onProgress?.(receivedBytes, totalBytes);
      }
    } finally {
      out.end();
      await closed;
    }
    const sha256 = hash.digest('hex');
    if (sha256 !== card.file.sha256) {
      throw new Error(
        `downloaded ${receivedBytes} bytes with sha256 ${sha256}, expected ${card.file.sha256}`,
      );
    }
    await rename(temp, target);
  } finally {
    clearTimeout(stallTimer);
    await rm(temp, { force: true });
  }
}
