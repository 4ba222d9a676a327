// Finding and running ffmpeg, and decoding one still image to rgb24 with it.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** ffmpeg to run: URSA_FFMPEG, else "ffmpeg" from PATH. */
export function ffmpegCommand(): string {
  return process.env.URSA_FFMPEG ?? 'ffmpeg';
}

export interface RgbImage {
  width: number;
  height: number;
  /** rgb24, row-major, 3 bytes a pixel. */
  rgb: Uint8Array;
}

export interface FfmpegResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Explains a spawn failure in words an operator can act on. */
export function describeSpawnError(ffmpegPath: string, error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOENT') {
    return `ffmpeg not found (tried "${ffmpegPath}"): install ffmpeg or set URSA_FFMPEG`;
  }
  return `cannot start ffmpeg ("${ffmpegPath}"): ${error.message}`;
}

/** The last lines ffmpeg wrote to stderr, which is where it says what went wrong. */
export function stderrTail(stderr: string, lines = 3): string {
  const tail = stderr.trim().split('\n').slice(-lines).join(' | ');
  return tail.length > 0 ? tail : 'no message from ffmpeg';
}

/**
 * Runs ffmpeg to completion, collecting stdout; rejects when it cannot start or when `signal`
 * aborts it (the process is killed then).
 */
export function runFfmpeg(
  args: string[],
  ffmpegPath = ffmpegCommand(),
  signal?: AbortSignal,
): Promise<FfmpegResult> {
  return new Promise((resolve, reject) => {
    // SIGKILL: ffmpeg blocked reading a silent UDP stream does not act on SIGTERM.
    const child = spawn(ffmpegPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
      killSignal: 'SIGKILL',
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      // Keep only the end: ffmpeg can be chatty and only the last lines explain a failure.
      stderr = (stderr + chunk).slice(-8000);
    });
    child.on('error', (error) => {
      if (signal?.aborted) reject(new Error('ffmpeg stopped: the work was cancelled'));
      else reject(new Error(describeSpawnError(ffmpegPath, error)));
    });
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr }));
  });
}

/** Parses binary PPM (P6, maxval 255) as ffmpeg writes it. */
export function parsePpm(data: Buffer, what: string): RgbImage {
  // Header: "P6" whitespace width whitespace height whitespace maxval, one whitespace byte.
  const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(data.subarray(0, 64).toString('latin1'));
  if (!header) throw new Error(`${what}: ffmpeg did not produce a PPM image`);
  const width = Number(header[1]);
  const height = Number(header[2]);
  if (Number(header[3]) !== 255) throw new Error(`${what}: PPM maxval ${header[3]} is not 255`);
  const start = header[0].length;
  const bytes = width * height * 3;
  if (data.length < start + bytes) {
    throw new Error(`${what}: PPM image is short (${data.length - start} of ${bytes} bytes)`);
  }
  return { width, height, rgb: new Uint8Array(data.subarray(start, start + bytes)) };
}

/**
 * Decodes the first frame of an image (or video) file to rgb24 (any alpha is dropped).
 * maxWidthPx, when given, scales larger images down, keeping the aspect ratio.
 */
export async function decodeImageRgb(
  file: string,
  options: { ffmpegPath?: string; maxWidthPx?: number } = {},
): Promise<RgbImage> {
  if (!existsSync(file)) throw new Error(`image file ${file} does not exist`);
  const filters = ['format=rgb24'];
  if (options.maxWidthPx !== undefined) {
    filters.unshift(`scale='min(${options.maxWidthPx},iw)':-2`);
  }
  const result = await runFfmpeg(
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-i',
      file,
      '-frames:v',
      '1',
      '-vf',
      filters.join(','),
      '-f',
      'image2pipe',
      '-c:v',
      'ppm',
      'pipe:1',
    ],
    options.ffmpegPath,
  );
  if (result.code !== 0 || result.stdout.length === 0) {
    throw new Error(`cannot decode image ${file}: ${stderrTail(result.stderr)}`);
  }
  return parsePpm(result.stdout, `decoding ${file}`);
}
