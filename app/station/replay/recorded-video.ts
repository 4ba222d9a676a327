// The video recorded beside a flight record (FOO.ts and its frame table FOO.frames.csv, see
// ../video/recorder.ts), opened for replay: decoded once by ffmpeg into JPEGs kept in one cache
// file with an offset table, so any frame is one read away and seeking costs the same anywhere.
// Frame N of the file is row N of the table; a recording cut short by a kill has fewer frames
// than rows, and replay uses the frames there are.

import { spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

import type { Disposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import { makeFolder } from '../fs-util';
import { describeSpawnError, ffmpegCommand, stderrTail } from '../video/ffmpeg';
import { JpegStreamSplitter } from '../video/jpeg-stream';
import { FRAME_TABLE_HEADER } from '../video/recorder';

const log = createLogger('recorded-video');

/** JPEG quality of the cache (ffmpeg's mjpeg scale, 2 best .. 31 worst). */
const CACHE_JPEG_QUALITY = 4;
const CACHE_PREFIX = 'replay-video-';
/** Names the process that owns a cache folder, so a later start can tell a stale one. */
export const CACHE_OWNER_FILE = 'owner.json';
/** A cache folder without an owner file is left alone this long (it may be being made). */
const UNOWNED_CACHE_STALE_MS = 60 * 60 * 1000;
/** A table past this is refused: a day's recording at 30 frames/s is about 130 MB. */
export const MAX_FRAME_TABLE_BYTES = 256 * 1024 * 1024;

export interface RecordedVideoOptions {
  /** A folder for the frame cache; the cache is made in a new folder inside it. */
  cacheDir: string;
  onProgress?(doneFrames: number, totalFrames: number): void;
  /** Stops the decoding: open rejects and leaves no cache behind. */
  signal?: AbortSignal;
  ffmpegPath?: string;
}

interface FrameRow {
  frameId: number;
  frameTimeMs: number;
}

export class RecordedVideo implements Disposable {
  /** Problems that did not stop the replay, e.g. a video cut short; in words. */
  readonly warnings: string[];
  private fd: number | null;
  /** Frame indexes in order of frame time (the table's order unless the clock stepped). */
  private readonly byTime: number[];
  /** Where each frame is in byTime. */
  private readonly timeRank: number[];

  private constructor(
    readonly videoPath: string,
    private readonly cacheFolder: string,
    fd: number,
    private readonly rows: FrameRow[],
    private readonly offsets: number[],
    private readonly lengths: number[],
    readonly widthPx: number,
    readonly heightPx: number,
    warnings: string[],
  ) {
    this.fd = fd;
    this.warnings = warnings;
    this.byTime = rows.map((_, index) => index);
    const ordered = rows.every((row, i) => i === 0 || rows[i - 1].frameTimeMs <= row.frameTimeMs);
    if (!ordered) this.byTime.sort((a, b) => rows[a].frameTimeMs - rows[b].frameTimeMs || a - b);
    this.timeRank = new Array<number>(rows.length);
    this.byTime.forEach((frame, rank) => {
      this.timeRank[frame] = rank;
    });
  }

  /**
   * Decodes the video into a frame cache inside options.cacheDir (removed on dispose). Throws
   * an Error naming the file when the table or the video is missing or cannot be read.
   */
  static async open(
    videoPath: string,
    frameTablePath: string,
    options: RecordedVideoOptions,
  ): Promise<RecordedVideo> {
    const table = readFrameTable(frameTablePath);
    if (!existsSync(videoPath)) throw new Error(`recorded video ${videoPath} does not exist`);
    if (statSync(videoPath).size === 0) throw new Error(`recorded video ${videoPath} is empty`);
    if (table.rows.length === 0) {
      throw new Error(`frame table ${frameTablePath} lists no frames: nothing was recorded`);
    }
    makeFolder(options.cacheDir);
    removeStaleCaches(options.cacheDir);
    const cacheFolder = mkdtempSync(path.join(options.cacheDir, CACHE_PREFIX));
    const cacheFile = path.join(cacheFolder, 'frames.jpegs');
    let fd: number | null = null;
    try {
      writeFileSync(path.join(cacheFolder, CACHE_OWNER_FILE), JSON.stringify({ pid: process.pid }));
      fd = openSync(cacheFile, 'w+', 0o600);
      const decoded = await decodeToCache(videoPath, fd, table.rows.length, options);
      const warnings = [...table.warnings];
      if (decoded.problem) warnings.push(decoded.problem);
      const frames = Math.min(decoded.offsets.length, table.rows.length);
      if (decoded.offsets.length < table.rows.length) {
        warnings.push(
          `recorded video ${videoPath} has ${decoded.offsets.length} frames where its table ` +
            `lists ${table.rows.length} (the recording was cut short): replay shows the ` +
            `first ${frames}`,
        );
      } else if (decoded.offsets.length > table.rows.length) {
        warnings.push(
          `recorded video ${videoPath} has ${decoded.offsets.length} frames, its table only ` +
            `${table.rows.length}: the frames without a row are left out`,
        );
      }
      for (const warning of warnings) log.warn(warning);
      const video = new RecordedVideo(
        videoPath,
        cacheFolder,
        fd,
        table.rows.slice(0, frames),
        decoded.offsets.slice(0, frames),
        decoded.lengths.slice(0, frames),
        decoded.widthPx,
        decoded.heightPx,
        warnings,
      );
      fd = null;
      return video;
    } finally {
      if (fd !== null) {
        closeSync(fd);
        rmSync(cacheFolder, { recursive: true, force: true });
      }
    }
  }

  get frames(): number {
    return this.rows.length;
  }

  /** The recorded rate: frame steps over the table's time span; 0 with fewer than 2 frames. */
  get framesPerSecond(): number {
    const count = this.byTime.length;
    if (count < 2) return 0;
    const spanMs =
      this.rows[this.byTime[count - 1]].frameTimeMs - this.rows[this.byTime[0]].frameTimeMs;
    return spanMs > 0 ? ((count - 1) * 1000) / spanMs : 0;
  }

  /** The newest frame taken at or before `timeMs`; null before the first. */
  frameAt(timeMs: number): number | null {
    let low = 0;
    let high = this.byTime.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.rows[this.byTime[mid]].frameTimeMs <= timeMs) low = mid + 1;
      else high = mid;
    }
    return low > 0 ? this.byTime[low - 1] : null;
  }

  /** The frame next in time after (+1) or before (-1) a frame; null past either end. */
  neighbourFrame(index: number, direction: 1 | -1): number | null {
    const rank = this.timeRank[this.checkIndex(index)] + direction;
    return rank >= 0 && rank < this.byTime.length ? this.byTime[rank] : null;
  }

  /** The first frame in time. */
  get firstFrame(): number | null {
    return this.byTime.length > 0 ? this.byTime[0] : null;
  }

  frameInfo(index: number): { frameId: number; frameTimeMs: number } {
    const row = this.rows[this.checkIndex(index)];
    return { frameId: row.frameId, frameTimeMs: row.frameTimeMs };
  }

  /** The frame as a JPEG, read from the cache file. */
  jpeg(index: number): Buffer {
    const at = this.checkIndex(index);
    if (this.fd === null) throw new Error(`recorded video ${this.videoPath} is closed`);
    const image = Buffer.alloc(this.lengths[at]);
    let done = 0;
    while (done < image.length) {
      const read = readSync(this.fd, image, done, image.length - done, this.offsets[at] + done);
      if (read === 0) throw new Error(`frame cache of ${this.videoPath} ends early (frame ${at})`);
      done += read;
    }
    return image;
  }

  dispose(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    rmSync(this.cacheFolder, { recursive: true, force: true });
  }

  private checkIndex(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.rows.length) {
      throw new Error(
        `frame ${index} is not in the recorded video ${this.videoPath} ` +
          `(it has ${this.rows.length} frames, 0..${this.rows.length - 1})`,
      );
    }
    return index;
  }
}

