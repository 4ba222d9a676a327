// The whole product, end to end: the real headless station (simulated ArduCopter, demo video,
// the YOLOX detector, offline tiles) as a separate process, driven through its UI in real
// Chromium the way an operator would: take off, find the bear, say who hazes, push it away,
// abort, then land.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { distanceM } from '../../app/core/geodesy';
import type { ActionStatus, ServerMessage } from '../../app/core/protocol';
import type { LatLon } from '../../app/core/types';
import { projectRoot, sharedDir } from '../../app/station/paths';
import { isLocalUrl } from '../helpers/browser';
import { YOLOX_MODEL as MODEL } from '../helpers/station';
import { StationUi, stationUiMissing, waitForLinkConnected } from '../helpers/station-ui';
import { CONRAD_MT } from '../helpers/tiles';

const DEMO_PHOTO = path.join(sharedDir(), 'fixtures', 'images', 'bear-coco-285.jpg');
const ARTIFACTS = path.join(projectRoot, 'test-artifacts');
// Inference takes about 130 ms a frame on a small machine; flights take tens of seconds.
const FLIGHT_TIMEOUT_MS = 60_000;

async function attribute(page: Page, testId: string, name: string): Promise<string | null> {
  return page.getByTestId(testId).getAttribute(name);
}

async function dronePosition(page: Page): Promise<LatLon> {
  const drone = page.locator('.ursa-drone');
  return {
    latDeg: Number(await drone.getAttribute('data-lat')),
    lonDeg: Number(await drone.getAttribute('data-lon')),
  };
}

/** Polls until check returns a value (not undefined), naming what it waited for. */
async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const skip = stationUiMissing([MODEL, DEMO_PHOTO]);

