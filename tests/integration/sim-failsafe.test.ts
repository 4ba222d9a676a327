// ArduCopter's GCS failsafe in the simulator, driven by the station's heartbeat over real UDP on
// 127.0.0.1: on by default (a hazing airframe is set up with it), RTL when the station goes
// quiet; set to 0, a silent station changes nothing.
// Needs dist/station/sim.js (node scripts/build.mjs).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { offsetNorthEast } from '../../app/core/geodesy';
import { checkVehicleFailsafes } from '../../app/station/hazing/failsafe';
import { SIM_HOME, startSimLink, takeOffTo, waitForState } from '../helpers/sim';

const CONNECT_TIMEOUT_MS = 15_000;
const FLIGHT_TIMEOUT_MS = 60_000;

test('the station falls silent: with FS_GCS_ENABLE the vehicle goes RTL', async (t) => {
  const { link, sim, dispose } = await startSimLink({ speedFactor: 8 });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  assert.equal((await link.readParam('FS_GCS_ENABLE')).param?.value, 1, 'on by default');
  assert.equal((await link.setParam('FS_GCS_ENABLE', 0)).ok, true);
  assert.equal((await link.setParam('FS_GCS_TIMEOUT', 2)).ok, true);
  await takeOffTo(link, 10, 9.5, FLIGHT_TIMEOUT_MS);
  const away = { ...offsetNorthEast(SIM_HOME, 30, 0), altitudeRelM: 10 };
  assert.equal((await link.gotoGuided(away)).ok, true);

  // With FS_GCS_ENABLE 0 a silent station changes nothing.
  link.setGcsHeartbeat(false);
  await new Promise((resolve) => setTimeout(resolve, 3500));
  assert.equal(sim.events('failsafe').length, 0);
  assert.equal(link.state.modeName, 'GUIDED');
  link.setGcsHeartbeat(true);

  assert.equal((await link.setParam('FS_GCS_ENABLE', 1)).ok, true);
  const silentFromMs = performance.now();
  link.setGcsHeartbeat(false);
  const failsafe = await sim.waitForEvent('failsafe', 15_000);
  // The station's last heartbeat went out at most a second before it fell silent.
  assert.ok(performance.now() - silentFromMs >= 1000, 'the vehicle waited FS_GCS_TIMEOUT');
  assert.deepEqual(failsafe, { event: 'failsafe', kind: 'gcs', action: 'RTL' });
  const rtl = await waitForState(
    link,
    (s) => s.modeName === 'RTL' && s.statusTexts.some((text) => text.text === 'GCS Failsafe'),
    10_000,
    'RTL and the failsafe STATUSTEXT',
  );
  assert.equal(rtl.armed, true);

  link.setGcsHeartbeat(true);
  await sim.waitForEvent('failsafe-cleared', 10_000);
  await waitForState(
    link,
    (s) => s.statusTexts.some((text) => text.text === 'GCS Failsafe Cleared'),
    10_000,
    'the failsafe cleared',
  );
  // ArduCopter stays in RTL after the ground station comes back.
  const home = await waitForState(
    link,
    (s) => !s.armed && s.position?.altitudeRelM === 0,
    FLIGHT_TIMEOUT_MS,
    'the RTL landing',
  );
  assert.equal(home.modeName, 'RTL');
});

test("the failsafe check reads the vehicle's parameters and names the unsafe one", async (t) => {
  const { link, dispose } = await startSimLink();
  t.after(dispose);
  const state = await waitForState(
    link,
    (s) => s.link === 'connected',
    CONNECT_TIMEOUT_MS,
    'connection',
  );
  const read = async (name: string) => (await link.readParam(name)).param?.value ?? null;
  assert.equal(state.autopilot, 'ArduPilot');
  assert.equal(await checkVehicleFailsafes(state.autopilot, read), null, 'the defaults are safe');

  assert.equal((await link.setParam('FS_GCS_ENABLE', 0)).ok, true);
  assert.equal(
    await checkVehicleFailsafes(state.autopilot, read),
    "FS_GCS_ENABLE is 0: the vehicle would keep flying if the station's link is lost; " +
      'set it to 1 (RTL)',
  );
  assert.equal((await link.setParam('FS_GCS_ENABLE', 1)).ok, true);
  assert.equal((await link.setParam('FS_GCS_TIMEOUT', 30)).ok, true);
  assert.match(
    (await checkVehicleFailsafes(state.autopilot, read)) ?? '',
    /^FS_GCS_TIMEOUT is 30 s/,
  );
  assert.equal((await link.setParam('FS_GCS_TIMEOUT', 5)).ok, true);
  assert.equal((await link.setParam('BATT_FS_LOW_ACT', 0)).ok, true);
  assert.match((await checkVehicleFailsafes(state.autopilot, read)) ?? '', /^BATT_FS_LOW_ACT is 0/);
});
