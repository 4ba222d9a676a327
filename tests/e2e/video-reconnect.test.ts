// A live stream that drops, in real Chromium: the headless station watches a real H.264 stream
// over UDP on 127.0.0.1; when the sender stops, the video panel and the status strip say
// "Reconnecting…" (why, on hover) instead of a frozen 0.0 fps, and the last frame is marked
// not live until the stream is back.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  startWallClockTestStream,
  type WallClockTestStream,
} from '../../app/station/video/wall-clock';
import { freeUdpPort } from '../helpers/net';
import { YOLOX_MODEL as MODEL } from '../helpers/station';
import { StationUi, stationUiMissing } from '../helpers/station-ui';
import { CONRAD_MT } from '../helpers/tiles';

const WAIT_LIMIT_MS = 60_000;

describe('a dropped live stream in Chromium', { skip: stationUiMissing([MODEL]) }, () => {
  let ui: StationUi | null = null;
  let sender: WallClockTestStream | null = null;
  let port = 0;

  before(async () => {
    port = await freeUdpPort();
    sender = startWallClockTestStream({ port, fps: 15 });
    ui = await StationUi.start({
      prefix: 'ursa-reconnect-',
      args: () => [
        ...['--link', 'udpin:127.0.0.1:0', '--video', `udp://127.0.0.1:${port}`],
        ...['--model', MODEL, '--record', 'off'],
      ],
      tiles: { center: CONRAD_MT, minZoom: 14, maxZoom: 15, radiusTiles: 1 },
    });
  });

  after(async () => {
    await sender?.dispose();
    await ui?.dispose();
  });

  test('says Reconnecting… with the reason, greys the last frame, and recovers', async () => {
    assert.ok(ui && sender);
    const tracked = await ui.open(ui.operatorUrl);
    const { page } = tracked;
    const meta = page.getByTestId('video-fps');
    const statusVideo = page.getByTestId('status-video');
    await page.locator('[data-testid="video-frame"][data-frame-id]').waitFor({ timeout: 60_000 });
    await meta.filter({ hasText: /fps/ }).waitFor({ timeout: WAIT_LIMIT_MS });
    assert.equal(await page.getByTestId('video-panel').getAttribute('data-stale'), null);

    await sender.dispose();
    sender = null;
    await meta.filter({ hasText: 'Reconnecting…' }).waitFor({ timeout: WAIT_LIMIT_MS });
    assert.doesNotMatch(await meta.innerText(), /fps/);
    assert.match((await meta.getAttribute('title')) ?? '', /no frame from live stream udp:/);
    assert.equal(await page.getByTestId('video-panel').getAttribute('data-stale'), 'true');
    assert.match(await page.getByTestId('video-stale').innerText(), /stream dropped/);
    assert.equal(await statusVideo.locator('.status-value').innerText(), 'Reconnecting…');
    assert.match((await statusVideo.getAttribute('title')) ?? '', /no frame from live stream/);

    sender = startWallClockTestStream({ port, fps: 15 });
    await meta.filter({ hasText: /fps/ }).waitFor({ timeout: WAIT_LIMIT_MS });
    await page
      .locator('[data-testid="video-panel"]:not([data-stale])')
      .waitFor({ timeout: WAIT_LIMIT_MS });
    assert.equal(await page.getByTestId('video-stale').count(), 0);
    assert.match(await statusVideo.locator('.status-value').innerText(), /fps/);
    assert.deepEqual(tracked.blocked, []);
    assert.deepEqual(tracked.errors, []);
  });
});
