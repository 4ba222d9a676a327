// The replay screen in real Chromium against the real station server on 127.0.0.1, in front of
// a scripted replay station (tests/helpers/replay-station.ts): a 56-minute gap drawn as a gap,
// markers that move the playhead, a typed time, a dragged playhead, play, speed, frame steps,
// the report span and its export, and no control anywhere that could fly a vehicle.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { offsetNorthEast } from '../../app/core/geodesy';
import type { KnownPerson } from '../../app/core/protocol';
import type { ReplayControl, ReplayMarker, ReplayView } from '../../app/core/replay';
import type { LatLon, MapTarget } from '../../app/core/types';
import type { ProtectedZone, ZoneKind } from '../../app/core/zones';
import { projectRoot, sharedDir } from '../../app/station/paths';
import { startServer, type StationServer } from '../../app/station/server';
import { openTileStore, type TileStore } from '../../app/station/tiles/tile-store';
import { formatClock, formatClockTenths, NOTICE_SHOW_MS } from '../../app/ui/components/ReplayBar';
import { chromiumMissing, launchChromium, openTrackedPage } from '../helpers/browser';
import { FRAME_MS, ReplayScriptedStation } from '../helpers/replay-station';
import { StationUi, stationUiMissing } from '../helpers/station-ui';
import { CONRAD_MT, makeTileFolder } from '../helpers/tiles';

const UI_DIR = path.join(projectRoot, 'dist', 'ui');
const ARTIFACTS = path.join(projectRoot, 'test-artifacts', 'replay');
const TOKEN = 'test-operator-token-replay-0123456789';
const HOME = { ...CONRAD_MT, altitudeMslM: 1060 };
const VIEWPORT = { width: 1366, height: 850 };
/** ArduCopter 4.1 in AUTO, with a 56-minute gap and two sessions written into the file. */
/** A real photo, shown as the recorded frame (there is no public footage of bears). */
const BEAR_PHOTO = path.join(sharedDir(), 'fixtures', 'images', 'bear-coco-285.jpg');
const GAP_TLOG = path.join(sharedDir(), 'fixtures', 'tlog', 'olivieri_20211208-151717.tlog');
const skip =
  chromiumMissing() ||
  (existsSync(path.join(UI_DIR, 'index.html'))
    ? false
    : `${UI_DIR} is missing: run "node scripts/build.mjs" first`);

/** Polls until check returns a value other than undefined. */
async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const playheadAxisMs = async (page: Page): Promise<number> =>
  Number(await page.getByTestId('replay-playhead').getAttribute('data-axis-ms'));

async function waitForPlayhead(page: Page, axisMs: number): Promise<void> {
  await page.waitForFunction(
    (expected) =>
      document.querySelector('[data-testid="replay-playhead"]')?.getAttribute('data-axis-ms') ===
      String(expected),
    Math.round(axisMs),
    { timeout: 10_000 },
  );
}

/** Keys typed after this go to the page, not to the time field that last had focus. */
async function blurFields(page: Page): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

/** Seconds since midnight of an HH:MM:SS clock. */
function clockS(text: string): number {
  const [hours, minutes, seconds] = text.trim().split(':').map(Number);
  return hours * 3600 + minutes * 60 + seconds;
}

/** The replay-status the page holds, read from what it draws. */
async function trackAxisEndMs(page: Page): Promise<number> {
  return Number(await page.getByTestId('replay-track').getAttribute('data-axis-end-ms'));
}

async function altitudeM(page: Page): Promise<number> {
  return Number(await page.getByTestId('status-altitude').getAttribute('data-value'));
}