/**
 * Removes the frame caches that a replay killed before it could dispose left behind: those
 * whose owner process is gone, and old ones without an owner file. A cache in use is kept.
 */
export function removeStaleCaches(cacheDir: string, nowMs = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(CACHE_PREFIX)) continue;
    const folder = path.join(cacheDir, name);
    try {
      if (!isStaleCache(folder, nowMs)) continue;
      rmSync(folder, { recursive: true, force: true });
      removed.push(folder);
      log.info(`removed the stale frame cache ${folder}`);
    } catch (error) {
      log.warn(`cannot remove the stale frame cache ${folder}: ${(error as Error).message}`);
    }
  }
  return removed;
}

function isStaleCache(folder: string, nowMs: number): boolean {
  const stat = statSync(folder, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) return false;
  let pid: unknown;
  try {
    pid = (
      JSON.parse(readFileSync(path.join(folder, CACHE_OWNER_FILE), 'utf8')) as { pid?: unknown }
    ).pid;
  } catch {
    return nowMs - stat.mtimeMs > UNOWNED_CACHE_STALE_MS;
  }
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) {
    return nowMs - stat.mtimeMs > UNOWNED_CACHE_STALE_MS;
  }
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Reads FOO.frames.csv; a last row cut short by a kill is left out and said. */
function readFrameTable(tablePath: string): { rows: FrameRow[]; warnings: string[] } {
  let text: string;
  try {
    text = readTableText(tablePath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    throw new Error(`frame table ${tablePath} ${why}`);
  }
  const lines = text.split('\n');
  if (lines[0].replace(/\r$/, '') !== FRAME_TABLE_HEADER) {
    throw new Error(
      `frame table ${tablePath} does not start with the header "${FRAME_TABLE_HEADER}"`,
    );
  }
  const rows: FrameRow[] = [];
  const warnings: string[] = [];
  // A file that ends in a newline has an empty last piece; one that does not was cut short.
  const lastIndex = lines.length - 1;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line === '') continue;
    const row = parseRow(line, rows.length);
    if (typeof row === 'string') {
      if (i === lastIndex) {
        warnings.push(`frame table ${tablePath}: its last row was cut short and is left out`);
        break;
      }
      throw new Error(`frame table ${tablePath} line ${i + 1}: ${row}`);
    }
    rows.push(row);
  }
  return { rows, warnings };
}

