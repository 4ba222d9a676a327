// Replay benchmark on a large flight record: a ~100 MB log made by repeating a real shared log
// with its times shifted so that it runs on without a gap (timestamps rewritten, frames as they
// are), in the system's temp folder and deleted after. Measures reading it straight through
// once (reader, decoder and vehicle model: the baseline), building the replay index, and
// seeking: 100 random seeks (median and max) and seeks near the end against near the start.
// Usage: npm run bench -- --only replay

import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { MavlinkDecoder } from '../app/station/mavlink/codec';
import { MODEL_MESSAGE_IDS, VehicleModel } from '../app/station/mavlink/vehicle-model';
import { sharedDir } from '../app/station/paths';
import { TlogIndex } from '../app/station/replay/tlog-index';
import { seededRandom } from '../app/station/sim/lossy';
import { TlogFileReader, parseTlogBytes } from '../app/station/tlog/reader';
import { percentile, report, round } from './bench-report';

const SOURCE_LOG = 'codelever_2013-10-13_16-58-51.tlog';
const TARGET_BYTES = 100e6;
/** Between the last record of one copy and the first of the next: well inside a run. */
const COPY_STEP_US = 1_000_000;
const RANDOM_SEEKS = 100;
const END_SEEKS = 20;

/** Writes copies of the source's records, each shifted to follow the one before. */
function buildLargeLog(source: string, target: string): { bytes: number; records: number } {
  const { records } = parseTlogBytes(readFileSync(source));
  const firstUs = records[0].timeUs;
  const periodUs = records[records.length - 1].timeUs - firstUs + COPY_STEP_US;
  const copyBytes = records.reduce((sum, r) => sum + 8 + r.frame.length, 0);
  const copies = Math.max(1, Math.round(TARGET_BYTES / copyBytes));
  const buffer = Buffer.alloc(copyBytes);
  const fd = openSync(target, 'w');
  try {
    for (let copy = 0; copy < copies; copy++) {
      let at = 0;
      for (const record of records) {
        const timeUs = record.timeUs + copy * periodUs;
        buffer.writeUInt32BE(Math.floor(timeUs / 0x1_0000_0000), at);
        buffer.writeUInt32BE(timeUs % 0x1_0000_0000, at + 4);
        buffer.set(record.frame, at + 8);
        at += 8 + record.frame.length;
      }
      writeSync(fd, buffer, 0, at);
    }
  } finally {
    closeSync(fd);
  }
  return { bytes: copies * copyBytes, records: copies * records.length };
}

/** Reader, decoder and vehicle model over the whole file, as a live replay would feed them. */
function readStraightThrough(file: string): number {
  const model = new VehicleModel();
  let nowMs = 0;
  const decoder = new MavlinkDecoder((received) => model.apply(received, nowMs), MODEL_MESSAGE_IDS);
  const reader = TlogFileReader.open(file);
  let records = 0;
  try {
    for (let record = reader.next(); record; record = reader.next()) {
      nowMs = record.timeUs / 1000;
      const frame = record.frame;
      decoder.pushDatagram(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
      records++;
    }
  } finally {
    reader.dispose();
    decoder.dispose();
  }
  return records;
}

function timeSeeks(index: TlogIndex, targetsUs: number[]): number[] {
  return targetsUs.map((axisUs) => {
    const start = performance.now();
    index.vehicleAt(axisUs);
    return performance.now() - start;
  });
}

export async function benchReplay(): Promise<void> {
  const source = path.join(sharedDir(), 'fixtures', 'tlog', SOURCE_LOG);
  if (!existsSync(source)) {
    process.stdout.write(`replay benchmarks skipped: no ${source}\n`);
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-bench-replay-'));
  try {
    const file = path.join(dir, 'large.tlog');
    const made = buildLargeLog(source, file);
    const megabytes = statSync(file).size / 1e6;

    let start = performance.now();
    const records = readStraightThrough(file);
    const straightMs = performance.now() - start;

    const heapBeforeMb = process.memoryUsage().heapUsed / 1e6;
    start = performance.now();
    const index = await TlogIndex.build(file);
    const buildMs = performance.now() - start;
    const heapMb = process.memoryUsage().heapUsed / 1e6 - heapBeforeMb;
    try {
      const endUs = index.timeline.axisEndUs;
      const random = seededRandom(42);
      const seeksMs = timeSeeks(
        index,
        Array.from({ length: RANDOM_SEEKS }, () => random() * endUs),
      );
      const nearStartMs = timeSeeks(
        index,
        Array.from({ length: END_SEEKS }, () => random() * endUs * 0.01),
      );
      const nearEndMs = timeSeeks(
        index,
        Array.from({ length: END_SEEKS }, () => endUs * (0.99 + random() * 0.01)),
      );
      const median = percentile(seeksMs, 0.5);
      const max = Math.max(...seeksMs);
      const startMedian = percentile(nearStartMs, 0.5);
      const endMedian = percentile(nearEndMs, 0.5);
      process.stdout.write(
        `replay: ${megabytes.toFixed(1)} MB log, ${records} records (${made.records} written), ` +
          `${(endUs / 3.6e9).toFixed(2)} h of log, from ${SOURCE_LOG} repeated\n` +
          `  read straight through (reader + decoder + vehicle model): ${round(straightMs)} ms ` +
          `(${(megabytes / (straightMs / 1000)).toFixed(1)} MB/s)\n` +
          `  build the index: ${round(buildMs)} ms (${round(buildMs / straightMs)}x the read); ` +
          `about ${round(heapMb)} MB more heap (before GC)\n` +
          `  ${RANDOM_SEEKS} random seeks: median ${round(median)} ms, max ${round(max)} ms ` +
          `(seek ${seeksMs.indexOf(max) + 1} of ${RANDOM_SEEKS}); the median is ` +
          `1/${Math.round(straightMs / median)} of the read\n` +
          `  seek near the start: median ${round(startMedian)} ms; near the end: ` +
          `${round(endMedian)} ms\n`,
      );
      report('replay read 100 MB log straight through', straightMs, null);
      report('replay index build 100 MB log', buildMs, round(straightMs));
      report('replay seek median', median, round(straightMs));
      report('replay seek max', max, round(straightMs));
      report('replay seek near the end', endMedian, round(startMedian));
    } finally {
      index.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
