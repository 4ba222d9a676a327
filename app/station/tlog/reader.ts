// Reads telemetry logs in the QGroundControl format (each record: an 8-byte big-endian
// microsecond UNIX timestamp, then one MAVLink v1 or v2 frame) as other ground stations and
// loggers really write them: with noise between records, frames with bad checksums, blocks of
// zero padding, sessions written over each other, and a cut-off end. It resyncs, counts what
// it skipped, and never throws on data. Work per byte is bounded (a checksum over at most one
// frame), and memory is bounded by one record plus the chunk being read.

import { closeSync, openSync, readSync } from 'node:fs';

import type { Disposable } from '../../core/disposable';
import { FrameProbe, Probe, STX_V1, STX_V2, concat, probeFrame } from './frame';

export const TIMESTAMP_BYTES = 8;
/** Timestamps outside 2000-01-01 .. 2100-01-01 mean the reader is not on a record. */
export const MIN_TIMESTAMP_US = Date.UTC(2000, 0, 1) * 1000;
export const MAX_TIMESTAMP_US = Date.UTC(2100, 0, 1) * 1000;
const TWO_POW_32 = 0x1_0000_0000;
const READ_CHUNK_BYTES = 256 * 1024;

export interface TlogRecord {
  /** Microseconds since the UNIX epoch; exact, since it stays below 2^53 until the year 2255. */
  timeUs: number;
  /** The MAVLink frame as it crossed the wire, start byte to checksum (and signature). */
  frame: Uint8Array;
  /** Where the record (its timestamp) starts in the file. */
  offset: number;
  messageId: number;
  /** False for a message id no dialect defines: its checksum could not be checked. */
  known: boolean;
}

export interface TlogReadStats {
  bytesRead: number;
  records: number;
  /** Bytes that were part of no record (zero padding included, the truncated tail not). */
  bytesSkipped: number;
  /** How many of the skipped bytes were zeros: padding some loggers leave. */
  zeroBytesSkipped: number;
  /** Records whose frame was whole but whose checksum did not hold. */
  crcErrors: number;
  /** Records of message ids no dialect defines (kept, but their checksum was not checked). */
  unknownMessageIds: number;
  /** Well-formed frames behind a timestamp outside 2000..2100, taken as lost sync. */
  badTimestamps: number;
  /** A record the file ends in the middle of. */
  truncatedTailBytes: number;
}

function emptyReadStats(): TlogReadStats {
  return {
    bytesRead: 0,
    records: 0,
    bytesSkipped: 0,
    zeroBytesSkipped: 0,
    crcErrors: 0,
    unknownMessageIds: 0,
    badTimestamps: 0,
    truncatedTailBytes: 0,
  };
}

export function isPlausibleTimestampUs(timeUs: number): boolean {
  return timeUs >= MIN_TIMESTAMP_US && timeUs < MAX_TIMESTAMP_US;
}

function readTimestampUs(bytes: Uint8Array, pos: number): number {
  const high =
    ((bytes[pos] << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]) >>> 0;
  const low =
    ((bytes[pos + 4] << 24) | (bytes[pos + 5] << 16) | (bytes[pos + 6] << 8) | bytes[pos + 7]) >>>
    0;
  return high * TWO_POW_32 + low;
}

/**
 * Could these (fewer than 8) bytes begin a plausible timestamp? True when some completion of
 * them lies within 2000..2100.
 */
function couldStartTimestamp(bytes: Uint8Array, pos: number, end: number): boolean {
  let lowest = 0;
  let highest = 0;
  for (let i = 0; i < TIMESTAMP_BYTES; i++) {
    const known = pos + i < end;
    lowest = lowest * 256 + (known ? bytes[pos + i] : 0);
    highest = highest * 256 + (known ? bytes[pos + i] : 255);
  }
  return highest >= MIN_TIMESTAMP_US && lowest < MAX_TIMESTAMP_US;
}

