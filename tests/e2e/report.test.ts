// The incident report as a person sees it: report.html opened from disk in real Chromium, with
// nothing fetched, the map drawn (path, tracks, tiles), the key frame decoded with its box over
// the bear, a screenshot that is not blank, and an A4 print. The screenshot and the PDF are
// kept in the temp folder (ursa-report-e2e/) for a human to look at.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';

import { writeIncidentReport } from '../../app/station/report/report';
import { openTileStore, type TileStore } from '../../app/station/tiles/tile-store';
import { chromiumMissing, launchChromium } from '../helpers/browser';
import { decodePng } from '../helpers/png';
import { makeTileFolder } from '../helpers/tiles';
import { HOME, keyFrameJpeg, makeReportInput } from '../unit/report-fixture';

/** Kept after the run, overwritten by the next one. */
export const REPORT_ARTIFACTS = path.join(os.tmpdir(), 'ursa-report-e2e');

interface ReportPage {
  page: Page;
  context: BrowserContext;
  requests: string[];
  /** Requests that were neither the file itself nor data:, aborted before they left. */
  blocked: string[];
  /** Uncaught page errors and console errors (a CSP violation is one). */
  errors: string[];
}

/**
 * The report from disk, fenced like the helpers' tracked pages but to file: and data: (the
 * helpers' fence admits only 127.0.0.1, which a file on disk is not).
 */
async function openReportPage(browser: Browser, url: string): Promise<ReportPage> {
  const context = await browser.newContext({
    viewport: { width: 1200, height: 900 },
    serviceWorkers: 'block',
  });
  const requests: string[] = [];
  const blocked: string[] = [];
  const errors: string[] = [];
  await context.route(
    (requestUrl) => !['file:', 'data:'].includes(requestUrl.protocol),
    async (route) => {
      blocked.push(route.request().url());
      await route.abort('blockedbyclient');
    },
  );
  const page = await context.newPage();
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  return { page, context, requests, blocked, errors };
}

const skip = chromiumMissing() || (keyFrameJpeg() ? false : 'no key frame image');

