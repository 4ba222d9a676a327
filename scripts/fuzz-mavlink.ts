// Fuzzes the station's MAVLink input: random and mutated frames (real frames from the shared
// tlogs with bits flipped, bytes inserted and deleted, lengths and ids changed, checksums made
// to fit again) through the station's decoder (node-mavlink underneath), the live frame
// scanner, and the tlog reader with its summary. It fails when an exception escapes, when a
// parser stops finding a known-good frame after the noise (wedged), or when progress stalls.
// The fuzzing runs in a worker; this thread is the watchdog, so even a hung loop is reported.
// Usage: npm run fuzz [-- --count 1000000 --seed 1 --stall-s 10]
// (--spin-after N makes the fuzzer hang after N cases, to show that the watchdog catches it.)
// Prints progress on stderr and one `FUZZ {...}` line on stdout. Exit codes: 0 clean,
// 1 an exception or a wedged parser, 2 bad arguments, 3 a stall.

import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

import { MavLinkProtocolV1, MavLinkProtocolV2, common, minimal } from 'node-mavlink';

import { setLogSink } from '../app/core/log';
import { MavlinkDecoder, type DecoderStats } from '../app/station/mavlink/codec';
import { sharedDir } from '../app/station/paths';
import { MavlinkFrameScanner, STX_V1, STX_V2, crcExtra, x25Crc } from '../app/station/tlog/frame';
import { TlogFileReader, TlogParser } from '../app/station/tlog/reader';
import { TlogSummarizer } from '../app/station/tlog/summary';
import { encodeTlogRecord } from '../app/station/tlog/writer';

/** Cases between checks that each parser still finds a good frame behind the noise. */
const CANARY_EVERY = 500;
const SEED_FRAMES_PER_FILE = 600;
const MAX_CASE_BYTES = 4096;
const PROGRESS_EVERY_MS = 5000;

interface FuzzConfig {
  count: number;
  seed: number;
  /** Hang on purpose after this many cases (0: never), to test the watchdog. */
  spinAfter: number;
  /** [cases done]; the watchdog reads it. */
  progress: SharedArrayBuffer;
  /** [length, bytes...] of the case being fed, for the stall report. */
  current: SharedArrayBuffer;
}

type WorkerReport =
  | { kind: 'done'; result: FuzzResult }
  | { kind: 'failure'; what: string; caseIndex: number; caseHex: string };

interface FuzzResult {
  cases: number;
  bytes: number;
  seedFrames: number;
  seedSource: string;
  decodedMessages: number;
  decoderStats: DecoderStats;
  scannerFrames: number;
  tlogRecords: number;
  canaryChecks: number;
  warningsLogged: number;
}

// ---------------------------------------------------------------------------------------------
// The watchdog (main thread).

function positiveInteger(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new Error(`--${name} must be a positive integer, got "${value}"`);
  }
  return parsed;
}

