// Thermal palettes in real Chromium: the headless station plays a grey ramp (luminance equal to
// the column), and the test reads the video canvas's real pixels under each palette.

import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { projectRoot, sharedDir } from '../../app/station/paths';
import {
  chromiumMissing,
  launchChromium,
  openTrackedPage,
  type TrackedPage,
} from '../helpers/browser';
import { CONRAD_MT, makeTileFolder } from '../helpers/tiles';

const CLI = path.join(projectRoot, 'dist', 'station', 'cli.js');
const UI_INDEX = path.join(projectRoot, 'dist', 'ui', 'index.html');
const MODEL = path.join(sharedDir(), 'models', 'yolox-nano-416.onnx');
const WAIT_LIMIT_MS = 60_000;
const RAMP_WIDTH_PX = 256;
const RAMP_HEIGHT_PX = 64;

function skipReason(): string | false {
  const chromium = chromiumMissing();
  if (chromium) return chromium;
  if (!existsSync(CLI) || !existsSync(UI_INDEX)) return `${CLI} or ${UI_INDEX} missing: build`;
  if (!existsSync(MODEL)) return `no detector model at ${MODEL}`;
  return false;
}

type Rgb = [number, number, number];

/** The canvas pixel at a ramp column (luminance about `column`), in frame pixels. */
async function pixelAt(page: Page, column: number): Promise<Rgb> {
  return page.evaluate(
    ([x, y]) => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="video-frame"]');
      const context = canvas?.getContext('2d', { willReadFrequently: true });
      if (!canvas || !context) throw new Error('no video canvas');
      const data = context.getImageData(x, y, 1, 1).data;
      return [data[0], data[1], data[2]] as [number, number, number];
    },
    [column, RAMP_HEIGHT_PX / 2],
  );
}