describe('the replay screen in Chromium', { skip }, () => {
  let station: ReplayScriptedStation;
  let server: StationServer;
  let tiles: TileStore;
  let tileDir: string;
  let browser: Browser;

  const controls = <A extends ReplayControl['action']>(action: A) =>
    station.controls.filter((c): c is Extract<ReplayControl, { action: A }> => c.action === action);

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    tileDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-tiles-'));
    makeTileFolder(tileDir, { center: CONRAD_MT, minZoom: 15, maxZoom: 17, radiusTiles: 3 });
    tiles = openTileStore(tileDir);
    station = new ReplayScriptedStation(HOME);
    if (existsSync(BEAR_PHOTO)) {
      station.frameJpeg = { data: readFileSync(BEAR_PHOTO), widthPx: 586, heightPx: 640 };
    }
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      api: station,
      operatorToken: TOKEN,
      tiles,
      uiDir: UI_DIR,
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    station?.dispose();
    tiles?.dispose();
    if (tileDir) rmSync(tileDir, { recursive: true, force: true });
  });

  test('the timeline, its markers and every way to move the playhead', async () => {
    const tracked = await openTrackedPage(browser, server.operatorUrl, VIEWPORT);
    const { page } = tracked;
    try {
      await page.getByTestId('replay-bar').waitFor({ timeout: 15_000 });
      assert.match(
        await page.getByTestId('replay-banner').innerText(),
        /REPLAY - nothing here commands a vehicle/,
      );

      // Nothing that flies or changes anything is on the screen.
      for (const testId of [
        'abort-button',
        'takeoff-button',
        'zigzag-start',
        'search-start',
        'zone-draw',
        'operator-dialog',
        'map-menu',
      ]) {
        assert.equal(await page.getByTestId(testId).count(), 0, `${testId} is shown in a replay`);
      }
      assert.equal(
        await page.locator('button', { hasText: /speaker|take off|return home|land/i }).count(),
        0,
        'no flying button of any name',
      );

      // The gap is drawn as a gap: hatched, labelled, and as long as its share of the axis.
      const gap = page.locator('[data-testid="replay-break"][data-kind="gap"]');
      assert.equal(await gap.count(), 1);
      const gapBox = await gap.boundingBox();
      const trackBox = await page.getByTestId('replay-track').boundingBox();
      assert.ok(gapBox && trackBox);
      const trackInnerPx = trackBox.width - 4;
      const share = 60_000 / station.axisEndMs;
      assert.ok(
        Math.abs(gapBox.width / trackInnerPx - share) < 0.005,
        `gap ${gapBox.width} px of ${trackInnerPx} px, expected a share of ${share}`,
      );
      assert.ok(
        Math.abs(gapBox.x - trackBox.x - 2 - (300_000 / station.axisEndMs) * trackInnerPx) < 3,
        'the gap starts where the first run ends',
      );
      const hatch = await gap.evaluate((element) => getComputedStyle(element).backgroundImage);
      assert.match(hatch, /repeating-linear-gradient/);
      assert.match(await page.locator('.replay-break-labels').innerText(), /gap 56 min/);

      // Every marker is on the track and in the list.
      assert.equal(await page.getByTestId('replay-marker').count(), station.markers.length);
      assert.equal(await page.getByTestId('replay-event').count(), station.markers.length);
      for (const kind of ['detection', 'alert', 'mode', 'link-lost', 'abort']) {
        assert.ok(
          (await page.locator(`[data-testid="replay-marker"][data-kind="${kind}"]`).count()) > 0,
          `no ${kind} marker`,
        );
      }

      // Clicking a marker moves the playhead there: the time field and the instruments follow.
      const altitudeBefore = await altitudeM(page);
      const abort = station.markers.find((marker) => marker.kind === 'abort')!;
      await page.locator('[data-testid="replay-marker"][data-kind="abort"]').click();
      await waitForPlayhead(page, abort.axisMs);
      assert.deepEqual(controls('seek').at(-1), { action: 'seek', axisMs: abort.axisMs });
      assert.equal(
        await page.getByTestId('replay-time').inputValue(),
        formatClockTenths(abort.timeMs),
      );
      await eventually('the altitude to follow', async () =>
        (await altitudeM(page)) !== altitudeBefore ? true : undefined,
      );
      assert.equal(
        (await altitudeM(page)).toFixed(1),
        station.vehicleAt(abort.axisMs).position!.altitudeRelM.toFixed(1),
      );
      const current = page.locator('[data-testid="replay-event"][data-current="true"]');
      assert.equal(await current.getAttribute('data-kind'), 'abort');

      // A click in the event list jumps too.
      const detection = station.markers.find((marker) => marker.kind === 'detection')!;
      await page.locator('[data-testid="replay-event"][data-kind="detection"]').click();
      await waitForPlayhead(page, detection.axisMs);
      assert.equal(await current.getAttribute('data-kind'), 'detection');
      // The bear on the map was seen 2 s before the playhead: its label ages from there.
      await page.waitForFunction(
        () =>
          document
            .querySelector('.ursa-target[data-target-id="3"] .ursa-target-label')
            ?.textContent?.endsWith('· 2 s'),
        null,
        { timeout: 10_000 },
      );
      if (station.frameJpeg) {
        // The frame at the playhead, with the box its detections put on it, as live.
        const frameId = String(Math.floor(detection.axisMs / FRAME_MS));
        await page.waitForSelector(`[data-testid="video-frame"][data-frame-id="${frameId}"]`, {
          timeout: 10_000,
        });
        const box = page.locator('[data-testid="detection-box"][data-class="bear"]');
        assert.equal(await box.count(), 1);
        assert.equal(await box.getAttribute('data-track-id'), '3');
      }

      // Typing a time jumps there: a time in the second run, on the log's day, to the tenth.
      const targetAxisMs = 420_200;
      const targetTimeMs = station.timeAt(targetAxisMs).timeMs;
      const timeField = page.getByTestId('replay-time');
      await timeField.fill(formatClockTenths(targetTimeMs));
      await timeField.press('Enter');
      await waitForPlayhead(page, targetAxisMs);
      assert.deepEqual(controls('seek-time').at(-1), { action: 'seek-time', timeMs: targetTimeMs });
      assert.equal(await timeField.inputValue(), formatClockTenths(targetTimeMs));
      // A time that is no time is refused in words, and nothing is sent.
      const sentBefore = station.controls.length;
      await timeField.fill('quarter past');
      await timeField.press('Enter');
      assert.match(
        await page.getByTestId('replay-notice').innerText(),
        /"quarter past" is not a time/,
      );
      assert.equal(station.controls.length, sentBefore);
      await timeField.press('Escape');

      // Dragging the playhead seeks as it goes and once where it is let go.
      const seeksBefore = controls('seek').length;
      const y = trackBox.y + trackBox.height / 2;
      const xAt = (share: number) => trackBox.x + 2 + share * trackInnerPx;
      // From a bare stretch of track: a press on a marker's tick jumps to the marker instead.
      await page.mouse.move(xAt(0.05), y);
      await page.mouse.down();
      await page.mouse.move(xAt(0.5), y, { steps: 12 });
      await page.mouse.move(xAt(0.7), y, { steps: 12 });
      await page.mouse.up();
      // The seek sent on release may still be on its way to the station: wait for it a moment.
      const releasedNear = (axisMs: number) =>
        Math.abs(axisMs - 0.7 * station.axisEndMs) < station.axisEndMs / 200;
      const settleBy = Date.now() + 5000;
      while (Date.now() < settleBy) {
        const last = controls('seek').at(-1);
        if (last && releasedNear(last.axisMs)) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const dragSeeks = controls('seek').slice(seeksBefore);
      assert.ok(dragSeeks.length >= 2, `seeks while dragging: ${JSON.stringify(dragSeeks)}`);
      const releaseAxisMs = dragSeeks.at(-1)!.axisMs;
      assert.ok(releasedNear(releaseAxisMs), `released at ${releaseAxisMs}`);
      await waitForPlayhead(page, releaseAxisMs);
      // Hovering shows the time there; in the gap, that it is the gap.
      await page.mouse.move(xAt(330_000 / station.axisEndMs), y);
      assert.match(await page.getByTestId('replay-hover').innerText(), /^gap 56 min · \d\d:\d\d/);

      // Steps: one frame each way, by the keys and by the buttons.
      await page.mouse.move(trackBox.x, trackBox.y - 200);
      await blurFields(page);
      const beforeStepMs = await playheadAxisMs(page);
      await page.keyboard.press('.');
      await waitForPlayhead(page, beforeStepMs + FRAME_MS);
      // The step shows in the time field's tenths.
      assert.equal(
        await timeField.inputValue(),
        formatClockTenths(station.timeAt(beforeStepMs + FRAME_MS).timeMs),
      );
      await page.getByTestId('replay-step-back').click();
      await waitForPlayhead(page, beforeStepMs);
      await page.keyboard.press(',');
      await waitForPlayhead(page, beforeStepMs - FRAME_MS);
      assert.deepEqual(
        controls('step').map((c) => c.frames),
        [1, -1, -1],
      );

      // Speed changes are sent.
      await page.getByTestId('replay-speed').selectOption('4');
      await eventually('the speed', () => (station.speed === 4 ? true : undefined));
      assert.deepEqual(controls('speed').at(-1), { action: 'speed', speed: 4 });
      await page.waitForSelector('[data-testid="replay-bar"][data-speed="4"]');

      // Play advances the time; Space pauses.
      const playFromMs = await playheadAxisMs(page);
      const timeBefore = await timeField.inputValue();
      await page.getByTestId('replay-play').click();
      await page.waitForSelector('[data-testid="replay-bar"][data-playing="true"]');
      await eventually('the playhead to advance', async () =>
        (await playheadAxisMs(page)) >= playFromMs + 3_000 ? true : undefined,
      );
      await eventually('the clock to advance', async () =>
        clockS(await timeField.inputValue()) >= clockS(timeBefore) + 1 ? true : undefined,
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'replay-playing.png') });
      // The play button still has the focus: Space pauses once, not once as a key and again
      // as a click on the button.
      await page.keyboard.press(' ');
      await page.waitForSelector('[data-testid="replay-bar"][data-playing="false"]');
      assert.deepEqual(
        station.controls
          .filter((c) => c.action === 'play' || c.action === 'pause')
          .map((c) => c.action),
        ['play', 'pause'],
      );

      // The event at the playhead is in sight in its list, wherever the list was scrolled.
      const listBox = (await page.locator('.replay-event-list').boundingBox())!;
      const currentBox = (await current.boundingBox())!;
      assert.ok(
        currentBox.y >= listBox.y - 1 &&
          currentBox.y + currentBox.height <= listBox.y + listBox.height + 1,
        `the current event ${JSON.stringify(currentBox)} is outside ${JSON.stringify(listBox)}`,
      );

      // The drone's last known position and the bear's are on the map with their times.
      const bearLastKnown = page.getByTestId('map-track-last-known');
      await bearLastKnown.waitFor({ timeout: 10_000 });
      assert.match(
        await bearLastKnown.innerText(),
        /bear #3 last seen \d\d:\d\d:\d\d \(.+ before\)/,
      );

      // A report span, marked on the track, exported; the outcome links to the report.
      await page.locator('[data-testid="replay-event"][data-kind="alert"]').click();
      await waitForPlayhead(page, station.markers.find((m) => m.kind === 'alert')!.axisMs);
      await page.getByTestId('replay-mark-start').click();
      await page.locator('[data-testid="replay-event"][data-kind="hazing-end"]').click();
      await waitForPlayhead(page, station.markers.find((m) => m.kind === 'hazing-end')!.axisMs);
      await page.getByTestId('replay-mark-end').click();
      const span = page.getByTestId('replay-span');
      assert.equal(await span.getAttribute('data-from-axis-ms'), '130000');
      assert.equal(await span.getAttribute('data-to-axis-ms'), '480000');
      await page.screenshot({ path: path.join(ARTIFACTS, 'replay.png') });
      await page.getByTestId('replay-export').click();
      const link = page.getByTestId('report-link');
      await link.waitFor({ timeout: 10_000 });
      assert.equal(await link.getAttribute('href'), '/reports/incident-1/report.html');
      assert.deepEqual(controls('export-report').at(-1), {
        action: 'export-report',
        fromAxisMs: 130_000,
        toAxisMs: 480_000,
      });

      assert.deepEqual(station.otherCommands, [], 'the replay screen sent a vehicle command');
      assert.deepEqual(tracked.blocked, []);
      assert.deepEqual(tracked.errors, []);
    } finally {
      await tracked.dispose();
    }
  });

  test('the event list shows the gap at its place; a click goes to its end', async () => {
    const tracked = await openTrackedPage(browser, server.operatorUrl, VIEWPORT);
    const { page } = tracked;
    try {
      await page.getByTestId('replay-bar').waitFor({ timeout: 15_000 });
      const rows = await page
        .locator('.replay-event-list > li > button')
        .evaluateAll((elements) =>
          elements.map((e) => `${e.getAttribute('data-testid')}:${e.getAttribute('data-kind')}`),
        );
      // Between the link lost before the gap and the link back after it: the clock's jump is
      // explained where it happens.
      const gapIndex = rows.indexOf('replay-event-break:gap');
      assert.ok(gapIndex > 0, `no gap row in ${rows.join(', ')}`);
      assert.deepEqual(rows.slice(gapIndex - 1, gapIndex + 2), [
        'replay-event:link-lost',
        'replay-event-break:gap',
        'replay-event:link-back',
      ]);
      assert.equal(rows.length, station.markers.length + station.breaks.length);
      const gapRow = page.getByTestId('replay-event-break');
      const gap = station.breaks[0];
      assert.equal(
        await gapRow.innerText().then((text) => text.replace(/\s+/g, ' ')),
        `${formatClock(gap.fromMs)} Gap gap 56 min: nothing recorded until ` +
          formatClock(gap.toMs),
      );
      await gapRow.click();
      await waitForPlayhead(page, gap.axisEndMs);
      assert.deepEqual(controls('seek').at(-1), { action: 'seek', axisMs: gap.axisEndMs });
      assert.equal(await page.getByTestId('replay-time').inputValue(), formatClockTenths(gap.toMs));
      assert.equal(await gapRow.getAttribute('data-current'), 'true');
      await page.screenshot({ path: path.join(ARTIFACTS, 'replay-event-gap.png') });
      assert.deepEqual(tracked.errors, []);
    } finally {
      await tracked.dispose();
    }
  });

  test('indexing shows its progress; an error and the warnings are said plainly', async () => {
    const tracked = await openTrackedPage(browser, server.operatorUrl, VIEWPORT);
    const { page } = tracked;
    try {
      await page.getByTestId('replay-bar').waitFor({ timeout: 15_000 });
      station.indexing = { done: false, progressPct: 40, what: 'flight.tlog (12 of 30 MB)' };
      station.announce();
      const indexing = page.getByTestId('replay-indexing');
      await indexing.waitFor({ timeout: 10_000 });
      assert.match(await indexing.innerText(), /Indexing flight\.tlog \(12 of 30 MB\)…\s*40%/);
      assert.equal(await indexing.locator('progress').getAttribute('value'), '40');
      assert.equal(await page.getByTestId('replay-play').isDisabled(), true, 'play while indexing');
      station.error = 'cannot read flight.tlog: permission denied';
      station.announce();
      await page.getByTestId('replay-error').waitFor({ timeout: 10_000 });
      assert.equal(
        await page.getByTestId('replay-error').innerText(),
        'cannot read flight.tlog: permission denied',
      );
      assert.equal(
        await page.getByTestId('replay-warning').innerText(),
        'skipped 312 bytes that were not MAVLink',
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'replay-indexing-error.png') });
    } finally {
      station.indexing = null;
      station.error = null;
      station.announce();
      await tracked.dispose();
    }
  });

  test('a refused time goes: the field follows the playhead again, the message fades', async () => {
    const tracked = await openTrackedPage(browser, server.operatorUrl, VIEWPORT);
    const { page } = tracked;
    try {
      await page.getByTestId('replay-bar').waitFor({ timeout: 15_000 });
      const field = page.getByTestId('replay-time');
      const notice = page.getByTestId('replay-notice');
      const fieldAt = (axisMs: number) => formatClockTenths(station.timeAt(axisMs).timeMs);
      await page.locator('[data-testid="replay-event"][data-kind="alert"]').click();
      await waitForPlayhead(page, 130_000);
      assert.equal(await field.inputValue(), fieldAt(130_000));

      // Outside the log, refused; then a step: the field shows the time stepped to.
      await field.fill('20:00:00');
      await field.press('Enter');
      assert.match(await notice.innerText(), /is outside the log/);
      assert.equal(await field.inputValue(), '20:00:00', 'the refused text stays to be read');
      await page.getByTestId('replay-step-forward').click();
      await waitForPlayhead(page, 130_000 + FRAME_MS);
      assert.equal(await field.inputValue(), fieldAt(130_000 + FRAME_MS));

      // No time at all, refused while the replay plays, the field still focused: the field
      // follows the running playhead at once.
      await page.getByTestId('replay-play').click();
      await page.waitForSelector('[data-testid="replay-bar"][data-playing="true"]');
      await field.fill('2:2:5');
      await field.press('Enter');
      assert.match(await notice.innerText(), /"2:2:5" is not a time/);
      await eventually('the field to follow the playhead', async () =>
        /^\d\d:\d\d:\d\d$/.test(await field.inputValue()) ? true : undefined,
      );
      assert.equal(
        await page.evaluate(() => document.activeElement?.getAttribute('data-testid')),
        'replay-time',
        'the field kept the focus',
      );
      await page.getByTestId('replay-play').click();
      await page.waitForSelector('[data-testid="replay-bar"][data-playing="false"]');

      // Refused and the playhead still: leaving the field gives it back.
      await field.fill('2:2:5');
      await field.press('Enter');
      assert.equal(await field.inputValue(), '2:2:5');
      await blurFields(page);
      assert.equal(await field.inputValue(), fieldAt(await playheadAxisMs(page)));

      // Refused, the playhead still, the field still focused: the message goes after a few
      // seconds, and the refused text with it.
      await field.fill('20:00:00');
      await field.press('Enter');
      await notice.waitFor({ timeout: 5_000 });
      await notice.waitFor({ state: 'detached', timeout: NOTICE_SHOW_MS + 10_000 });
      assert.equal(await field.inputValue(), fieldAt(await playheadAxisMs(page)));
      assert.deepEqual(tracked.errors, []);
    } finally {
      await tracked.dispose();
    }
  });

  test('a click among crowded ticks goes to the most important marker there', async () => {
    const markers = station.markers.splice(0, station.markers.length);
    const at = (kind: ReplayMarker['kind'], axisMs: number, label: string): ReplayMarker => ({
      kind,
      axisMs,
      timeMs: station.timeAt(axisMs).timeMs,
      label,
    });
    // As the trial user met them: a hazing start 0.8 s before a detection, ABORT by a mode.
    station.markers.push(
      at('hazing-start', 160_000, 'Push bear #3 by Jane Doe'),
      at('detection', 160_800, 'sheep #13 first seen'),
      at('detection', 200_000, 'sheep #14 first seen'),
      at('abort', 470_000, 'ABORT'),
      at('mode', 470_400, 'Mode GUIDED -> BRAKE'),
    );
    station.announce();
    const tracked = await openTrackedPage(browser, server.operatorUrl, VIEWPORT);
    const { page } = tracked;
    try {
      await page.getByTestId('replay-bar').waitFor({ timeout: 15_000 });
      const tick = (kind: string, axisMs: number) =>
        page.locator(
          `[data-testid="replay-marker"][data-kind="${kind}"][data-axis-ms="${axisMs}"]`,
        );
      /** The kind of the tick drawn on top at the middle of a tick. */
      const onTop = async (kind: string, axisMs: number): Promise<string | null> => {
        const box = (await tick(kind, axisMs).boundingBox())!;
        return page.evaluate(
          ([x, y]) => document.elementFromPoint(x, y)?.getAttribute('data-kind') ?? null,
          [box.x + box.width / 2, box.y + box.height / 2],
        );
      };
      assert.equal(await onTop('detection', 160_800), 'hazing-start');
      assert.equal(await onTop('mode', 470_400), 'abort');

      // A click where the detection's tick is drawn: the hazing start it hid.
      const seeksBefore = controls('seek').length;
      await tick('detection', 160_800).click({ force: true });
      await waitForPlayhead(page, 160_000);
      // A click on the mode change's tick: the ABORT beside it.
      await tick('mode', 470_400).click({ force: true });
      await waitForPlayhead(page, 470_000);
      // A detection with nothing near it is itself.
      await tick('detection', 200_000).click();
      await waitForPlayhead(page, 200_000);
      assert.deepEqual(
        controls('seek')
          .slice(seeksBefore)
          .map((c) => c.axisMs),
        [160_000, 470_000, 200_000],
      );
      assert.deepEqual(tracked.errors, []);
    } finally {
      station.markers.splice(0, station.markers.length, ...markers);
      station.announce();
      await tracked.dispose();
    }
  });

  test('an observer watches the replay but cannot move it', async () => {
    const tracked = await openTrackedPage(browser, server.url, VIEWPORT);
    const { page } = tracked;
    try {
      await page.getByTestId('replay-bar').waitFor({ timeout: 15_000 });
      assert.equal(await page.getByTestId('replay-play').isDisabled(), true);
      assert.equal(await page.getByTestId('replay-time').isDisabled(), true);
      assert.equal(await page.getByTestId('replay-export').isDisabled(), true);
      assert.equal(await page.getByTestId('replay-event').first().isDisabled(), true);
      const sentBefore = station.controls.length;
      await page.getByTestId('replay-track').click();
      await page.keyboard.press(' ');
      assert.equal(station.controls.length, sentBefore, 'an observer moved the replay');
      assert.deepEqual(tracked.errors, []);
    } finally {
      await tracked.dispose();
    }
  });
});

