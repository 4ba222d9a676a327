// Link health and the vehicles on the screen: the real Station with a udpout link to two bare
// vehicles, its real server, and Debian's Chromium. Needs dist/ui (node scripts/build.mjs).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { DEFAULT_ENVELOPE } from '../../app/core/envelope';
import { projectRoot } from '../../app/station/paths';
import { startServer } from '../../app/station/server';
import { Station } from '../../app/station/station';
import { chromiumMissing, launchChromium, openTrackedPage } from '../helpers/browser';
import { FakeVehicle, udpPeer, until } from './link-fake-vehicle';

const UI_DIR = path.join(projectRoot, 'dist', 'ui');
const TOKEN = 'link-ui-test-operator-token';
const WAIT_MS = 20_000;

function skipReason(): string | false {
  const chromium = chromiumMissing();
  if (chromium) return chromium;
  if (!existsSync(path.join(UI_DIR, 'index.html'))) {
    return `${UI_DIR} is missing: run "node scripts/build.mjs" first`;
  }
  return false;
}

test(
  'the operator sees each link’s health and the vehicles on it; observers cannot pick',
  { skip: skipReason() },
  async (t) => {
    const vehicles: FakeVehicle[] = [];
    let stationPort: number | null = null;
    const radio = await udpPeer((chunk) => vehicles.forEach((v) => v.hear(chunk)));
    radio.socket.on('message', (_chunk, remote) => {
      stationPort = remote.port;
    });
    t.after(() => radio.close());
    const station = await Station.start({
      sim: false,
      links: [`udpout:127.0.0.1:${radio.port}`],
      recordDir: null,
      video: null,
      camera: { horizontalFovDeg: 60, verticalFovDeg: 45 },
      defaults: {
        takeoffAltitudeM: 20,
        standoffM: 30,
        pushAltitudeM: 25,
        envelope: DEFAULT_ENVELOPE,
        speakerAvailable: false,
      },
      tiles: {
        kind: 'online',
        urlTemplate: 'http://127.0.0.1:9/{z}/{x}/{y}',
        attribution: '',
        maxZoom: 19,
      },
      mapCenter: { latDeg: 48.17, lonDeg: -111.95 },
    });
    t.after(() => station.dispose());
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      api: station,
      operatorToken: TOKEN,
      tiles: null,
      uiDir: UI_DIR,
    });
    t.after(() => server.dispose());
    await until(() => stationPort !== null, WAIT_MS, 'the station heartbeat');
    for (const systemId of [1, 2]) {
      const vehicle = new FakeVehicle({
        systemId,
        send: (frame) => void radio.sendTo(stationPort!, frame),
      });
      vehicles.push(vehicle);
      t.after(() => vehicle.dispose());
      vehicle.start(200);
    }
    const second = vehicles[1];
    const position = setInterval(() => {
      second.send(
        second.position({ lat: 481701000, lon: -1119500000, alt: 1_080_000, relativeAlt: 20_000 }),
      );
    }, 200);
    t.after(() => clearInterval(position));
    await until(() => station.vehicles().vehicles.length === 2, WAIT_MS, 'both vehicles');

    const browser = await launchChromium();
    t.after(() => browser.close());
    const operator = await openTrackedPage(browser, server.operatorUrl);
    t.after(() => operator.dispose());
    const { page } = operator;

    const row = page.getByTestId('link-health');
    await row.waitFor({ timeout: WAIT_MS });
    await page.waitForFunction(
      () => {
        const el = document.querySelector<HTMLElement>('[data-testid="link-health"]');
        return el !== null && Number(el.dataset.packetsPerSecond) > 0;
      },
      undefined,
      { timeout: WAIT_MS },
    );
    assert.equal(await row.getAttribute('data-state'), 'connected');
    assert.equal(await row.getAttribute('data-link'), `udpout:127.0.0.1:${radio.port}`);
    const numbers = await row.locator('.link-numbers span').allTextContents();
    assert.match(numbers[0], /^\d+ pkt\/s$/);
    assert.match(numbers[1], /^loss \d+%$/);
    assert.match(numbers[2], /^heartbeat \d+ s ago$/);
    assert.match((await row.locator('.link-name').textContent()) ?? '', /^OK udpout:127\.0\.0\.1:/);

    const rows = page.getByTestId('vehicle-row');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="vehicle-row"]').length === 2,
      undefined,
      { timeout: WAIT_MS },
    );
    assert.equal(await rows.nth(0).getAttribute('data-active'), 'true');
    assert.match((await rows.nth(0).textContent()) ?? '', /#1 .*ACTIVE/);
    assert.equal(await rows.nth(1).getByTestId('vehicle-select').count(), 1);
    const other = page.getByTestId('map-other-vehicle');
    await other.waitFor({ timeout: WAIT_MS });
    assert.equal(await other.getAttribute('data-system-id'), '2');
    assert.equal(await other.getAttribute('data-lat'), '48.1701000');

    // The operator makes the second vehicle the active one.
    await rows.nth(1).getByTestId('vehicle-select').click();
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-testid="vehicle-row"]')].some(
          (row) => row.getAttribute('data-active') === 'true' && /#2 /.test(row.textContent ?? ''),
        ),
      undefined,
      { timeout: WAIT_MS },
    );
    assert.equal(station.vehicles().activeSystemId, 2);

    const observer = await openTrackedPage(browser, server.url);
    t.after(() => observer.dispose());
    await observer.page.getByTestId('vehicle-row').first().waitFor({ timeout: WAIT_MS });
    assert.equal(await observer.page.getByTestId('vehicle-select').count(), 0);
    assert.deepEqual(operator.errors, []);
    assert.deepEqual(operator.blocked, []);
  },
);
