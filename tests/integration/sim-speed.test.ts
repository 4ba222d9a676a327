// A pattern's speed reaches the vehicle as MAV_CMD_DO_CHANGE_SPEED: the simulator, in its own
// process over real UDP on 127.0.0.1, flies GUIDED at that speed until the next mode change.
// Needs dist/station/sim.js (node scripts/build.mjs).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { offsetNorthEast } from '../../app/core/geodesy';
import type { VehicleState } from '../../app/core/types';
import { SIM_HOME, startSimLink, takeOffTo, waitForState } from '../helpers/sim';

const CONNECT_TIMEOUT_MS = 30_000;
const FLIGHT_TIMEOUT_MS = 60_000;

function groundSpeedMps(state: VehicleState): number {
  const velocity = state.velocity;
  return velocity ? Math.hypot(velocity.northMps, velocity.eastMps) : 0;
}

test('DO_CHANGE_SPEED sets the GUIDED speed until the mode changes; nonsense is denied', async (t) => {
  const { link, dispose } = await startSimLink({ speedFactor: 4 });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  await takeOffTo(link, 20, 19.5, FLIGHT_TIMEOUT_MS);

  const slow = await link.setSpeed(3);
  assert.equal(slow.ok, true, slow.text);
  const far = { ...offsetNorthEast(SIM_HOME, 400, 0), altitudeRelM: 20 };
  assert.equal((await link.gotoGuided(far)).ok, true);
  // Up to speed, then watched for a while: never faster than asked.
  await waitForState(link, (s) => groundSpeedMps(s) > 2.8, FLIGHT_TIMEOUT_MS, 'cruising');
  let fastestMps = 0;
  const watchUntilMs = performance.now() + 2000;
  while (performance.now() < watchUntilMs) {
    fastestMps = Math.max(fastestMps, groundSpeedMps(link.state));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(fastestMps <= 3.2, `flew ${fastestMps.toFixed(2)} m/s with 3 m/s asked`);

  // A mode change ends it: back in GUIDED the vehicle flies at WPNAV_SPEED (10 m/s).
  assert.equal((await link.setMode('LOITER')).ok, true);
  assert.equal((await link.setMode('GUIDED')).ok, true);
  assert.equal((await link.gotoGuided(far)).ok, true);
  await waitForState(link, (s) => groundSpeedMps(s) > 6, FLIGHT_TIMEOUT_MS, 'default speed');

  await assert.rejects(link.setSpeed(0), /above 0/);
  const tooFast = await link.setSpeed(30);
  assert.equal(tooFast.ok, false);
  assert.equal(tooFast.result, 'DENIED');
});