/** Markup that, pasted into HTML unescaped, makes elements with ids starting with "pwn". */
const markup = (id: string): string =>
  `"><b id="pwn-${id}">REPLAY: vehicle ARMED</b><img src="x" id="pwn-${id}-img"><x a="`;

/**
 * A record whose zone, person and tracks carry markup in every string field (ids and kinds
 * included, of the wrong type as a hostile record would hold them); or, once broken, a zone
 * whose corners are no list, which no screen can draw.
 */
class HostileReplayStation extends ReplayScriptedStation {
  broken = false;

  override view(): ReplayView {
    const view = super.view();
    const at = (northM: number, eastM: number): LatLon => offsetNorthEast(this.home, northM, eastM);
    const zone: ProtectedZone = {
      id: markup('zone-id') as unknown as number,
      name: markup('zone-name'),
      kind: markup('zone-kind') as unknown as ZoneKind,
      alertDistanceM: 20,
      polygon: this.broken ? ('nope' as unknown as LatLon[]) : [at(30, -30), at(30, 30), at(70, 0)],
    };
    const person: KnownPerson = {
      id: markup('person-id'),
      source: markup('person-source') as unknown as KnownPerson['source'],
      position: at(-20, 15),
      lastSeenMs: view.timeMs,
    };
    const target: MapTarget = {
      id: 8,
      className: markup('target-class'),
      position: at(-40, -30),
      score: 0.9,
      firstSeenMs: view.timeMs - 5_000,
      lastSeenMs: view.timeMs,
      hits: 4,
    };
    return {
      ...view,
      zones: [zone],
      people: [person],
      targets: [target],
      tracksLastKnown: [
        {
          trackId: 9,
          className: markup('track-class'),
          position: at(40, -40),
          timeMs: view.timeMs - 60_000,
        },
      ],
    };
  }
}