/**
 * A push parser: give it chunks as they come, take records while it has them. Records are
 * views into buffers the parser never writes again.
 */
export class TlogParser {
  private bytes: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** File offset of bytes[0]. */
  private base = 0;
  private ended = false;
  private finished = false;
  private readonly probe = new FrameProbe();
  private readonly counts = emptyReadStats();

  get stats(): TlogReadStats {
    return { ...this.counts };
  }

  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('TlogParser: push after end');
    this.counts.bytesRead += chunk.length;
    if (this.pos >= this.bytes.length) {
      this.base += this.bytes.length;
      this.bytes = chunk;
    } else {
      this.base += this.pos;
      this.bytes = concat(this.bytes.subarray(this.pos), chunk);
    }
    this.pos = 0;
  }

  /** No more data: what is left is read as the end of the file. */
  end(): void {
    this.ended = true;
  }

  /** The next record, or null when more data is needed (or, after end(), there is none). */
  next(): TlogRecord | null {
    if (this.finished) return null;
    const bytes = this.bytes;
    const end = bytes.length;
    const probe = this.probe;
    const counts = this.counts;
    let pos = this.pos;
    for (;;) {
      // Find the next place where a start byte sits behind a timestamp's worth of bytes.
      const stxAt = nextStartByte(bytes, pos + TIMESTAMP_BYTES, end);
      if (stxAt >= end) {
        // Keep the last 8 bytes: they may be the timestamp of a frame still to come.
        const keep = Math.max(pos, end - TIMESTAMP_BYTES);
        this.skip(bytes, pos, keep);
        pos = keep;
        this.pos = pos;
        if (this.ended) return this.finish(bytes, pos, end);
        return null;
      }
      this.skip(bytes, pos, stxAt - TIMESTAMP_BYTES);
      pos = stxAt - TIMESTAMP_BYTES;

      const timeUs = readTimestampUs(bytes, pos);
      if (!isPlausibleTimestampUs(timeUs)) {
        // Not a record; but a whole frame behind a wrong time is worth counting.
        if (probeFrame(bytes, stxAt, end, probe) === Probe.FRAME) counts.badTimestamps++;
        this.skip(bytes, pos, pos + 1);
        pos++;
        continue;
      }
      const result = probeFrame(bytes, stxAt, end, probe);
      if (result === Probe.NEED_MORE) {
        this.pos = pos;
        if (!this.ended) return null;
        if (!this.wholeRecordAfter(bytes, pos + 1, end)) {
          counts.truncatedTailBytes += end - pos;
          this.pos = end;
          this.finished = true;
          return null;
        }
        this.skip(bytes, pos, pos + 1);
        pos++;
        continue;
      }
      if (result === Probe.BAD_CRC) {
        counts.crcErrors++;
        this.skip(bytes, pos, pos + 1);
        pos++;
        continue;
      }
      if (result === Probe.NOT_FRAME) {
        this.skip(bytes, pos, pos + 1);
        pos++;
        continue;
      }
      const recordEnd = stxAt + probe.length;
      if (result === Probe.UNKNOWN_ID) {
        // Unchecked: believe it only when the next record starts right behind it.
        const next = this.nextRecordStartsAt(bytes, recordEnd, end);
        if (next === null) {
          this.pos = pos;
          return null;
        }
        if (!next) {
          this.skip(bytes, pos, pos + 1);
          pos++;
          continue;
        }
        counts.unknownMessageIds++;
      }
      counts.records++;
      this.pos = recordEnd;
      return {
        timeUs,
        frame: bytes.subarray(stxAt, recordEnd),
        offset: this.base + pos,
        messageId: probe.messageId,
        known: result === Probe.FRAME,
      };
    }
  }

  /** True or false, or null when that cannot be told before more data comes. */
  private nextRecordStartsAt(bytes: Uint8Array, at: number, end: number): boolean | null {
    if (at === end) return this.ended ? true : null;
    if (end - at < TIMESTAMP_BYTES + 1) {
      return this.ended ? false : null;
    }
    const stx = bytes[at + TIMESTAMP_BYTES];
    return (stx === STX_V1 || stx === STX_V2) && isPlausibleTimestampUs(readTimestampUs(bytes, at));
  }

  /**
   * Is there a whole record anywhere in bytes[from, end)? Asked once, at the end of the file,
   * over less than one record's length, before the rest is called a truncated record.
   */
  private wholeRecordAfter(bytes: Uint8Array, from: number, end: number): boolean {
    const probe = new FrameProbe();
    for (let at = from; at + TIMESTAMP_BYTES < end; at++) {
      if (!isPlausibleTimestampUs(readTimestampUs(bytes, at))) continue;
      const result = probeFrame(bytes, at + TIMESTAMP_BYTES, end, probe);
      if (result === Probe.FRAME) return true;
    }
    return false;
  }

  /** The last bytes of the file, too few to hold a frame behind a timestamp. */
  private finish(bytes: Uint8Array, pos: number, end: number): null {
    this.finished = true;
    if (pos < end && !allZero(bytes, pos, end) && couldStartTimestamp(bytes, pos, end)) {
      this.counts.truncatedTailBytes += end - pos;
    } else {
      this.skip(bytes, pos, end);
    }
    this.pos = end;
    return null;
  }

  private skip(bytes: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    this.counts.bytesSkipped += to - from;
    let zeros = 0;
    for (let i = from; i < to; i++) if (bytes[i] === 0) zeros++;
    this.counts.zeroBytesSkipped += zeros;
  }
}

