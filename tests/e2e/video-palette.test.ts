// Thermal palettes in real Chromium: the headless station plays a grey ramp (luminance equal to
// the column), and the test reads the video canvas's real pixels under each palette.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { YOLOX_MODEL as MODEL } from '../helpers/station';
import { StationUi, stationUiMissing } from '../helpers/station-ui';
import { CONRAD_MT } from '../helpers/tiles';

const WAIT_LIMIT_MS = 60_000;
const RAMP_WIDTH_PX = 256;
const RAMP_HEIGHT_PX = 64;

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

/** A thermal-like grey frame in its own folder: luminance 0 at the left to 255 at the right. */
function writeRamp(workDir: string): string {
  const rampDir = path.join(workDir, 'ramp');
  mkdirSync(rampDir);
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
  return rampDir;
}

describe('the video palette switch in Chromium', { skip: stationUiMissing([MODEL]) }, () => {
  let ui: StationUi | null = null;

  before(async () => {
    ui = await StationUi.start({
      prefix: 'ursa-palette-',
      args: (workDir) => [
        // No vehicle is needed to watch video, but the station wants a link: one nobody uses.
        ...['--link', 'udpin:127.0.0.1:0', '--video', writeRamp(workDir), '--model', MODEL],
        ...['--record', 'off'],
      ],
      tiles: { center: CONRAD_MT, minZoom: 14, maxZoom: 15, radiusTiles: 1 },
    });
  });

  after(() => ui?.dispose());

  test('white-hot, black-hot and ironbow recolour the real canvas pixels, and stick', async () => {
    assert.ok(ui);
    const tracked = await ui.open(ui.operatorUrl);
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

  test('the title row and palette buttons fit inside the panel from 1024 px wide up', async () => {
    assert.ok(ui);
    const tracked = await ui.open(ui.operatorUrl);
    const { page } = tracked;
    for (const viewport of [
      { width: 1024, height: 640 },
      { width: 1280, height: 800 },
      { width: 1920, height: 1080 },
    ]) {
      await page.setViewportSize(viewport);
      await page.locator('[data-testid="video-frame"][data-frame-id]').waitFor({ timeout: 60_000 });
      await page.getByTestId('video-fps').filter({ hasText: 'fps' }).waitFor({ timeout: 60_000 });
      const at = `at ${viewport.width}x${viewport.height}`;
      const panel = await page.getByTestId('video-panel').boundingBox();
      assert.ok(panel, `no video panel ${at}`);
      const inside = (box: { x: number; y: number; width: number; height: number }): boolean =>
        box.x >= panel.x - 0.5 &&
        box.y >= panel.y - 0.5 &&
        box.x + box.width <= panel.x + panel.width + 0.5 &&
        box.y + box.height <= panel.y + panel.height + 0.5;
      const ids = ['video-toggle', 'video-fps', 'video-label'];
      for (const id of ['colour', 'white-hot', 'black-hot', 'ironbow']) ids.push(`palette-${id}`);
      for (const id of ids) {
        const box = await page.getByTestId(id).boundingBox();
        assert.ok(box && inside(box), `${id} ${JSON.stringify(box)} outside ${at}`);
        if (id.startsWith('palette-') || id === 'video-toggle') {
          assert.ok(box.height >= 44 && box.width >= 44, `${id} too small ${at}`);
        }
      }
      // The rate line spans the panel (at most one wrap between its parts), not a narrow column.
      const meta = await page.getByTestId('video-fps').evaluate((element) => {
        const range = document.createRange();
        range.selectNodeContents(element);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        return { lines: tops.size, widthPx: element.getBoundingClientRect().width };
      });
      assert.ok(meta.lines <= 2, `the rate line wraps to ${meta.lines} lines ${at}`);
      assert.ok(meta.widthPx > 0.8 * panel.width, `the rate line is ${meta.widthPx} px wide ${at}`);
      // Nothing in the panel is cut off by the panel's own width.
      const overflowPx = await page
        .getByTestId('video-panel')
        .evaluate((element) => element.scrollWidth - element.clientWidth);
      assert.ok(overflowPx <= 0, `the panel's content overflows by ${overflowPx} px ${at}`);
    }
    assert.deepEqual(tracked.errors, []);
  });
});