describe('the headless station in Chromium', { skip }, () => {
  let ui: StationUi;
  let station: StationUi['station'];
  let url: string;
  let operatorUrl: string;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ui = await StationUi.start({
      prefix: 'ursa-e2e-',
      args: () => ['--sim', '--video', 'demo', '--model', MODEL],
      tiles: { center: CONRAD_MT, minZoom: 14, maxZoom: 17, radiusTiles: 3 },
    });
    ({ station, url, operatorUrl } = ui);
  });

  after(() => ui?.dispose());

  test('the station announces where it serves, on 127.0.0.1 only', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(operatorUrl.startsWith(`${url}?token=`));
    assert.ok(new URL(operatorUrl).searchParams.get('token')!.length >= 16);
  });

  test('operator: take off, see a bear, push it away, abort', { timeout: 240_000 }, async () => {
    const tracked = await ui.open(operatorUrl);
    const { page } = tracked;

    // Status bar: link up and a flight mode shown.
    await waitForLinkConnected(page);
    assert.match(await page.getByTestId('status-link').innerText(), /OK/);
    const groundMode = await attribute(page, 'status-mode', 'data-state');
    assert.ok(groundMode, 'a flight mode is shown');
    assert.equal(
      await page.getByTestId('status-mode').locator('.status-value').innerText(),
      groundMode,
    );
    await page.locator('.ursa-drone').waitFor({ timeout: 30_000 });
    const onGround = await dronePosition(page);

    // Arm + Take off, at the default altitude from hello.
    assert.equal(await page.getByTestId('takeoff-altitude').inputValue(), '20');
    await page.getByTestId('takeoff-button').click();
    await page.waitForFunction(
      () =>
        Number(
          document.querySelector('[data-testid="status-altitude"]')?.getAttribute('data-value'),
        ) >= 15,
      null,
      { timeout: FLIGHT_TIMEOUT_MS },
    );
    assert.equal(await attribute(page, 'status-armed', 'data-state'), 'armed');
    assert.ok(onGround.latDeg !== 0);

    // The demo video shows bears; the detector finds them and the station puts them on the map.
    await page.getByTestId('video-frame').waitFor({ timeout: 30_000 });
    assert.match(await page.getByTestId('video-label').innerText(), /demo: still photos/);
    const bear = page.locator('.ursa-target[data-class="bear"]').first();
    await bear.waitFor({ timeout: FLIGHT_TIMEOUT_MS });
    const targetId = Number(await bear.getAttribute('data-target-id'));
    assert.ok(Number.isInteger(targetId));
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-bear.png') });

    // Push away: pick the bear; the first pattern of the session asks who hazes, under what.
    await bear.click();
    await page.getByTestId('push-start').click();
    await page.getByTestId('operator-dialog').waitFor();
    await page.getByTestId('operator-name').fill('Jane Doe');
    await page.getByTestId('operator-permit').fill('MT FWP permit 2026-17');
    await page.getByTestId('operator-save').click();
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-testid="status-hazing-operator"]')
          ?.textContent?.includes('Hazing as Jane Doe, MT FWP permit 2026-17'),
      null,
      { timeout: 10_000 },
    );
    // Then tap the safe direction on the map.
    await page.getByTestId('map-pick-hint').waitFor();
    const bearBox = await bear.boundingBox();
    assert.ok(bearBox, 'the bear marker is on screen');
    await page.mouse.click(bearBox.x + bearBox.width / 2 + 180, bearBox.y + bearBox.height / 2);
    const safeBearingDeg = Number(await attribute(page, 'push-bearing', 'data-value'));
    assert.ok(Math.abs(safeBearingDeg - 90) < 5, `tapped east of the bear: ${safeBearingDeg}`);
    await page.getByTestId('plan-target-preview').waitFor();

    assert.match(
      await page.getByTestId('pattern-plan').innerText(),
      new RegExp(`^Push bear #${targetId} toward E \\(\\d+ deg\\) from 40 m behind at 15 m`),
    );

    // A click is not a hold: nothing may start.
    await page.getByTestId('pattern-confirm').click();
    await page.waitForTimeout(2_500);
    assert.equal(await page.getByTestId('action-status').count(), 0, 'a quick click sends nothing');
    assert.ok(!station.events.some((e) => e.type === 'action'), 'the station saw no push');

    // Hold to confirm.
    const before = await dronePosition(page);
    const confirm = await page.getByTestId('pattern-confirm').boundingBox();
    assert.ok(confirm);
    await page.mouse.move(confirm.x + confirm.width / 2, confirm.y + confirm.height / 2);
    await page.mouse.down();
    const flying = await station.waitEvent(
      (e) => {
        const status = e.action as ActionStatus | null | undefined;
        return e.type === 'action' && status?.phase === 'flying' && status.setpoint !== null;
      },
      20_000,
      'push action flying with a setpoint',
    );
    await page.mouse.up();
    const action = flying.action as ActionStatus;
    assert.equal(action.targetId, targetId);
    assert.equal(action.kind, 'push');
    assert.ok(action.settings.kind === 'push');
    assert.ok(Math.abs(action.settings.safeBearingDeg - safeBearingDeg) < 1e-6);
    assert.equal(action.settings.standoffM, 40);
    assert.equal(action.settings.altitudeAglM, 15);
    const droneTarget = action.setpoint!;
    await page.getByTestId('plan-target-action').waitFor();
    assert.match(await page.getByTestId('action-text').innerText(), /\S/);
    assert.match(
      (await attribute(page, 'action-status', 'data-phase')) ?? '',
      /^(starting|flying|holding)$/,
    );

    // The drone flies in GUIDED toward the setpoints, which follow the bear as it moves.
    const closerM = await eventually(
      'the drone to close on the push setpoints',
      FLIGHT_TIMEOUT_MS,
      async () => {
        const newest = station.events
          .filter((e) => e.type === 'action')
          .map((e) => e.action as ActionStatus | null)
          .at(-1);
        const setpoint = newest?.setpoint ?? droneTarget;
        const mode = await attribute(page, 'status-mode', 'data-state');
        const now = await dronePosition(page);
        const remainingM = distanceM(now, setpoint);
        const moved = distanceM(now, before) > 3;
        const closer = distanceM(before, setpoint) - remainingM;
        if (mode === 'GUIDED' && moved && (closer > 5 || remainingM < 3)) return closer;
        // Said on timeout: what the pattern was doing instead.
        throw new Error(
          `mode ${mode}, phase ${newest?.phase}: ${newest?.text}` +
            `${newest?.violation ? ` (${newest.violation.text})` : ''}; ` +
            `${remainingM.toFixed(1)} m from the newest setpoint, moved ${moved}`,
        );
      },
    );
    assert.ok(closerM > 0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-push.png') });

    // ABORT: the drone holds where it is.
    await page.getByTestId('abort-button').click();
    const holdMode = await eventually('a hold mode after ABORT', 20_000, async () => {
      const text = await page.getByTestId('status-mode').locator('.status-value').innerText();
      return /^(BRAKE|LOITER)$/.test(text) ? text : undefined;
    });
    assert.match(holdMode, /^(BRAKE|LOITER)$/);
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="action-status"]')?.getAttribute('data-phase') ===
        'aborted',
    );
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-abort.png') });

    // The drone holds until the operator chooses: home or land here.
    await page.getByTestId('abort-choice').waitFor({ timeout: 10_000 });
    for (const testId of ['choice-return-home', 'choice-land']) {
      const box = await page.getByTestId(testId).boundingBox();
      assert.ok(box && box.height >= 44 && box.width >= 44, `${testId} is a big target`);
    }

    // A new push from the hold: telemetry shows BRAKE for up to a heartbeat after the switch
    // to GUIDED is acknowledged; the push must not be mistaken for one the pilot ended.
    const abortedAt = station.events.length;
    const bearAgain = page.locator('.ursa-target[data-class="bear"]').first();
    await bearAgain.click();
    await page.getByTestId('push-start').click();
    assert.equal(await page.getByTestId('operator-dialog').count(), 0, 'asked only once');
    const againBox = await bearAgain.boundingBox();
    assert.ok(againBox, 'the bear marker is on screen');
    await page.mouse.click(againBox.x + againBox.width / 2, againBox.y + againBox.height / 2 - 180);
    await page.getByTestId('plan-target-preview').waitFor();
    const confirmAgain = await page.getByTestId('pattern-confirm').boundingBox();
    assert.ok(confirmAgain);
    await page.mouse.move(
      confirmAgain.x + confirmAgain.width / 2,
      confirmAgain.y + confirmAgain.height / 2,
    );
    await page.mouse.down();
    await station.waitEvent(
      (e) => e.type === 'action' && (e.action as ActionStatus | null)?.phase === 'flying',
      20_000,
      'second push flying',
      abortedAt,
    );
    await page.mouse.up();
    await eventually('GUIDED after the second push', 20_000, async () =>
      (await attribute(page, 'status-mode', 'data-state')) === 'GUIDED' ? true : undefined,
    );
    await page.waitForTimeout(2_000);
    const endedEarly = station.events
      .slice(abortedAt)
      .filter((e) => e.type === 'action')
      .map((e) => (e.action as ActionStatus | null)?.phase)
      .filter((phase) => phase === 'aborted' || phase === 'failed');
    assert.deepEqual(endedEarly, [], 'the second push keeps flying while the drone is GUIDED');
    await page.keyboard.press('Escape');
    await eventually('a hold mode after Escape', 20_000, async () => {
      const text = await page.getByTestId('status-mode').locator('.status-value').innerText();
      return /^(BRAKE|LOITER)$/.test(text) ? text : undefined;
    });

    // Land here: the vehicle lands where it holds.
    await page.getByTestId('choice-land').click({ timeout: 10_000 });
    await eventually('LAND after Land here', 20_000, async () =>
      (await attribute(page, 'status-mode', 'data-state')) === 'LAND' ? true : undefined,
    );
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-land.png') });

    assert.deepEqual(tracked.errors, [], 'no page errors or CSP violations');
    assert.deepEqual(tracked.blocked, [], 'nothing was requested outside 127.0.0.1');
    const foreign = tracked.requests.filter((requested) => !isLocalUrl(requested));
    assert.deepEqual(foreign, []);
    assert.ok(tracked.requests.some((requested) => requested.includes('/tiles/')));
  });

  test(
    'observer: view only, and a command without the token is refused',
    { timeout: 60_000 },
    async () => {
      const tracked = await ui.open(url);
      const { page } = tracked;
      await page.getByTestId('observer-banner').waitFor({ timeout: 30_000 });
      await page.locator('.ursa-drone').waitFor({ timeout: 30_000 });
      for (const testId of ['abort-button', 'takeoff-button', 'return-home-button', 'push-start']) {
        assert.equal(await page.getByTestId(testId).count(), 0, `${testId} is not shown`);
      }
      const bear = page.locator('.ursa-target').first();
      if ((await bear.count()) > 0) {
        await bear.click();
        await page.getByTestId('target-panel').waitFor();
        assert.equal(await page.getByTestId('push-start').count(), 0);
      }
      await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-observer.png') });

      // A program on this machine without the token: an observer whose commands are refused.
      const origin = new URL(url).origin;
      const socket = new WebSocket(`${origin.replace(/^http/, 'ws')}/ws`, {
        headers: { Origin: origin },
      });
      const messages: ServerMessage[] = [];
      socket.on('message', (data) => messages.push(JSON.parse(String(data)) as ServerMessage));
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('open', () => resolve());
          socket.once('error', reject);
        });
        const hello = await eventually('hello', 10_000, async () =>
          messages.find((m) => m.type === 'hello'),
        );
        assert.equal(hello.type === 'hello' && hello.role, 'observer');
        const modeBefore = await attribute(page, 'status-mode', 'data-state');
        socket.send(
          JSON.stringify({
            type: 'command',
            requestId: 'sneaky',
            command: { kind: 'return-home' },
          }),
        );
        const result = await eventually('the command result', 10_000, async () =>
          messages.find((m) => m.type === 'command-result' && m.requestId === 'sneaky'),
        );
        assert.ok(result.type === 'command-result');
        assert.equal(result.outcome.ok, false);
        assert.equal(result.outcome.result, 'DENIED');
        assert.match(result.outcome.text, /Observers cannot command/);
        await page.waitForTimeout(2_000);
        assert.equal(await attribute(page, 'status-mode', 'data-state'), modeBefore);
        assert.notEqual(modeBefore, 'RTL');
      } finally {
        socket.close();
      }

      const foreign = new WebSocket(`${origin.replace(/^http/, 'ws')}/ws`, {
        headers: { Origin: 'http://evil.example' },
      });
      const status = await new Promise<number>((resolve, reject) => {
        foreign.once('unexpected-response', (request, response) => {
          request.destroy();
          resolve(response.statusCode ?? 0);
        });
        foreign.once('open', () => reject(new Error('a foreign origin was let in')));
        foreign.once('error', () => {});
      });
      assert.equal(status, 403);

      assert.deepEqual(tracked.errors, []);
      assert.deepEqual(tracked.blocked, []);
    },
  );
});