/** Polls until the pixels at the given columns satisfy `accept`. */
async function eventuallyPixels(
  page: Page,
  columns: number[],
  accept: (pixels: Rgb[]) => boolean,
  what: string,
): Promise<Rgb[]> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  let last: Rgb[] = [];
  while (Date.now() < deadline) {
    last = [];
    for (const column of columns) last.push(await pixelAt(page, column));
    if (accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: pixels stayed ${JSON.stringify(last)}`);
}

const near = (a: number, b: number, tolerance = 10): boolean => Math.abs(a - b) <= tolerance;
const grey = (pixel: Rgb, value: number): boolean => pixel.every((c) => near(c, value));

describe('the video palette switch in Chromium', { skip: skipReason() }, () => {
  let workDir = '';
  let station: ChildProcess | null = null;
  let browser: Awaited<ReturnType<typeof launchChromium>> | null = null;
  let operatorUrl = '';
  const pages: TrackedPage[] = [];

  before(async () => {
    workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-palette-'));
    const rampDir = path.join(workDir, 'ramp');
    mkdirSync(rampDir);
    // A thermal-like grey frame: luminance rises from 0 at the left to 255 at the right.
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `color=c=black:s=${RAMP_WIDTH_PX}x${RAMP_HEIGHT_PX},format=gray,geq=lum='X'`,
      '-frames:v',
      '1',
      path.join(rampDir, 'ramp.png'),
    ]);
    const tileDir = path.join(workDir, 'tiles');
    makeTileFolder(tileDir, { center: CONRAD_MT, minZoom: 14, maxZoom: 15, radiusTiles: 1 });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      URSA_CACHE_DIR: path.join(workDir, 'cache'),
      URSA_DATA_DIR: path.join(workDir, 'data'),
    };
    delete env.URSA_TOKEN;
    delete env.URSA_TILES;
    station = spawn(
      process.execPath,
      [
        CLI,
        // No vehicle is needed to watch video, but the station wants a link: one nobody uses.
        '--link',
        'udpin:127.0.0.1:0',
        '--video',
        rampDir,
        '--model',
        MODEL,
        '--serve',
        '127.0.0.1:0',
        '--tiles',
        tileDir,
        '--record',
        'off',
        '--events',
        '-',
      ],
      { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const child = station;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    operatorUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no serve event: ${stderr}`)), 60_000);
      child.once('exit', (code) => reject(new Error(`station exited (${code}): ${stderr}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const event = JSON.parse(line) as { type: string; operatorUrl?: string };
          if (event.type !== 'serve' || !event.operatorUrl) return;
          clearTimeout(timer);
          resolve(event.operatorUrl);
        } catch {
          // Not an event line.
        }
      });
    });
    browser = await launchChromium();
  });

  after(async () => {
    for (const tracked of pages) await tracked.dispose().catch(() => {});
    await browser?.close();
    if (station && station.exitCode === null) {
      const exited = new Promise((resolve) => station?.once('exit', resolve));
      station.kill('SIGTERM');
      const timer = setTimeout(() => station?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test('white-hot, black-hot and ironbow recolour the real canvas pixels, and stick', async () => {
    assert.ok(browser);
    const tracked = await openTrackedPage(browser, operatorUrl);
    pages.push(tracked);
    const { page } = tracked;
    await page.locator('[data-testid="video-frame"][data-frame-id]').waitFor({ timeout: 60_000 });
    const columns = [16, 128, 240];

    // Colour, the default: the picture as sent.
    assert.equal(await page.getByTestId('palette-colour').getAttribute('aria-pressed'), 'true');
    await eventuallyPixels(page, columns, (p) => columns.every((c, i) => grey(p[i], c)), 'colour');

    await page.getByTestId('palette-white-hot').click();
    await eventuallyPixels(page, columns, (p) => columns.every((c, i) => grey(p[i], c)), 'white');

    await page.getByTestId('palette-black-hot').click();
    const black = await eventuallyPixels(
      page,
      columns,
      (p) => columns.every((c, i) => grey(p[i], 255 - c)),
      'black-hot inverts',
    );
    assert.ok(black[0][0] > black[2][0], 'cold is bright, hot is dark');

    await page.getByTestId('palette-ironbow').click();
    const [cold, warm, hot] = await eventuallyPixels(
      page,
      columns,
      ([c, w, h]) => c[0] + c[1] + c[2] < 150 && w[0] > 150 && w[0] > w[1] + 60 && h[1] > 180,
      'ironbow',
    );
    // Cold is dark blue-purple (more blue than green), warm is red, hot is yellow-white.
    assert.ok(cold[2] >= cold[1], `cold ${cold}`);
    assert.ok(warm[0] > warm[2], `warm ${warm}`);
    assert.ok(hot[0] > 240, `hot ${hot}`);
    assert.equal(await page.getByTestId('palette-ironbow').getAttribute('aria-pressed'), 'true');
    assert.equal(await page.getByTestId('video-frame').getAttribute('data-palette'), 'ironbow');

    // Gloves: every palette button is a big target.
    for (const id of ['colour', 'white-hot', 'black-hot', 'ironbow']) {
      const box = await page.getByTestId(`palette-${id}`).boundingBox();
      assert.ok(box && box.height >= 44 && box.width >= 44, `${id} button ${JSON.stringify(box)}`);
    }

    // The choice is remembered across a reload.
    await page.reload({ waitUntil: 'load' });
    await page.locator('[data-testid="video-frame"][data-frame-id]').waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('video-frame').getAttribute('data-palette'), 'ironbow');
    await eventuallyPixels(page, [240], ([h]) => h[1] > 180 && h[0] > 240, 'ironbow after reload');

    // The title line shows rate, resolution, and that a file's delay is not measurable.
    const meta = await page.getByTestId('video-fps').innerText();
    assert.match(meta, new RegExp(`${RAMP_WIDTH_PX}×${RAMP_HEIGHT_PX}`));
    assert.match(meta, /delay not measurable/);
    assert.deepEqual(tracked.blocked, []);
    assert.deepEqual(tracked.errors, []);
  });
});
