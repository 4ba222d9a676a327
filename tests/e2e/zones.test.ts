// Protected zones and alerts end to end: the real headless station (simulated drone, demo
// video, the real detector, offline tiles) in real Chromium. The operator draws a zone around
// the bear on the map, sees it saved, gets a banner when the bear track is near; an observer
// sees the zone and the alert but cannot change zones.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { parseZonesFile, pointInPolygon } from '../../app/core/zones';
import { projectRoot } from '../../app/station/paths';
import { isLocalUrl } from '../helpers/browser';
import { YOLOX_MODEL as MODEL, type StationEvent } from '../helpers/station';
import { StationUi, stationUiMissing, waitForLinkConnected } from '../helpers/station-ui';
import { CONRAD_MT } from '../helpers/tiles';

const ARTIFACTS = path.join(projectRoot, 'test-artifacts');
// Inference takes about 130 ms a frame on a small machine; take-off takes tens of seconds.
const WAIT_MS = 90_000;
/** Half the side of the zone drawn around the bear, in screen pixels (about 0.4 m each). */
const ZONE_HALF_PX = 70;

type Box = { x: number; y: number; width: number; height: number };
const overlaps = (a: Box, b: Box): boolean =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** The z-index of the Leaflet pane an element is drawn in. */
function paneZ(page: Page, selector: string): Promise<number> {
  return page.evaluate((css) => {
    const pane = document.querySelector(css)?.closest('.leaflet-pane');
    if (!pane) throw new Error(`${css} is in no map pane`);
    return Number(getComputedStyle(pane).zIndex);
  }, selector);
}