/**
 * The table as text. Only a bounded regular file is read: a link to a device would never end
 * and a FIFO would block the station.
 */
function readTableText(tablePath: string): string {
  // Non-blocking, so that opening a FIFO with no writer returns at once to be refused.
  const fd = openSync(tablePath, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      throw new Error(`it is ${stats.isDirectory() ? 'a folder' : 'not a regular file'}`);
    }
    if (stats.size > MAX_FRAME_TABLE_BYTES) {
      throw new Error(
        `it is ${Math.round(stats.size / (1024 * 1024))} MB, more than the ` +
          `${MAX_FRAME_TABLE_BYTES / (1024 * 1024)} MB a frame table may be`,
      );
    }
    // The size read at open: what a recorder still running appends later is not read.
    const bytes = Buffer.alloc(stats.size);
    let done = 0;
    while (done < bytes.length) {
      const read = readSync(fd, bytes, done, bytes.length - done, done);
      if (read === 0) break;
      done += read;
    }
    return bytes.toString('utf8', 0, done);
  } finally {
    closeSync(fd);
  }
}

function parseRow(line: string, expectedFrame: number): FrameRow | string {
  const fields = line.split(',');
  if (fields.length !== 5) return `expected 5 fields, found ${fields.length}`;
  const [frame, frameId, frameTimeMs, arrivalMs] = fields.map((field) => Number(field));
  if (frame !== expectedFrame) return `frame ${fields[0]} where ${expectedFrame} was expected`;
  if (!Number.isInteger(frameId)) return `frameId "${fields[1]}" is not a whole number`;
  if (fields[2] === '' || !Number.isFinite(frameTimeMs)) {
    return `frameTimeMs "${fields[2]}" is not a time`;
  }
  if (fields[3] === '' || !Number.isFinite(arrivalMs)) {
    return `arrivalMs "${fields[3]}" is not a time`;
  }
  return { frameId, frameTimeMs };
}

