// Detection boxes on every palette, in real Chromium: the headless station runs the real model
// on a real bear photo; the orange box must stay visible on the ironbow palette, whose warm
// colours are orange too, so a dark band is drawn under the coloured stroke.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sharedDir } from '../../app/station/paths';
import { decodePng } from '../helpers/png';
import { YOLOX_MODEL as MODEL } from '../helpers/station';
import { StationUi, stationUiMissing } from '../helpers/station-ui';
import { CONRAD_MT } from '../helpers/tiles';

const BEAR_PHOTO = path.join(sharedDir(), 'fixtures', 'images', 'bear-coco-285.jpg');
const WAIT_LIMIT_MS = 60_000;

const isOrange = ([r, g, b]: number[]): boolean => r > 200 && g > 70 && g < 170 && b < 90;
const isDark = (rgb: number[]): boolean => Math.max(...rgb) < 70;

describe(
  'detection boxes on every palette',
  { skip: stationUiMissing([MODEL, BEAR_PHOTO]) },
  () => {
    let ui: StationUi | null = null;

    before(async () => {
      ui = await StationUi.start({
        prefix: 'ursa-boxes-',
        args: (workDir) => {
          // A folder of one photo, made at run time: shared material is never copied into git.
          const photos = path.join(workDir, 'photos');
          mkdirSync(photos);
          copyFileSync(BEAR_PHOTO, path.join(photos, 'bear.jpg'));
          return [
            ...['--link', 'udpin:127.0.0.1:0', '--video', photos, '--model', MODEL],
            ...['--record', 'off'],
          ];
        },
        tiles: { center: CONRAD_MT, minZoom: 14, maxZoom: 15, radiusTiles: 1 },
      });
    });

    after(() => ui?.dispose());

    test('the bear box keeps a dark edge beside its orange stroke on each palette', async () => {
      assert.ok(ui && existsSync(BEAR_PHOTO));
      const tracked = await ui.open(ui.operatorUrl);
      const { page } = tracked;
      const box = page.locator('[data-testid="detection-box"][data-class="bear"]').first();
      await box.waitFor({ timeout: WAIT_LIMIT_MS });
      for (const palette of ['colour', 'white-hot', 'black-hot', 'ironbow']) {
        await page.getByTestId(`palette-${palette}`).click();
        await page
          .locator(`[data-testid="video-frame"][data-palette="${palette}"]`)
          .waitFor({ timeout: WAIT_LIMIT_MS });
        await box.waitFor({ timeout: WAIT_LIMIT_MS });
        const edge = await box.locator('rect.detection-stroke').boundingBox();
        assert.ok(edge, `no box on ${palette}`);
        // A row of screen pixels across the box's left edge, halfway down.
        const y = Math.round(edge.y + edge.height / 2);
        const x0 = Math.round(edge.x) - 12;
        const shot = decodePng(await page.screenshot({ clip: { x: x0, y, width: 24, height: 1 } }));
        const row: number[][] = [];
        for (let x = 0; x < shot.width; x++) {
          const i = x * shot.channels;
          row.push([shot.pixels[i], shot.pixels[i + 1], shot.pixels[i + 2]]);
        }
        const orange = row.map(isOrange);
        const first = orange.indexOf(true);
        const last = orange.lastIndexOf(true);
        const where = `${palette}: ${JSON.stringify(row)}`;
        assert.ok(first >= 0, `no orange stroke on ${where}`);
        assert.ok(
          row.slice(Math.max(0, first - 3), first).some(isDark),
          `no dark outside, ${where}`,
        );
        assert.ok(row.slice(last + 1, last + 4).some(isDark), `no dark inside, ${where}`);
      }
      assert.deepEqual(tracked.blocked, []);
      assert.deepEqual(tracked.errors, []);
    });
  },
);
