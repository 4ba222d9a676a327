// Writes flight records in the QGroundControl tlog format: each record is an 8-byte big-endian
// microsecond UNIX timestamp and the raw MAVLink frame. Records collect in memory and go to the
// file at least once a second with plain appends (no fsync): the operating system keeps what
// was written when the station is killed, so a `kill -9` loses at most the last second.
// A write that fails (disk full, folder gone) stops the record and says so; it never throws
// into the caller, because the vehicle matters more than its log.

import { closeSync, lstatSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

import type { Disposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import { MAX_FRAME_BYTES } from './frame';
import { describeFsError, TIMESTAMP_BYTES } from './reader';
import { makeFolder } from '../fs-util';
import { sidecarPaths } from '../journal';

const log = createLogger('tlog');

const DEFAULT_FLUSH_INTERVAL_MS = 1000;
const INITIAL_BUFFER_BYTES = 64 * 1024;
/** Written at once past this, so a flood cannot hold much in memory between flushes. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const TWO_POW_32 = 0x1_0000_0000;

export interface TlogWriterOptions {
  /** How often buffered records go to the file. */
  flushIntervalMs?: number;
  /**
   * Told once, with words for the operator, when the record stops because writing failed;
   * without it the writer logs the error itself.
   */
  onError?: (message: string) => void;
}

export function encodeTimestampUs(timeUs: number, out: Uint8Array, at: number): void {
  if (!Number.isSafeInteger(timeUs) || timeUs < 0) {
    throw new Error(`a tlog timestamp must be a whole number of microseconds, got ${timeUs}`);
  }
  const high = Math.floor(timeUs / TWO_POW_32);
  const low = timeUs - high * TWO_POW_32;
  const view = new DataView(out.buffer, out.byteOffset + at, TIMESTAMP_BYTES);
  view.setUint32(0, high);
  view.setUint32(4, low);
}

/** One record: the timestamp, then the frame. */
export function encodeTlogRecord(timeUs: number, frame: Uint8Array): Uint8Array {
  const record = new Uint8Array(TIMESTAMP_BYTES + frame.length);
  encodeTimestampUs(timeUs, record, 0);
  record.set(frame, TIMESTAMP_BYTES);
  return record;
}

export class TlogWriter implements Disposable {
  private fd: number | null;
  private buffer = Buffer.alloc(INITIAL_BUFFER_BYTES);
  private buffered = 0;
  private written = 0;
  private recordCount = 0;
  private failure: string | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly onError: ((message: string) => void) | null;

  private constructor(
    readonly path: string,
    fd: number,
    options: TlogWriterOptions,
  ) {
    this.fd = fd;
    this.onError = options.onError ?? null;
    const intervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      closeSync(fd);
      throw new Error(`flushIntervalMs must be a positive number, got ${intervalMs}`);
    }
    this.timer = setInterval(() => this.flush(), intervalMs);
    // The record must not keep a finished process alive; its owner disposes it.
    this.timer.unref();
  }

  /** A new file; never overwrites one. Throws a clear Error when it cannot be made. */
  static create(file: string, options: TlogWriterOptions = {}): TlogWriter {
    return new TlogWriter(file, openOrExplain(file, 'wx'), options);
  }

  /** Appends to a file, made if missing. */
  static append(file: string, options: TlogWriterOptions = {}): TlogWriter {
    return new TlogWriter(file, openOrExplain(file, 'a'), options);
  }

  /** Bytes in the file so far (buffered records not counted). */
  get bytesWritten(): number {
    return this.written;
  }

  get records(): number {
    return this.recordCount;
  }

  /** Why recording stopped, or null while it goes on. */
  get failed(): string | null {
    return this.failure;
  }

  get isRecording(): boolean {
    return this.fd !== null;
  }

  /** Adds one record; quietly nothing once the record has stopped. */
  write(timeUs: number, frame: Uint8Array): void {
    if (this.fd === null) return;
    if (frame.length === 0 || frame.length > MAX_FRAME_BYTES) {
      log.warn(`not recording a ${frame.length}-byte frame: no MAVLink frame is that long`);
      return;
    }
    const stampUs = Math.round(timeUs);
    if (!Number.isSafeInteger(stampUs) || stampUs < 0) {
      log.warn(`not recording a frame stamped ${timeUs} us: not a time`);
      return;
    }
    const needed = this.buffered + TIMESTAMP_BYTES + frame.length;
    if (needed > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.buffered);
      this.buffer = grown;
    }
    encodeTimestampUs(stampUs, this.buffer, this.buffered);
    this.buffer.set(frame, this.buffered + TIMESTAMP_BYTES);
    this.buffered = needed;
    this.recordCount++;
    if (this.buffered >= MAX_BUFFERED_BYTES) this.flush();
  }

  /** Writes what is buffered now. */
  flush(): void {
    if (this.fd === null || this.buffered === 0) return;
    let offset = 0;
    try {
      while (offset < this.buffered) {
        offset += writeSync(this.fd, this.buffer, offset, this.buffered - offset);
      }
    } catch (error) {
      this.written += offset;
      this.stop(`cannot write ${this.path}: ${describeFsError(error)}`);
      return;
    }
    this.written += offset;
    this.buffered = 0;
    if (this.buffer.length > MAX_BUFFERED_BYTES) this.buffer = Buffer.alloc(INITIAL_BUFFER_BYTES);
  }

  dispose(): void {
    clearInterval(this.timer);
    this.flush();
    this.close();
  }

  private stop(reason: string): void {
    this.failure = reason;
    this.buffered = 0;
    clearInterval(this.timer);
    this.close();
    const message = `Flight record stopped: ${reason}. The station goes on without a record.`;
    if (!this.onError) {
      log.error(message);
      return;
    }
    try {
      this.onError(message);
    } catch (error) {
      log.error(`${message} (and its error listener failed: ${String(error)})`);
    }
  }

  private close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      closeSync(fd);
    } catch (error) {
      log.warn(`closing ${this.path}: ${describeFsError(error)}`);
    }
  }
}