interface Decoded {
  offsets: number[];
  lengths: number[];
  widthPx: number;
  heightPx: number;
  /** Why ffmpeg stopped early, when it did after some frames. */
  problem: string | null;
}

/** Runs ffmpeg once over the video, appending each JPEG it makes to the cache file. */
function decodeToCache(
  videoPath: string,
  fd: number,
  totalFrames: number,
  options: RecordedVideoOptions,
): Promise<Decoded> {
  const ffmpegPath = options.ffmpegPath ?? ffmpegCommand();
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', videoPath],
    // passthrough: one picture out for each in, never a duplicate or a drop.
    ...['-map', '0:v:0', '-fps_mode', 'passthrough'],
    ...['-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', String(CACHE_JPEG_QUALITY), 'pipe:1'],
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
      killSignal: 'SIGKILL',
    });
    const splitter = new JpegStreamSplitter();
    const decoded: Decoded = { offsets: [], lengths: [], widthPx: 0, heightPx: 0, problem: null };
    let written = 0;
    let stderr = '';
    let failure: Error | null = null;
    const fail = (error: Error): void => {
      if (failure) return;
      failure = error;
      child.kill('SIGKILL');
    };
    child.stdout.on('data', (chunk: Buffer) => {
      if (failure) return;
      try {
        for (const image of splitter.push(chunk)) {
          if (decoded.offsets.length === 0) {
            const size = jpegSize(image);
            if (!size) throw new Error('ffmpeg made a JPEG without a frame header');
            decoded.widthPx = size.widthPx;
            decoded.heightPx = size.heightPx;
          }
          let done = 0;
          while (done < image.length) {
            done += writeSync(fd, image, done, image.length - done, written + done);
          }
          decoded.offsets.push(written);
          decoded.lengths.push(image.length);
          written += image.length;
          options.onProgress?.(Math.min(decoded.offsets.length, totalFrames), totalFrames);
        }
      } catch (error) {
        fail(new Error(`cannot cache the frames of ${videoPath}: ${(error as Error).message}`));
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr = (stderr + text).slice(-8000);
    });
    child.on('error', (error) => {
      if (options.signal?.aborted) fail(new Error(`decoding ${videoPath} was cancelled`));
      else fail(new Error(`cannot decode ${videoPath}: ${describeSpawnError(ffmpegPath, error)}`));
    });
    child.on('close', (code, signal) => {
      if (failure) {
        reject(failure);
        return;
      }
      const frames = decoded.offsets.length;
      if (frames === 0) {
        reject(
          new Error(
            `recorded video ${videoPath} holds no frames ffmpeg can decode: ` + stderrTail(stderr),
          ),
        );
        return;
      }
      if (code !== 0) {
        decoded.problem =
          `recorded video ${videoPath}: ffmpeg stopped after ${frames} frames ` +
          `(${signal ?? `exit code ${code}`}): ${stderrTail(stderr)}`;
      }
      resolve(decoded);
    });
  });
}

/** Width and height from a JPEG's start-of-frame segment, or null when it has none. */
function jpegSize(image: Buffer): { widthPx: number; heightPx: number } | null {
  let pos = 2;
  while (pos + 9 < image.length) {
    if (image[pos] !== 0xff) return null;
    const marker = image[pos + 1];
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { heightPx: image.readUInt16BE(pos + 5), widthPx: image.readUInt16BE(pos + 7) };
    }
    pos += 2 + image.readUInt16BE(pos + 2);
  }
  return null;
}