describe('incident report in Chromium', { skip }, () => {
  let work = '';
  let store: TileStore | null = null;
  let browser: Browser | null = null;
  let tracked: ReportPage | null = null;
  let frame: { widthPx: number; heightPx: number; box: number[] };

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ursa-report-page-'));
    makeTileFolder(path.join(work, 'tiles'), {
      center: HOME,
      minZoom: 14,
      maxZoom: 16,
      radiusTiles: 3,
    });
    store = openTileStore(path.join(work, 'tiles'));
    const { input } = makeReportInput(work);
    input.tiles = { provider: store, attribution: store.attribution };
    const keyFrame = input.keyFrames[0];
    frame = { ...keyFrame, box: keyFrame.detections[0].box };
    const { dir } = await writeIncidentReport(input, path.join(work, 'report'));
    browser = await launchChromium();
    const url = pathToFileURL(path.join(dir, 'report.html')).href;
    tracked = await openReportPage(browser, url);
  });

  after(async () => {
    await tracked?.context.close();
    await browser?.close();
    store?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  test('the page asks for nothing beyond itself and its data: images, with no CSP error', () => {
    assert.ok(tracked);
    const outside = tracked.requests.filter((url) => !/^(file|data):/.test(url));
    assert.deepEqual(outside, []);
    assert.deepEqual(tracked.blocked, []);
    assert.deepEqual(tracked.errors, []);
  });

  test('the map shows the drone path, every track, zones and tiles at a visible size', async () => {
    assert.ok(tracked);
    const { page } = tracked;
    const sized = async (selector: string): Promise<{ width: number; height: number }> => {
      const box = await page.locator(selector).first().boundingBox();
      assert.ok(box, `${selector} is not drawn`);
      return box;
    };
    const mapBox = await sized('svg.report-map');
    assert.ok(mapBox.width > 900, `map ${mapBox.width} px wide`);
    const pathBox = await sized('svg.report-map g.vehicle-path');
    assert.ok(pathBox.width > 100 && pathBox.height > 100, JSON.stringify(pathBox));
    for (const trackId of [3, 5, 7]) {
      const track = await sized(`svg.report-map g.track[data-track-id="${trackId}"]`);
      assert.ok(track.width > 5 && track.height > 5, `track ${trackId}: ${JSON.stringify(track)}`);
    }
    const bearLine = await sized('svg.report-map g.track[data-track-id="3"] polyline');
    assert.ok(bearLine.width > 50, 'the bear track is a line, not a dot');
    for (const kind of ['protected', 'no-fly', 'fence', 'safe']) {
      const zone = await sized(`svg.report-map g.zone-${kind} polygon`);
      assert.ok(zone.width > 10 && zone.height > 10, kind);
    }
    const tiles = await page.locator('svg.report-map g.tiles image').count();
    assert.ok(tiles >= 4, `${tiles} tiles`);
    await sized('svg.report-map g.scale-bar');
    await sized('svg.report-map g.north-arrow');
  });

  test('the key frame decodes and its box sits over it where the detector put it', async () => {
    assert.ok(tracked);
    const { page } = tracked;
    const image = page.locator('figure.key-frame img.frame-image');
    await image.waitFor();
    const natural = await image.evaluate((element) => {
      const img = element as HTMLImageElement;
      return { complete: img.complete, width: img.naturalWidth, height: img.naturalHeight };
    });
    assert.deepEqual(natural, { complete: true, width: frame.widthPx, height: frame.heightPx });
    const imageBox = await image.boundingBox();
    const box = await page.locator('figure.key-frame .frame-boxes rect.box').boundingBox();
    assert.ok(imageBox && box);
    const scale = imageBox.width / frame.widthPx;
    const [left, top, width, height] = frame.box;
    // The stroke straddles the box's edge; allow it.
    const slack = 4;
    assert.ok(Math.abs(box.x - (imageBox.x + left * scale)) < slack, `x ${box.x}`);
    assert.ok(Math.abs(box.y - (imageBox.y + top * scale)) < slack, `y ${box.y}`);
    assert.ok(Math.abs(box.width - width * scale) < 2 * slack, `width ${box.width}`);
    assert.ok(Math.abs(box.height - height * scale) < 2 * slack, `height ${box.height}`);
    const label = await page.locator('figure.key-frame .frame-boxes text').textContent();
    assert.equal(label, 'bear 94% #3');
  });

  test('a screenshot of the report is not blank, and it prints on A4 pages', async (t) => {
    assert.ok(tracked);
    const { page } = tracked;
    mkdirSync(REPORT_ARTIFACTS, { recursive: true });
    const shotPath = path.join(REPORT_ARTIFACTS, 'report.png');
    const png = await page.screenshot({ path: shotPath, fullPage: true });
    t.diagnostic(`screenshot: ${shotPath}`);
    const shot = decodePng(png);
    assert.ok(shot.height > 2000, `page ${shot.height} px tall`);
    let inked = 0;
    const colours = new Set<number>();
    for (let i = 0; i < shot.pixels.length; i += shot.channels) {
      const [r, g, b] = [shot.pixels[i], shot.pixels[i + 1], shot.pixels[i + 2]];
      if (r < 235 || g < 235 || b < 235) inked++;
      colours.add((r >> 3) * 1024 + (g >> 3) * 32 + (b >> 3));
    }
    const inkedShare = inked / (shot.width * shot.height);
    assert.ok(inkedShare > 0.1, `only ${(inkedShare * 100).toFixed(1)}% of the page is inked`);
    assert.ok(colours.size > 200, `only ${colours.size} colours`);

    const mapShot = decodePng(await page.locator('svg.report-map').screenshot());
    // The generated tiles are green fields: the map must show them, not the plain background.
    let green = 0;
    for (let i = 0; i < mapShot.pixels.length; i += mapShot.channels) {
      const [r, g, b] = [mapShot.pixels[i], mapShot.pixels[i + 1], mapShot.pixels[i + 2]];
      if (g > r + 20 && g > b + 20) green++;
    }
    assert.ok(green / (mapShot.width * mapShot.height) > 0.3, 'the tiles are not under the map');

    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    const pdfPath = path.join(REPORT_ARTIFACTS, 'report.pdf');
    writeFileSync(pdfPath, pdf);
    t.diagnostic(`print: ${pdfPath}`);
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    const pages = pdf.toString('latin1').match(/\/Type \/Page\n/g) ?? [];
    assert.ok(pages.length >= 2, `${pages.length} pages`);
    // A4 is 595 x 842 points; Chromium rounds its own way.
    const mediaBox = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(pdf.toString('latin1'));
    assert.ok(mediaBox, 'no page size in the PDF');
    const [widthPt, heightPt] = [Number(mediaBox[1]), Number(mediaBox[2])];
    assert.ok(
      Math.abs(widthPt - 595) < 2 && Math.abs(heightPt - 842) < 2,
      `${widthPt}x${heightPt}`,
    );
  });
});
