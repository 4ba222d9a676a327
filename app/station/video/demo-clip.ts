// The demo clip: no public aerial footage of bears exists, so the demo pans and zooms across
// still photos (bears first and most often) the way a drone camera drifts over a scene. It is
// built with ffmpeg at run time and cached, keyed by the recipe and the photos' contents.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '../../core/log';
import { ffmpegCommand, runFfmpeg, stderrTail } from './ffmpeg';
import { makeFolder } from '../fs-util';

const log = createLogger('demo-clip');

export const DEMO_LABEL = 'demo: still photos';
export const DEMO_WIDTH_PX = 640;
export const DEMO_HEIGHT_PX = 480;
export const DEMO_FPS = 5;
const SECONDS_PER_SHOT = 4;
const FRAMES_PER_SHOT = DEMO_FPS * SECONDS_PER_SHOT;
// Zoompan picks whole source pixels; working at twice the output size keeps the motion smooth.
const WORK_WIDTH_PX = DEMO_WIDTH_PX * 2;
const WORK_HEIGHT_PX = DEMO_HEIGHT_PX * 2;

export const DEMO_PHOTOS = [
  'bear-coco-285.jpg',
  'bear-european-cutout.png',
  'dog.jpg',
  'person.jpg',
  'horses.jpg',
] as const;
type Photo = (typeof DEMO_PHOTOS)[number];

interface Shot {
  photo: Photo;
  /** Zoom at the first and last frame (1 = the whole working frame). */
  zoomFrom: number;
  zoomTo: number;
  /** Centre of view as fractions of the working frame, at the first and last frame. */
  from: [number, number];
  to: [number, number];
  /** Cutouts are placed on grass at this height, as a fraction of the frame. */
  cutoutHeight?: number;
}

const SHOTS: Shot[] = [
  { photo: 'bear-coco-285.jpg', zoomFrom: 1, zoomTo: 1.3, from: [0.5, 0.5], to: [0.45, 0.45] },
  {
    photo: 'bear-european-cutout.png',
    zoomFrom: 1.2,
    zoomTo: 1.2,
    from: [0.4, 0.5],
    to: [0.6, 0.55],
    cutoutHeight: 0.6,
  },
  { photo: 'dog.jpg', zoomFrom: 1, zoomTo: 1.25, from: [0.5, 0.5], to: [0.4, 0.6] },
  { photo: 'bear-coco-285.jpg', zoomFrom: 1.5, zoomTo: 1.5, from: [0.35, 0.55], to: [0.65, 0.5] },
  { photo: 'person.jpg', zoomFrom: 1.3, zoomTo: 1, from: [0.45, 0.55], to: [0.5, 0.5] },
  {
    photo: 'bear-european-cutout.png',
    zoomFrom: 1,
    zoomTo: 1.4,
    from: [0.5, 0.5],
    to: [0.55, 0.55],
    cutoutHeight: 0.3,
  },
  { photo: 'horses.jpg', zoomFrom: 1.2, zoomTo: 1.2, from: [0.4, 0.5], to: [0.6, 0.5] },
];

function lerp(from: number, to: number): string {
  // "on" is zoompan's output frame number within the shot.
  const step = (to - from) / (FRAMES_PER_SHOT - 1);
  return `(${from}+${step.toFixed(6)}*on)`;
}