describe('the replay screen with a hostile or broken record', { skip }, () => {
  let station: HostileReplayStation;
  let server: StationServer;
  let tiles: TileStore;
  let tileDir: string;
  let browser: Browser;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    tileDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-hostile-tiles-'));
    makeTileFolder(tileDir, { center: CONRAD_MT, minZoom: 15, maxZoom: 17, radiusTiles: 2 });
    tiles = openTileStore(tileDir);
    station = new HostileReplayStation(HOME);
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      api: station,
      operatorToken: TOKEN,
      tiles,
      uiDir: UI_DIR,
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    station?.dispose();
    tiles?.dispose();
    if (tileDir) rmSync(tileDir, { recursive: true, force: true });
  });

  test('markup in a zone, a person and tracks is text on the map, never elements', async () => {
    station.broken = false;
    const tracked = await openTrackedPage(browser, server.operatorUrl, VIEWPORT);
    const { page } = tracked;
    try {
      await page.getByTestId('replay-bar').waitFor({ timeout: 15_000 });
      const zone = page.getByTestId('map-zone');
      const person = page.getByTestId('map-person');
      const lastKnown = page.getByTestId('map-track-last-known');
      await zone.waitFor({ timeout: 10_000 });
      await person.waitFor({ timeout: 10_000 });
      await lastKnown.waitFor({ timeout: 10_000 });
      await page.locator('.ursa-target[data-target-id="8"]').waitFor({ timeout: 10_000 });
      const injected = await page.evaluate(() => ({
        ids: [...document.querySelectorAll('[id^="pwn"]')].map((element) => element.id),
        images: document.querySelectorAll('img[src="x"]').length,
        xs: document.querySelectorAll('x').length,
      }));
      assert.deepEqual(injected, { ids: [], images: 0, xs: 0 });
      // Every value is there whole, as text.
      assert.equal(await zone.getAttribute('data-zone-id'), markup('zone-id'));
      assert.equal(await zone.getAttribute('data-kind'), markup('zone-kind'));
      assert.equal(await zone.textContent(), markup('zone-name'));
      assert.equal(await person.getAttribute('data-person-id'), markup('person-id'));
      assert.equal(await person.getAttribute('data-source'), markup('person-source'));
      assert.equal(
        Number(await person.getAttribute('data-lat')).toFixed(7),
        offsetNorthEast(HOME, -20, 15).latDeg.toFixed(7),
      );
      assert.ok((await lastKnown.textContent())?.startsWith(`${markup('track-class')} #9 `));
      assert.equal(await lastKnown.getAttribute('data-track-id'), '9');
      assert.ok(
        (await page.locator('.ursa-target[data-target-id="8"]').textContent())?.startsWith(
          `${markup('target-class')} #8`,
        ),
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'replay-markup.png') });
      assert.deepEqual(tracked.errors, []);
    } finally {
      await tracked.dispose();
    }
  });

  test('a screen that fails to draw says what failed and reloads', async () => {
    station.broken = true;
    const consoleErrors: string[] = [];
    const tracked = await openTrackedPage(
      browser,
      server.operatorUrl,
      VIEWPORT,
      async (context) => {
        context.on('console', (message) => {
          if (message.type() === 'error') consoleErrors.push(message.text());
        });
      },
    );
    const { page } = tracked;
    try {
      const failed = page.getByTestId('screen-failed');
      await failed.waitFor({ timeout: 15_000 });
      assert.match(
        await page.getByTestId('screen-failed-text').innerText(),
        /^The screen failed to draw: \S.*\.$/,
      );
      assert.equal(await page.getByTestId('replay-bar').count(), 0, 'the broken screen is gone');
      await page.screenshot({ path: path.join(ARTIFACTS, 'replay-screen-failed.png') });
      // The app's logger said it on the console, for whoever looks into the failure.
      await eventually('the logged failure', () =>
        consoleErrors.some((text) => text.startsWith('[ui] the screen failed to draw: '))
          ? true
          : undefined,
      );
      // Once the record can be drawn, Reload brings the screen back.
      station.broken = false;
      await page.getByTestId('screen-failed-reload').click();
      await page.getByTestId('replay-bar').waitFor({ timeout: 15_000 });
      await page.getByTestId('map-zone').waitFor({ timeout: 10_000 });
      assert.equal(await failed.count(), 0);
    } finally {
      station.broken = false;
      await tracked.dispose();
    }
  });
});

