// Aiming the camera end to end: the real headless station (simulated drone, demo video, the real
// detector, offline tiles) in real Chromium. The operator takes off, presses pitch buttons and
// sees the angle the simulator's gimbal reports change to them; "Look at this bear" sends a
// region of interest the simulator accepts; an observer sees the angle but has no buttons. A
// look-at for a target nobody tracks is refused over a real socket, saying which.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import type { ServerMessage } from '../../app/core/protocol';
import type { CommandOutcome } from '../../app/core/types';
import { projectRoot, sharedDir } from '../../app/station/paths';
import {
  chromiumMissing,
  isLocalUrl,
  launchChromium,
  openTrackedPage,
  type TrackedPage,
} from '../helpers/browser';
import { CONRAD_MT, makeTileFolder } from '../helpers/tiles';

const CLI = path.join(projectRoot, 'dist', 'station', 'cli.js');
const UI_INDEX = path.join(projectRoot, 'dist', 'ui', 'index.html');
const MODEL = path.join(sharedDir(), 'models', 'yolox-nano-416.onnx');
const ARTIFACTS = path.join(projectRoot, 'test-artifacts');
// Inference takes about 130 ms a frame on a small machine; take-off takes tens of seconds.
const WAIT_MS = 90_000;
/** The simulator's gimbal turns at 90 deg/s and reports at 5 Hz: well inside this. */
const GIMBAL_WAIT_MS = 15_000;

function skipReason(): string | false {
  const chromium = chromiumMissing();
  if (chromium) return chromium;
  if (!existsSync(CLI) || !existsSync(UI_INDEX)) {
    return `${CLI} or ${UI_INDEX} is missing: run "node scripts/build.mjs" first`;
  }
  if (!existsSync(MODEL)) return `no detector model at ${MODEL} (see ../shared/README.md)`;
  return false;
}

type StationEvent = { type: string; [key: string]: unknown };

/** Waits until the camera panel shows the gimbal within 1 deg of pitchDeg, as reported. */
async function waitPitch(page: Page, pitchDeg: number): Promise<void> {
  await page.waitForFunction(
    (wanted) => {
      const shown = document.querySelector('[data-testid="camera-pitch"]');
      const reported = Number(shown?.getAttribute('data-pitch-deg'));
      return Number.isFinite(reported) && Math.abs(reported - wanted) <= 1;
    },
    pitchDeg,
    { timeout: GIMBAL_WAIT_MS },
  );
}

/** The newest toast's text once one for `title` has come. */
async function toastFor(
  page: Page,
  title: string,
): Promise<{ ok: string; result: string; text: string }> {
  // Newest on top.
  const toast = page.locator('[data-testid="toast"]', { hasText: `${title}:` }).first();
  await toast.waitFor({ timeout: 30_000 });
  return {
    ok: String(await toast.getAttribute('data-ok')),
    result: String(await toast.getAttribute('data-result')),
    text: await toast.innerText(),
  };
}

/** The station's /ws address for a page URL, with the page's token if it has one. */
function socketUrl(pageUrl: string): string {
  const page = new URL(pageUrl);
  const ws = new URL('/ws', page);
  ws.protocol = 'ws:';
  const token = page.searchParams.get('token');
  if (token) ws.searchParams.set('token', token);
  return ws.href;
}

/** One command over a real WebSocket, as any client would send it. */
async function commandOverSocket(wsUrl: string, command: object): Promise<CommandOutcome> {
  const socket = new WebSocket(wsUrl);
  try {
    return await new Promise<CommandOutcome>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no command-result in 30 s')), 30_000);
      socket.once('error', reject);
      socket.once('open', () => {
        socket.send(JSON.stringify({ type: 'command', requestId: 'look-1', command }));
      });
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as ServerMessage;
        if (message.type === 'command-result' && message.requestId === 'look-1') {
          clearTimeout(timer);
          resolve(message.outcome);
        }
      });
    });
  } finally {
    socket.close();
  }
}