function shotFilter(shot: Shot, input: number, output: string): string {
  const size = `${WORK_WIDTH_PX}x${WORK_HEIGHT_PX}`;
  let frame: string;
  if (shot.cutoutHeight !== undefined) {
    const heightPx = Math.round(WORK_HEIGHT_PX * shot.cutoutHeight);
    // A plain grass-like field: green with grainy texture, so the cutout is not on black.
    frame =
      `color=c=0x62763a:s=${size}:r=1:d=1,noise=alls=70:allf=u,boxblur=3:1,` +
      `format=rgb24[bg${input}];` +
      `[${input}:v]scale=-1:${heightPx}[fg${input}];` +
      `[bg${input}][fg${input}]overlay=(W-w)/2:(H-h)/2:format=rgb`;
  } else {
    // Cover the 4:3 working frame, cropping what sticks out.
    frame =
      `[${input}:v]scale=${size}:force_original_aspect_ratio=increase,` +
      `crop=${WORK_WIDTH_PX}:${WORK_HEIGHT_PX}`;
  }
  const zoom = lerp(shot.zoomFrom, shot.zoomTo);
  const centerX = lerp(shot.from[0], shot.to[0]);
  const centerY = lerp(shot.from[1], shot.to[1]);
  const x = `max(0,min(iw-iw/zoom,iw*${centerX}-iw/zoom/2))`;
  const y = `max(0,min(ih-ih/zoom,ih*${centerY}-ih/zoom/2))`;
  return (
    `${frame},format=yuv420p,zoompan=z='${zoom}':x='${x}':y='${y}':d=${FRAMES_PER_SHOT}:` +
    `s=${DEMO_WIDTH_PX}x${DEMO_HEIGHT_PX}:fps=${DEMO_FPS},setsar=1[${output}]`
  );
}

function recipe(photosDir: string): { inputs: string[]; filter: string } {
  const inputs = SHOTS.map((shot) => path.join(photosDir, shot.photo));
  const parts = SHOTS.map((shot, index) => shotFilter(shot, index, `s${index}`));
  const labels = SHOTS.map((_, index) => `[s${index}]`).join('');
  const filter = `${parts.join(';')};${labels}concat=n=${SHOTS.length}:v=1:a=0,format=yuvj420p[v]`;
  return { inputs, filter };
}

/** Where the demo photos live. */
export function demoPhotosDir(sharedDir: string): string {
  return path.join(sharedDir, 'fixtures', 'images');
}

/**
 * Returns the demo clip's path, building it first when the cache has none for the current
 * photos and recipe. Throws, naming the folder, when photos are missing.
 */
export async function ensureDemoClip(options: {
  cacheDir: string;
  sharedDir: string;
  ffmpegPath?: string;
  signal?: AbortSignal;
}): Promise<string> {
  const photosDir = demoPhotosDir(options.sharedDir);
  const missing = DEMO_PHOTOS.filter((photo) => !existsSync(path.join(photosDir, photo)));
  if (missing.length > 0) {
    throw new Error(
      `demo photos missing: looked in ${photosDir} for ${missing.join(', ')} ` +
        `(set URSA_SHARED_DIR to the folder holding fixtures/images)`,
    );
  }
  const { inputs, filter } = recipe(photosDir);
  const key = createHash('sha256');
  key.update(filter);
  for (const photo of DEMO_PHOTOS) {
    key.update(photo);
    key.update(await readFile(path.join(photosDir, photo)));
  }
  const clipDir = path.join(options.cacheDir, 'video');
  const name = `demo-${key.digest('hex').slice(0, 16)}.mkv`;
  const clip = path.join(clipDir, name);
  if (existsSync(clip)) return clip;

  makeFolder(clipDir);
  const temp = path.join(clipDir, `${name}.${process.pid}-${randomBytes(4).toString('hex')}.part`);
  log.info(`building the demo clip ${clip} from ${photosDir}`);
  try {
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];
    for (const input of inputs) args.push('-i', input);
    args.push('-filter_complex', filter, '-map', '[v]', '-c:v', 'mjpeg', '-q:v', '4');
    args.push('-f', 'matroska', temp);
    const result = await runFfmpeg(args, options.ffmpegPath ?? ffmpegCommand(), options.signal);
    if (result.code !== 0) {
      throw new Error(
        `building the demo clip from ${photosDir} failed: ` + stderrTail(result.stderr),
      );
    }
    await rename(temp, clip);
  } finally {
    await rm(temp, { force: true });
  }
  // Clips of older recipes or photos are dead weight.
  for (const old of await readdir(clipDir)) {
    if (old.startsWith('demo-') && old.endsWith('.mkv') && old !== name) {
      await rm(path.join(clipDir, old), { force: true });
    }
  }
  return clip;
}