function watchdog(): void {
  let count: number;
  let seed: number;
  let stallS: number;
  let spinAfter: number;
  try {
    const { values } = parseArgs({
      options: {
        count: { type: 'string' },
        seed: { type: 'string' },
        'stall-s': { type: 'string' },
        'spin-after': { type: 'string' },
      },
    });
    count = positiveInteger(values.count, 1_000_000, 'count');
    seed = positiveInteger(values.seed, 1, 'seed');
    stallS = positiveInteger(values['stall-s'], 10, 'stall-s');
    spinAfter =
      values['spin-after'] === undefined
        ? 0
        : positiveInteger(values['spin-after'], 0, 'spin-after');
  } catch (error) {
    process.stderr.write(`fuzz: ${error instanceof Error ? error.message : error}\n`);
    process.exit(2);
  }

  const progress = new SharedArrayBuffer(4);
  const current = new SharedArrayBuffer(4 + MAX_CASE_BYTES);
  const done = new Int32Array(progress);
  const config: FuzzConfig = { count, seed, spinAfter, progress, current };
  // The worker runs this file too; tsx's loader is registered in it first, since a worker
  // does not inherit the main thread's.
  const boot = `require(${JSON.stringify(require.resolve('tsx/cjs'))});
    require(${JSON.stringify(__filename)});`;
  const worker = new Worker(boot, { eval: true, workerData: config });
  const startedMs = performance.now();
  let lastDone = -1;
  let lastChangeMs = startedMs;
  let lastReportMs = startedMs;
  let finished = false;

  const finish = (code: number): void => {
    if (finished) return;
    finished = true;
    clearInterval(timer);
    void worker.terminate().finally(() => process.exit(code));
  };

  const timer = setInterval(() => {
    const now = performance.now();
    const cases = Atomics.load(done, 0);
    if (cases !== lastDone) {
      lastDone = cases;
      lastChangeMs = now;
    }
    if (now - lastReportMs >= PROGRESS_EVERY_MS) {
      lastReportMs = now;
      const rate = cases / ((now - startedMs) / 1000);
      process.stderr.write(`fuzz: ${cases} / ${count} cases (${Math.round(rate)}/s)\n`);
    }
    if (now - lastChangeMs > stallS * 1000) {
      const view = new DataView(current);
      const length = Math.min(view.getInt32(0, true), MAX_CASE_BYTES);
      const bytes = Buffer.from(new Uint8Array(current, 4, Math.max(0, length)));
      process.stderr.write(
        `fuzz: STALL: no progress for ${stallS} s at case ${cases} (seed ${seed}); ` +
          `the case being fed (${length} bytes): ${bytes.toString('hex')}\n`,
      );
      finish(3);
    }
  }, 250);

  worker.on('message', (report: WorkerReport) => {
    if (report.kind === 'failure') {
      process.stderr.write(
        `fuzz: FAILED at case ${report.caseIndex} (seed ${seed}): ${report.what}\n` +
          `  case bytes: ${report.caseHex}\n`,
      );
      finish(1);
      return;
    }
    const seconds = (performance.now() - startedMs) / 1000;
    const result = { ...report.result, seed, seconds: Math.round(seconds * 10) / 10 };
    process.stderr.write(
      `fuzz: ${result.cases} cases, ${result.bytes} bytes in ${result.seconds} s from ` +
        `${result.seedFrames} seed frames (${result.seedSource}): no exception, no stall, ` +
        `every parser found every canary\n`,
    );
    process.stdout.write(`FUZZ ${JSON.stringify(result)}\n`);
    finish(0);
  });
  worker.on('error', (error) => {
    process.stderr.write(`fuzz: FAILED: an exception escaped: ${error.stack ?? error}\n`);
    finish(1);
  });
  worker.on('exit', (code) => {
    if (!finished) {
      process.stderr.write(`fuzz: the fuzzing worker exited (${code}) without a result\n`);
      finish(1);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The fuzzer (worker thread).

class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** xorshift32: fast, and the same cases for the same seed. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  below(n: number): number {
    return this.next() % n;
  }

  byte(): number {
    return this.next() & 0xff;
  }

  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

function seedFrames(): { frames: Uint8Array[]; source: string } {
  const dir = path.join(sharedDir(), 'fixtures', 'tlog');
  const frames: Uint8Array[] = [];
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.tlog'))
      .sort()) {
      const reader = TlogFileReader.open(path.join(dir, name));
      const all: Uint8Array[] = [];
      try {
        for (let r = reader.next(); r; r = reader.next()) all.push(r.frame.slice());
      } finally {
        reader.dispose();
      }
      const step = Math.max(1, Math.floor(all.length / SEED_FRAMES_PER_FILE));
      for (let i = 0; i < all.length; i += step) frames.push(all[i]);
    }
  }
  if (frames.length > 0) return { frames, source: dir };
  // Without the shared logs, frames serialized here: fewer message kinds, same mutations.
  process.stderr.write(`fuzz: no tlogs in ${dir}; seeding with synthesized frames\n`);
  const synthesized = [canaryFrame(), ...Array.from({ length: 50 }, (_, i) => statusFrame(i))];
  return { frames: synthesized, source: 'synthesized' };
}

function canaryFrame(): Uint8Array {
  const beat = Object.assign(new minimal.Heartbeat(), {
    type: minimal.MavType.QUADROTOR,
    autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
    baseMode: 0,
    customMode: 0x5a,
    systemStatus: minimal.MavState.STANDBY,
    mavlinkVersion: 3,
  });
  return new Uint8Array(new MavLinkProtocolV2(42, 1).serialize(beat, 7));
}

function statusFrame(i: number): Uint8Array {
  const text = Object.assign(new common.StatusText(), {
    severity: common.MavSeverity.INFO,
    text: `fuzz ${i}`.repeat(i % 6),
    id: 0,
    chunkSeq: 0,
  });
  const protocol = i % 2 ? new MavLinkProtocolV1(1, 1) : new MavLinkProtocolV2(1, 1);
  return new Uint8Array(protocol.serialize(text, i & 0xff));
}

/** Makes the checksum fit again, so the damage reaches the payload decoders. */
function fixCrc(frame: Uint8Array): void {
  if (frame.length < 8) return;
  const v2 = frame[0] === STX_V2;
  if (!v2 && frame[0] !== STX_V1) return;
  const headerBytes = v2 ? 10 : 6;
  const crcAt = headerBytes + frame[1];
  if (crcAt + 2 > frame.length || frame.length < headerBytes) return;
  const messageId = v2 ? frame[7] | (frame[8] << 8) | (frame[9] << 16) : frame[5];
  const extra = crcExtra(messageId);
  if (extra === null) return;
  const crc = x25Crc(frame, 1, crcAt, extra);
  frame[crcAt] = crc & 0xff;
  frame[crcAt + 1] = crc >> 8;
}

function mutate(random: Random, source: Uint8Array): Uint8Array {
  let bytes = Array.from(source);
  const rounds = 1 + random.below(3);
  for (let round = 0; round < rounds; round++) {
    switch (random.below(10)) {
      case 0: {
        const flips = 1 + random.below(8);
        for (let i = 0; i < flips && bytes.length > 0; i++) {
          bytes[random.below(bytes.length)] ^= 1 << random.below(8);
        }
        break;
      }
      case 1:
        if (bytes.length > 0) bytes[random.below(bytes.length)] = random.byte();
        break;
      case 2: {
        const at = random.below(bytes.length + 1);
        const inserted = Array.from({ length: 1 + random.below(16) }, () => random.byte());
        bytes.splice(at, 0, ...inserted);
        break;
      }
      case 3: {
        const at = random.below(bytes.length + 1);
        bytes.splice(at, 1 + random.below(12));
        break;
      }
      case 4:
        bytes = bytes.slice(0, random.below(bytes.length + 1));
        break;
      case 5:
        if (bytes.length > 1) bytes[1] = random.byte();
        break;
      case 6:
        // Another message id, often one whose payload is longer or shorter than this.
        if (bytes[0] === STX_V2 && bytes.length > 9) {
          bytes[7] = random.byte();
          bytes[8] = random.chance(0.8) ? 0 : random.byte();
          bytes[9] = random.chance(0.95) ? 0 : random.byte();
        } else if (bytes.length > 5) {
          bytes[5] = random.byte();
        }
        break;
      case 7:
        if (bytes[0] === STX_V2 && bytes.length > 2) {
          bytes[2] = random.chance(0.5) ? 0x01 : random.byte();
        }
        break;
      case 8: {
        // Payload bytes rewritten; checksum fixed below.
        for (let i = 10; i < bytes.length - 2; i++)
          if (random.chance(0.3)) bytes[i] = random.byte();
        break;
      }
      case 9:
        if (random.chance(0.5)) bytes.reverse();
        else bytes = bytes.map((b) => (random.chance(0.05) ? random.pick([STX_V1, STX_V2]) : b));
        break;
    }
  }
  const frame = Uint8Array.from(bytes.slice(0, MAX_CASE_BYTES));
  if (random.chance(0.5)) fixCrc(frame);
  return frame;
}

function randomBytes(random: Random): Uint8Array {
  const length = random.below(random.chance(0.1) ? 1200 : 300);
  const stxHeavy = random.chance(0.3);
  return Uint8Array.from({ length }, () =>
    stxHeavy && random.chance(0.3) ? random.pick([STX_V1, STX_V2]) : random.byte(),
  );
}

function makeCase(random: Random, seeds: Uint8Array[]): Uint8Array {
  const kind = random.below(10);
  if (kind === 0) return randomBytes(random);
  if (kind <= 2) {
    // Several frames, some damaged, with noise between them.
    const parts: Uint8Array[] = [];
    const count = 2 + random.below(4);
    for (let i = 0; i < count; i++) {
      const seed = random.pick(seeds);
      parts.push(random.chance(0.5) ? seed : mutate(random, seed));
      if (random.chance(0.4)) parts.push(randomBytes(random).subarray(0, 1 + random.below(20)));
    }
    return join(parts).subarray(0, MAX_CASE_BYTES);
  }
  return mutate(random, random.pick(seeds));
}

function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** A failure already posted to the watchdog. */
class ReportedFailure extends Error {}

async function fuzz(config: FuzzConfig): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('the fuzzer runs in a worker');
  let warningsLogged = 0;
  setLogSink((level) => {
    if (level === 'warn' || level === 'error') warningsLogged++;
  });

  const random = new Random(config.seed);
  const done = new Int32Array(config.progress);
  const current = new DataView(config.current);
  const currentBytes = new Uint8Array(config.current, 4);
  const { frames: seeds, source } = seedFrames();
  const canary = canaryFrame();
  // Noise so long that any frame it started ends before the canary.
  const flush = new Uint8Array(300);

  let decodedMessages = 0;
  let canaryMessages = 0;
  const decoder = new MavlinkDecoder((received) => {
    decodedMessages++;
    if (received.systemId === 42 && received.messageId === 0) canaryMessages++;
  });
  let scannerFrames = 0;
  let scannerCanaries = 0;
  const isCanary = (frame: Uint8Array): boolean =>
    frame.length === canary.length && frame.every((b, i) => b === canary[i]);
  const onScanned = (frame: Uint8Array): void => {
    scannerFrames++;
    if (isCanary(frame)) scannerCanaries++;
  };
  const streamScanner = new MavlinkFrameScanner(onScanned);
  const datagramScanner = new MavlinkFrameScanner(onScanned, { datagrams: true });
  const parser = new TlogParser();
  const summarizer = new TlogSummarizer();
  let tlogRecords = 0;
  let tlogCanaries = 0;
  const drain = (): void => {
    for (let r = parser.next(); r; r = parser.next()) {
      tlogRecords++;
      if (isCanary(r.frame)) tlogCanaries++;
      summarizer.add(r);
    }
  };

  let caseIndex = 0;
  let caseBytes: Uint8Array = new Uint8Array(0);
  const fail = (what: string): never => {
    port.postMessage({ kind: 'failure', what, caseIndex, caseHex: hex(caseBytes) });
    throw new ReportedFailure(what);
  };
  const feed = (target: string, run: () => void): void => {
    try {
      run();
    } catch (error) {
      fail(`an exception escaped ${target}: ${error instanceof Error ? error.stack : error}`);
    }
  };

  let totalBytes = 0;
  let canaryChecks = 0;
  const baseTimeUs = Date.UTC(2026, 0, 1) * 1000;
  for (caseIndex = 0; caseIndex < config.count; caseIndex++) {
    if (config.spinAfter > 0 && caseIndex === config.spinAfter) for (;;);
    caseBytes = makeCase(random, seeds);
    current.setInt32(0, caseBytes.length, true);
    currentBytes.set(caseBytes.subarray(0, MAX_CASE_BYTES));
    totalBytes += caseBytes.length;
    const chunk = Buffer.from(caseBytes);
    feed('the station decoder', () => decoder.push(chunk));
    feed('the stream scanner', () => streamScanner.push(caseBytes));
    feed('the datagram scanner', () => datagramScanner.push(caseBytes));
    // Most cases go in as records (a plausible timestamp before them), some as they are.
    const asRecord = random.chance(0.7);
    const timeUs = baseTimeUs + caseIndex * 1000;
    feed('the tlog reader', () => {
      parser.push(asRecord ? encodeTlogRecord(timeUs, caseBytes) : caseBytes);
      drain();
    });

    if ((caseIndex + 1) % CANARY_EVERY === 0) {
      canaryChecks++;
      const before = { decoder: canaryMessages, scanner: scannerCanaries, tlog: tlogCanaries };
      feed('the station decoder', () => decoder.push(Buffer.from(join([flush, canary]))));
      feed('the stream scanner', () => streamScanner.push(join([flush, canary])));
      feed('the datagram scanner', () => datagramScanner.push(canary));
      feed('the tlog reader', () => {
        parser.push(join([flush, encodeTlogRecord(timeUs, canary)]));
        drain();
      });
      // node-mavlink's streams may hand packets on in a later turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      if (canaryMessages === before.decoder) fail('the station decoder is wedged');
      if (scannerCanaries < before.scanner + 2) fail('the frame scanner is wedged');
      if (tlogCanaries === before.tlog) fail('the tlog reader is wedged');
    }
    Atomics.store(done, 0, caseIndex + 1);
  }
  feed('the tlog reader', () => {
    parser.end();
    drain();
    summarizer.summary('fuzz', parser.stats);
  });
  const result: FuzzResult = {
    cases: config.count,
    bytes: totalBytes,
    seedFrames: seeds.length,
    seedSource: source,
    decodedMessages,
    decoderStats: decoder.stats,
    scannerFrames,
    tlogRecords,
    canaryChecks,
    warningsLogged,
  };
  decoder.dispose();
  port.postMessage({ kind: 'done', result } satisfies WorkerReport);
}

if (isMainThread) {
  watchdog();
} else {
  fuzz(workerData as FuzzConfig).catch((error: unknown) => {
    // A posted failure is the watchdog's to report; anything else is the fuzzer's own bug.
    if (error instanceof ReportedFailure) return;
    const what = `the fuzzer itself failed: ${error instanceof Error ? error.stack : error}`;
    parentPort?.postMessage({ kind: 'failure', what, caseIndex: -1, caseHex: '' });
  });
}