describe('protected zones and alerts in Chromium', { skip: stationUiMissing([MODEL]) }, () => {
  let ui: StationUi;

  function waitEvent(match: (e: StationEvent) => boolean, what: string) {
    return ui.station.waitEvent(match, WAIT_MS, what);
  }

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ui = await StationUi.start({
      prefix: 'ursa-e2e-zones-',
      args: () => ['--sim', '--video', 'demo', '--model', MODEL, '--record', 'off'],
      tiles: { center: CONRAD_MT, minZoom: 14, maxZoom: 17, radiusTiles: 3 },
      serveTimeoutMs: WAIT_MS,
    });
  });

  after(() => ui?.dispose());

  async function bearOnMap(page: Page) {
    const bear = page.locator('.ursa-target[data-class="bear"]').first();
    await bear.waitFor({ timeout: WAIT_MS });
    return bear;
  }

  test(
    'the operator draws a zone around the bear and is alerted',
    { timeout: 240_000 },
    async () => {
      const tracked = await ui.open(ui.operatorUrl);
      const { page } = tracked;
      await page.getByTestId('zone-panel').waitFor({ timeout: 30_000 });
      assert.equal(await page.getByTestId('zone-count').innerText(), '0');

      await waitForLinkConnected(page);
      await page.getByTestId('takeoff-button').click();
      const bear = await bearOnMap(page);
      const trackId = Number(await bear.getAttribute('data-target-id'));
      assert.ok(Number.isInteger(trackId), 'the bear marker names its track');

      // Its recent path and the uncertainty of its position are drawn with it.
      await page.waitForFunction(
        (id) => {
          const path = document.querySelector(`.ursa-track-path[data-track-id="${id}"]`);
          const ellipse = document.querySelector(`.ursa-uncertainty[data-track-id="${id}"]`);
          const alongM = Number(ellipse?.getAttribute('data-along-range-m'));
          const crossM = Number(ellipse?.getAttribute('data-cross-range-m'));
          return Number(path?.getAttribute('data-points')) >= 2 && alongM >= crossM && crossM > 0;
        },
        trackId,
        { timeout: 30_000 },
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-track.png') });

      // Draw: tap four corners around the bear, name the zone, save.
      await page.getByTestId('zone-draw').click();
      const hint = page.getByTestId('zone-map-hint');
      await hint.waitFor();
      // The hint covers neither the video panel (its palette buttons) nor the map's controls.
      const hintBox = await hint.boundingBox();
      const videoBox = await page.getByTestId('video-panel').boundingBox();
      const mapBox = await page.locator('.map').boundingBox();
      assert.ok(hintBox && videoBox && mapBox);
      assert.ok(!overlaps(hintBox, videoBox), `hint ${JSON.stringify(hintBox)} covers the video`);
      assert.ok(hintBox.y < mapBox.y + mapBox.height / 4, 'the hint sits near the top of the map');
      const zoomBox = await page.locator('.leaflet-control-zoom').boundingBox();
      assert.ok(zoomBox && !overlaps(hintBox, zoomBox), 'the hint covers the zoom buttons');
      assert.equal(await page.getByTestId('zone-save').isDisabled(), true, 'no corners yet');
      const box = await bear.boundingBox();
      assert.ok(box, 'the bear marker is on screen');
      const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
      const corners: Array<[number, number]> = [
        [x - ZONE_HALF_PX, y - ZONE_HALF_PX],
        [x + ZONE_HALF_PX, y - ZONE_HALF_PX],
        [x + ZONE_HALF_PX, y + ZONE_HALF_PX],
        [x - ZONE_HALF_PX, y + ZONE_HALF_PX],
        [x - 2 * ZONE_HALF_PX, y],
      ];
      for (const [cornerX, cornerY] of corners) await page.mouse.click(cornerX, cornerY);
      await page.waitForFunction(() => document.querySelectorAll('.ursa-zone-corner').length === 5);
      // A corner too many: undo takes it back.
      await page.getByTestId('zone-undo').click();
      assert.equal(await page.getByTestId('zone-draft').getAttribute('data-corners'), '4');
      assert.equal(await page.getByTestId('zone-save').isDisabled(), true, 'no name yet');
      await page.getByTestId('zone-name').fill('Farm yard');
      await page.getByTestId('zone-alert-distance').fill('30');
      await page.getByTestId('zone-save').click();

      // Saved: listed, on the map, in the station's file.
      const item = page.locator('[data-testid="zone-item"][data-zone-name="Farm yard"]');
      await item.waitFor({ timeout: 15_000 });
      assert.match(await item.innerText(), /alert within 30 m · 4 corners/);
      await page.locator('[data-testid="map-zone"]').waitFor();
      assert.equal(await page.getByTestId('zone-draft').count(), 0, 'the draft is closed');
      // The confirmation goes away by itself, as every other toast does.
      const savedToast = page.getByTestId('toast').filter({ hasText: 'Save zone' });
      await savedToast.waitFor({ timeout: 15_000 });
      await savedToast.waitFor({ state: 'detached', timeout: 15_000 });
      // The zone's name sits on its top edge, under the markers: it never hides the bear.
      const label = page.locator('[data-testid="map-zone"]');
      const labelBox = await label.boundingBox();
      const bearBox = await bear.boundingBox();
      const zoneBox = await page.locator('path.ursa-zone').boundingBox();
      assert.ok(labelBox && bearBox && zoneBox);
      assert.ok(!overlaps(labelBox, bearBox), `label ${JSON.stringify(labelBox)} on the bear`);
      assert.ok(
        Math.abs(labelBox.y + labelBox.height - zoneBox.y) < 12,
        `label ${JSON.stringify(labelBox)} is not at the zone's top ${zoneBox.y}`,
      );
      assert.ok(
        (await paneZ(page, '[data-testid="map-zone"]')) <
          (await paneZ(page, '.ursa-target[data-class="bear"]')),
        'the zone label draws under the markers',
      );
      const zonesFile = path.join(ui.workDir, 'data', 'zones.json');
      const [saved] = parseZonesFile(readFileSync(zonesFile, 'utf8'), zonesFile);
      assert.equal(saved.name, 'Farm yard');
      assert.equal(saved.alertDistanceM, 30);
      assert.equal(saved.polygon.length, 4);
      const bearAt = {
        latDeg: Number(await bear.getAttribute('data-lat')),
        lonDeg: Number(await bear.getAttribute('data-lon')),
      };
      assert.ok(pointInPolygon(bearAt, saved.polygon), 'the zone was drawn around the bear');

      // The bear is inside: a banner that stays, an alarm, a line in the event log.
      const banner = page.getByTestId('alert-banner');
      await banner.waitFor({ timeout: WAIT_MS });
      assert.match(await banner.innerText(), /Bear #\d+ (inside|\d+ m from) Farm yard/);
      // The operator has touched the page (drawing), so the browser lets the alarm sound.
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="alert-banner"]')?.getAttribute('data-sound') ===
          'sounding',
        null,
        { timeout: 10_000 },
      );
      await page.locator('[data-testid="map-zone"][data-alerting="true"]').waitFor();
      const raised = await waitEvent(
        (e) => e.type === 'alert' && e.state === 'raised' && e.zone === 'Farm yard',
        'an alert event',
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-zone-alert.png') });
      await page.waitForTimeout(3_000);
      assert.ok(await banner.isVisible(), 'the banner stays until acknowledged');

      // The observer sees the zone and the alert, and cannot change zones.
      const watcher = await ui.open(ui.url);
      const observer = watcher.page;
      await observer.getByTestId('observer-banner').waitFor({ timeout: 30_000 });
      await observer.locator('[data-testid="zone-item"][data-zone-name="Farm yard"]').waitFor();
      await observer.locator('[data-testid="map-zone"]').waitFor();
      for (const testId of ['zone-draw', 'zone-delete', 'zone-save']) {
        assert.equal(await observer.getByTestId(testId).count(), 0, `${testId} is not shown`);
      }
      const observerBanner = observer.getByTestId('alert-banner');
      await observerBanner.waitFor({ timeout: 15_000 });
      const silence = observer.getByTestId('alert-ack');
      assert.equal(await silence.innerText(), 'Silence here');
      await silence.click();
      await observerBanner.waitFor({ state: 'detached' });
      assert.ok(await banner.isVisible(), "an observer's silence is their own");

      // The operator acknowledges for everyone.
      assert.equal(await page.getByTestId('alert-ack').innerText(), 'Acknowledge');
      await page.getByTestId('alert-ack').click();
      await banner.waitFor({ state: 'detached', timeout: 15_000 });
      await waitEvent(
        (e) => e.type === 'alert' && e.state === 'acknowledged' && e.alertId === raised.alertId,
        'the acknowledgement event',
      );
      assert.ok(
        ui.station.events.some(
          (e) => e.type === 'log' && /ALERT: bear #\d+ is/.test(String(e.text)),
        ),
        'the alert is in the station log',
      );

      // Delete takes two taps.
      await page.getByTestId('zone-delete').click();
      assert.equal(await page.getByTestId('zone-delete').innerText(), 'Tap again to delete');
      await page.getByTestId('zone-delete').click();
      await page.getByTestId('zones-empty').waitFor({ timeout: 15_000 });
      await observer.getByTestId('zones-empty').waitFor({ timeout: 15_000 });
      assert.deepEqual(parseZonesFile(readFileSync(zonesFile, 'utf8'), zonesFile), []);

      for (const each of [tracked, watcher]) {
        assert.deepEqual(each.errors, [], 'no page errors or CSP violations');
        assert.deepEqual(each.blocked, [], 'nothing was requested outside 127.0.0.1');
        assert.deepEqual(
          each.requests.filter((requested) => !isLocalUrl(requested)),
          [],
        );
      }
    },
  );
});