describe(
  'the replay screen on a real flight record',
  { skip: stationUiMissing([GAP_TLOG]) },
  () => {
    let ui: StationUi;

    before(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      ui = await StationUi.start({
        prefix: 'ursa-e2e-replay-',
        args: () => ['--replay', GAP_TLOG],
        tiles: { center: CONRAD_MT, minZoom: 15, maxZoom: 16, radiusTiles: 1 },
      });
    });

    after(() => ui?.dispose());

    test(
      'gaps, jumps back, markers, the playhead and a report on the real log',
      {
        timeout: 240_000,
      },
      async () => {
        const ready = await ui.station.waitEvent(
          (event) => event.type === 'replay-ready',
          60_000,
          'the replay index',
        );
        const tracked = await openTrackedPage(ui.browser, ui.operatorUrl, VIEWPORT);
        const { page } = tracked;
        try {
          await page.getByTestId('replay-bar').waitFor({ timeout: 15_000 });
          await page.getByTestId('replay-indexing').waitFor({ state: 'detached', timeout: 60_000 });
          for (const testId of ['abort-button', 'takeoff-button', 'zigzag-start', 'zone-draw']) {
            assert.equal(
              await page.getByTestId(testId).count(),
              0,
              `${testId} is shown in a replay`,
            );
          }

          // The 56-minute gap takes its bounded share of the track, hatched; the jumps back too.
          const axisEndMs = await trackAxisEndMs(page);
          assert.equal(axisEndMs, ready.axisEndMs);
          const trackBox = (await page.getByTestId('replay-track').boundingBox())!;
          const trackInnerPx = trackBox.width - 4;
          const gap = page.locator('[data-testid="replay-break"][data-kind="gap"]');
          assert.equal(await gap.count(), 1);
          const gapAxisMs =
            Number(await gap.getAttribute('data-axis-end-ms')) -
            Number(await gap.getAttribute('data-axis-start-ms'));
          const gapBox = (await gap.boundingBox())!;
          assert.ok(
            Math.abs(gapBox.width / trackInnerPx - gapAxisMs / axisEndMs) < 0.005,
            `gap ${gapBox.width} px of ${trackInnerPx} px for ${gapAxisMs} of ${axisEndMs} ms`,
          );
          assert.match(
            await gap.evaluate((element) => getComputedStyle(element).backgroundImage),
            /repeating-linear-gradient/,
          );
          const labels = await page.locator('.replay-break-labels').innerText();
          assert.match(labels, /gap 56 min/);
          assert.match(labels, /log jumps back 3 min/);
          assert.match(labels, /log jumps back 8 min/);
          assert.equal(await page.getByTestId('replay-marker').count(), ready.markers);

          // A mode marker clear of the others (some are 2 s apart, their ticks on one another):
          // the playhead, the clock and the mode on the status bar follow.
          const modeMarker = page.locator('[data-testid="replay-marker"][data-kind="mode"]').nth(5);
          const markerAxisMs = Number(await modeMarker.getAttribute('data-axis-ms'));
          const title = (await modeMarker.getAttribute('title'))!;
          const toMode = /-> (\S+)$/.exec(title)?.[1];
          assert.ok(toMode, `a mode change in ${title}`);
          await modeMarker.click();
          await waitForPlayhead(page, markerAxisMs);
          await page.waitForFunction(
            (mode) =>
              document.querySelector('[data-testid="status-mode"]')?.getAttribute('data-state') ===
              mode,
            toMode,
            { timeout: 10_000 },
          );
          const timeField = page.getByTestId('replay-time');
          assert.ok(
            Math.abs(clockS(await timeField.inputValue()) - clockS(title.split(' ')[0])) <= 1,
            `the clock reads ${await timeField.inputValue()} at the marker "${title}"`,
          );

          // The link came back after the gap: the marker there puts the clock an hour on.
          const linkBack = page.locator('[data-testid="replay-marker"][data-kind="link-back"]');
          const linkBackAxisMs = Number(await linkBack.getAttribute('data-axis-ms'));
          await linkBack.click();
          await waitForPlayhead(page, linkBackAxisMs);
          const linkBackClock = (await linkBack.getAttribute('title'))!.split(' ')[0];
          await eventually('the clock after the gap', async () =>
            Math.abs(clockS(await timeField.inputValue()) - clockS(linkBackClock)) <= 1
              ? true
              : undefined,
          );

          // A typed time is found in the first run that holds it (the second session's).
          await timeField.fill('18:22:00');
          await timeField.press('Enter');
          await eventually('the typed time', async () =>
            /^18:22:00\.\d$/.test(await timeField.inputValue()) ? true : undefined,
          );
          const typedAxisMs = await playheadAxisMs(page);
          const jumps = await page
            .locator('[data-testid="replay-break"][data-kind="jump-back"]')
            .evaluateAll((elements) =>
              elements.map((e) => Number(e.getAttribute('data-axis-end-ms'))),
            );
          assert.ok(
            typedAxisMs > jumps[0] && typedAxisMs < jumps[1],
            `18:22:00 at axis ${typedAxisMs}, between the jumps back at ${jumps}`,
          );

          // Dragging the playhead to two fifths of the track puts it there.
          const y = trackBox.y + trackBox.height / 2;
          const xAt = (share: number) => trackBox.x + 2 + share * trackInnerPx;
          await page.mouse.move(xAt(0.1), y);
          await page.mouse.down();
          await page.mouse.move(xAt(0.4), y, { steps: 10 });
          await page.mouse.up();
          await eventually('the dragged playhead', async () =>
            Math.abs((await playheadAxisMs(page)) - 0.4 * axisEndMs) < axisEndMs / 100
              ? true
              : undefined,
          );

          // One record forward: a small step, forward.
          await blurFields(page);
          const beforeStepMs = await playheadAxisMs(page);
          await page.keyboard.press('.');
          const afterStepMs = await eventually('a step', async () => {
            const axisMs = await playheadAxisMs(page);
            return axisMs !== beforeStepMs ? axisMs : undefined;
          });
          assert.ok(afterStepMs > beforeStepMs && afterStepMs - beforeStepMs < 5_000);

          // Speed and play: the clock runs.
          await page.getByTestId('replay-speed').selectOption('8');
          await page.waitForSelector('[data-testid="replay-bar"][data-speed="8"]');
          await page.getByTestId('replay-play').click();
          await page.waitForSelector('[data-testid="replay-bar"][data-playing="true"]');
          await eventually('the playhead to run', async () =>
            (await playheadAxisMs(page)) > afterStepMs + 2_000 ? true : undefined,
          );
          await page.getByTestId('replay-play').click();
          await page.waitForSelector('[data-testid="replay-bar"][data-playing="false"]');
          await page.screenshot({ path: path.join(ARTIFACTS, 'replay-real-log.png') });

          // A report of the span between two marks, written by the station and served by it.
          await page.getByTestId('replay-mark-start').click();
          await page.mouse.click(xAt(0.6), y);
          await eventually('the playhead at three fifths', async () =>
            Math.abs((await playheadAxisMs(page)) - 0.6 * axisEndMs) < axisEndMs / 100
              ? true
              : undefined,
          );
          await page.getByTestId('replay-mark-end').click();
          await page.getByTestId('replay-export').click();
          const link = page.getByTestId('report-link');
          await link.waitFor({ timeout: 120_000 });
          const href = (await link.getAttribute('href'))!;
          assert.match(href, /^\/reports\/[^/]+\/report\.html$/);
          const report = await page.request.get(new URL(href, ui.url).href);
          assert.equal(report.status(), 200);
          assert.match(await report.text(), /<html/i);
          assert.deepEqual(tracked.blocked, []);
          assert.deepEqual(tracked.errors, []);
        } finally {
          await tracked.dispose();
        }
      },
    );
  },
);