function openOrExplain(file: string, flags: 'wx' | 'a'): number {
  try {
    return openSync(file, flags, 0o644);
  } catch (error) {
    throw new Error(`cannot open ${file} for the flight record: ${describeFsError(error)}`, {
      cause: error,
    });
  }
}

/** The file name for a session that started at `start`, in local time: 2026-12-04_16-40-12. */
export function tlogFileName(start: Date, suffix = ''): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  const date = `${start.getFullYear()}-${pad(start.getMonth() + 1)}-${pad(start.getDate())}`;
  const time = `${pad(start.getHours())}-${pad(start.getMinutes())}-${pad(start.getSeconds())}`;
  return `${date}_${time}${suffix}.tlog`;
}

/**
 * Starts the record of a session in `dir` (made if missing), named by the local start time;
 * two sessions in one second get -2, -3 ... A name is taken only when neither FOO.tlog nor any
 * of its sidecars (video, frame table, journal, hazing log) is there, so a new session never
 * meets an old one's files. Throws a clear Error when it cannot.
 */
export function startTlogRecording(
  dir: string,
  options: TlogWriterOptions & { start?: Date } = {},
): TlogWriter {
  try {
    makeFolder(dir);
  } catch (error) {
    throw new Error(`cannot make the flight record folder ${dir}: ${describeFsError(error)}`);
  }
  const start = options.start ?? new Date();
  for (let attempt = 1; attempt <= 100; attempt++) {
    const file = path.join(dir, tlogFileName(start, attempt === 1 ? '' : `-${attempt}`));
    if (Object.values(sidecarPaths(file)).some(pathTaken)) continue;
    try {
      return TlogWriter.create(file, options);
    } catch (error) {
      const code = error instanceof Error ? (error.cause as NodeJS.ErrnoException)?.code : null;
      if (code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`cannot name the flight record: ${dir} already holds 100 for this second`);
}

/** lstat, not exists: a dangling link still holds the name. */
function pathTaken(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