describe('camera controls in Chromium', { skip: skipReason() }, () => {
  let workDir: string;
  let child: ChildProcessWithoutNullStreams;
  let exited: Promise<unknown>;
  const events: StationEvent[] = [];
  const stderrTail: string[] = [];
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let url: string;
  let operatorUrl: string;
  const pages: TrackedPage[] = [];

  async function waitEvent(match: (e: StationEvent) => boolean, what: string) {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = events.find(match);
      if (found) return found;
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no ${what} from the station:\n${stderrTail.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-e2e-camera-'));
    const tileDir = path.join(workDir, 'tiles');
    makeTileFolder(tileDir, { center: CONRAD_MT, minZoom: 14, maxZoom: 17, radiusTiles: 3 });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      URSA_CACHE_DIR: path.join(workDir, 'cache'),
      URSA_DATA_DIR: path.join(workDir, 'data'),
    };
    delete env.URSA_TOKEN;
    delete env.URSA_TILES;
    child = spawn(
      process.execPath,
      [
        CLI,
        ...['--sim', '--video', 'demo', '--model', MODEL, '--serve', '127.0.0.1:0'],
        ...['--tiles', tileDir, '--events', '-', '--record', 'off'],
      ],
      { cwd: projectRoot, env, stdio: 'pipe' },
    );
    exited = new Promise((resolve) => child.once('exit', resolve));
    createInterface({ input: child.stdout }).on('line', (line) => {
      events.push(JSON.parse(line) as StationEvent);
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 80) stderrTail.shift();
    });
    const serve = await waitEvent((e) => e.type === 'serve', 'serve event');
    url = String(serve.url);
    operatorUrl = String(serve.operatorUrl);
    browser = await launchChromium();
  });

  after(async () => {
    for (const tracked of pages) await tracked.dispose().catch(() => {});
    await browser?.close();
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test(
    'the operator aims the camera and looks at the bear; an observer only reads the angle',
    { timeout: 300_000 },
    async () => {
      const tracked = await openTrackedPage(browser, operatorUrl);
      pages.push(tracked);
      const { page } = tracked;
      await page.getByTestId('camera-controls').waitFor({ timeout: 30_000 });
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="status-link"]')?.getAttribute('data-state') ===
          'connected',
        null,
        { timeout: 30_000 },
      );
      // The simulator's gimbal starts 45 deg down and says so.
      await waitPitch(page, -45);
      assert.equal(await page.getByTestId('camera-pitch').innerText(), '\u221245°');

      await page.getByTestId('takeoff-button').click();
      await toastFor(page, 'Arm + take off');

      await page.getByTestId('camera-pitch-60').click();
      const pointed = await toastFor(page, 'Point camera');
      assert.equal(pointed.ok, 'true', pointed.text);
      assert.equal(pointed.result, 'ACCEPTED', pointed.text);
      await waitPitch(page, -60);
      assert.equal(await page.getByTestId('camera-pitch').innerText(), '\u221260°');

      await page.getByTestId('camera-pitch-90').click();
      await waitPitch(page, -90);
      assert.equal(
        await page.getByTestId('camera-nudge-down').isDisabled(),
        true,
        'nothing below straight down',
      );
      await page.getByTestId('camera-nudge-up').click();
      await waitPitch(page, -85);
      // Two quick taps add up, even while the gimbal is still turning.
      await page.getByTestId('camera-nudge-up').click();
      await page.getByTestId('camera-nudge-up').click();
      await waitPitch(page, -75);
      await page.getByTestId('camera-pitch-45').click();
      await waitPitch(page, -45);

      // The bear on the map: its card has "Look at this bear"; the simulator takes the ROI.
      const bear = page.locator('.ursa-target[data-class="bear"]').first();
      await bear.waitFor({ timeout: WAIT_MS });
      const targetId = Number(await bear.getAttribute('data-target-id'));
      assert.ok(Number.isInteger(targetId), 'the bear marker names its target');
      await bear.click();
      const lookAt = page.getByTestId('look-at');
      await lookAt.waitFor({ timeout: 10_000 });
      assert.equal(await lookAt.innerText(), 'Look at this bear');
      const cardId = Number(await page.getByTestId('target-panel').getAttribute('data-target-id'));
      await lookAt.click();
      const looked = await toastFor(page, 'Look at');
      assert.equal(looked.ok, 'true', looked.text);
      assert.match(looked.text, new RegExp(`where bear #${cardId} is now \\(ACCEPTED\\)`));
      await waitEvent(
        (e) => e.type === 'log' && /Camera pointed at where bear #\d+ is now/.test(String(e.text)),
        'the look-at outcome in the station log',
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-camera.png') });

      // Angles asked for after a region of interest take over from it again.
      await page.getByTestId('camera-pitch-90').click();
      await waitPitch(page, -90);

      // A target nobody tracks is refused by name, over a real socket with the operator token.
      assert.ok(new URL(operatorUrl).searchParams.get('token'), 'the operator URL has a token');
      const unknown = await commandOverSocket(socketUrl(operatorUrl), {
        kind: 'look-at',
        targetId: 99_999,
      });
      assert.equal(unknown.ok, false);
      assert.match(unknown.text, /Look at refused: target 99999 is not tracked now/);

      // The observer reads the angle and has no camera buttons, on the panel or the card.
      const watcher = await openTrackedPage(browser, url);
      pages.push(watcher);
      const observer = watcher.page;
      await observer.getByTestId('observer-banner').waitFor({ timeout: 30_000 });
      await observer.getByTestId('camera-controls').waitFor();
      await waitPitch(observer, -90);
      assert.equal(await observer.locator('.camera-button').count(), 0, 'no camera buttons');
      const observedBear = observer.locator('.ursa-target[data-class="bear"]').first();
      await observedBear.waitFor({ timeout: WAIT_MS });
      await observedBear.click();
      await observer.getByTestId('target-panel').waitFor({ timeout: 10_000 });
      assert.equal(await observer.getByTestId('look-at').count(), 0, 'no look-at for observers');
      const observed = await commandOverSocket(socketUrl(url), {
        kind: 'look-at',
        targetId,
      });
      assert.equal(observed.result, 'DENIED', 'an observer socket cannot aim the camera');

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