function nextStartByte(bytes: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && bytes[i] !== STX_V1 && bytes[i] !== STX_V2) i++;
  return i;
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Reads a tlog file record by record, a chunk at a time. */
export class TlogFileReader implements Disposable {
  private readonly parser = new TlogParser();
  private fd: number | null;
  private readonly chunk = Buffer.alloc(READ_CHUNK_BYTES);

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Throws a clear Error when the file cannot be opened. */
  static open(file: string): TlogFileReader {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (error) {
      throw new Error(`cannot open tlog ${file}: ${describeFsError(error)}`);
    }
    return new TlogFileReader(file, fd);
  }

  get stats(): TlogReadStats {
    return this.parser.stats;
  }

  /** The next record, or null at the end of the file. Throws only when reading fails. */
  next(): TlogRecord | null {
    for (;;) {
      const record = this.parser.next();
      if (record || this.fd === null) return record;
      let read: number;
      try {
        read = readSync(this.fd, this.chunk, 0, this.chunk.length, null);
      } catch (error) {
        throw new Error(`cannot read tlog ${this.path}: ${describeFsError(error)}`);
      }
      if (read === 0) {
        this.close();
        this.parser.end();
      } else {
        // A copy: records are views, and the read buffer is reused.
        this.parser.push(Uint8Array.prototype.slice.call(this.chunk, 0, read));
      }
    }
  }

  dispose(): void {
    this.close();
  }

  private close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}

/** Every record of a whole byte array (a file read at once, or a test's bytes). */
export function parseTlogBytes(bytes: Uint8Array): { records: TlogRecord[]; stats: TlogReadStats } {
  const parser = new TlogParser();
  parser.push(bytes);
  parser.end();
  const records: TlogRecord[] = [];
  for (let record = parser.next(); record; record = parser.next()) records.push(record);
  return { records, stats: parser.stats };
}

export function describeFsError(error: unknown): string {
  if (error instanceof Error && 'code' in error) {
    const code = String((error as NodeJS.ErrnoException).code);
    const words: Record<string, string> = {
      ENOENT: 'no such file',
      EACCES: 'permission denied',
      EISDIR: 'it is a folder',
      ENOSPC: 'the disk is full',
      EROFS: 'the file system is read-only',
      ENOTDIR: 'a part of the path is not a folder',
      EEXIST: 'the file already exists',
    };
    return words[code] ? `${words[code]} (${code})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
