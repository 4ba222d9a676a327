// The vehicle's own failsafes, read before a hazing pattern starts: each unsafe or unreadable
// parameter blocks with words naming it.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkVehicleFailsafes, MAX_GCS_TIMEOUT_S } from '../../app/station/hazing/failsafe';

type Params = Record<string, number | null>;

const SAFE_ARDUPILOT: Params = {
  FS_GCS_ENABLE: 1,
  FS_GCS_TIMEOUT: 5,
  BATT_MONITOR: 4,
  BATT_FS_LOW_ACT: 2,
};
const SAFE_PX4: Params = { NAV_DLL_ACT: 2, COM_LOW_BAT_ACT: 3 };

/** A vehicle that answers from a table; names it lacks read as null. Records what was read. */
function vehicle(params: Params): {
  read: (name: string) => Promise<number | null>;
  asked: string[];
} {
  const asked: string[] = [];
  return {
    asked,
    read: async (name) => {
      asked.push(name);
      return Object.hasOwn(params, name) ? params[name]! : null;
    },
  };
}

const check = (autopilot: string, params: Params) =>
  checkVehicleFailsafes(autopilot, vehicle(params).read);

const CASES: Array<{
  name: string;
  autopilot: string;
  params: Params;
  expected: RegExp | string | null;
}> = [
  { name: 'ArduPilot, all safe', autopilot: 'ArduPilot', params: SAFE_ARDUPILOT, expected: null },
  {
    name: 'ArduPilot, GCS failsafe off',
    autopilot: 'ArduPilot',
    params: { ...SAFE_ARDUPILOT, FS_GCS_ENABLE: 0 },
    expected:
      "FS_GCS_ENABLE is 0: the vehicle would keep flying if the station's link is lost; " +
      'set it to 1 (RTL)',
  },
  {
    name: 'ArduPilot, GCS failsafe unreadable',
    autopilot: 'ArduPilot',
    params: { ...SAFE_ARDUPILOT, FS_GCS_ENABLE: null },
    expected: /^could not read FS_GCS_ENABLE$/,
  },
  {
    name: 'ArduPilot, GCS failsafe 2 (continue in AUTO) still acts in GUIDED',
    autopilot: 'ArduPilot',
    params: { ...SAFE_ARDUPILOT, FS_GCS_ENABLE: 2 },
    expected: null,
  },
  {
    name: 'ArduPilot, GCS timeout too long',
    autopilot: 'ArduPilot',
    params: { ...SAFE_ARDUPILOT, FS_GCS_TIMEOUT: 30 },
    expected: /^FS_GCS_TIMEOUT is 30 s: .*set it to 10 s or less$/,
  },
  {
    name: 'ArduPilot, GCS timeout at the limit',
    autopilot: 'ArduPilot',
    params: { ...SAFE_ARDUPILOT, FS_GCS_TIMEOUT: MAX_GCS_TIMEOUT_S },
    expected: null,
  },
  {
    name: 'ArduPilot, firmware without FS_GCS_TIMEOUT',
    autopilot: 'ArduPilot',
    params: { ...SAFE_ARDUPILOT, FS_GCS_TIMEOUT: null },
    expected: null,
  },
  {
    name: 'ArduPilot, battery failsafe off with a monitor',
    autopilot: 'ArduPilot',
    params: { ...SAFE_ARDUPILOT, BATT_FS_LOW_ACT: 0 },
    expected: /^BATT_FS_LOW_ACT is 0: the vehicle would do nothing on a low battery/,
  },
  {
    name: 'ArduPilot, battery failsafe off without a monitor',
    autopilot: 'ArduPilot',
    params: { ...SAFE_ARDUPILOT, BATT_MONITOR: 0, BATT_FS_LOW_ACT: 0 },
    expected: null,
  },
  {
    name: 'ArduPilot, battery monitor unreadable',
    autopilot: 'ArduPilot',
    params: { ...SAFE_ARDUPILOT, BATT_MONITOR: null },
    expected: /^could not read BATT_MONITOR$/,
  },
  {
    name: 'ArduPilot, battery action unreadable',
    autopilot: 'ArduPilot',
    params: { ...SAFE_ARDUPILOT, BATT_FS_LOW_ACT: null },
    expected: /^could not read BATT_FS_LOW_ACT$/,
  },
  { name: 'PX4, all safe', autopilot: 'PX4', params: SAFE_PX4, expected: null },
  {
    name: 'PX4, data link loss action off',
    autopilot: 'PX4',
    params: { ...SAFE_PX4, NAV_DLL_ACT: 0 },
    expected: /^NAV_DLL_ACT is 0: the vehicle would keep flying if the station's link is lost/,
  },
  {
    name: 'PX4, low battery action off',
    autopilot: 'PX4',
    params: { ...SAFE_PX4, COM_LOW_BAT_ACT: 0 },
    expected: /^COM_LOW_BAT_ACT is 0: the vehicle would only warn on a low battery/,
  },
  {
    name: 'PX4, data link loss action unreadable',
    autopilot: 'PX4',
    params: { COM_LOW_BAT_ACT: 3 },
    expected: /^could not read NAV_DLL_ACT$/,
  },
  {
    name: 'PX4 rules are not ArduPilot rules',
    autopilot: 'PX4',
    params: SAFE_ARDUPILOT,
    expected: /^could not read NAV_DLL_ACT$/,
  },
  {
    name: 'an unknown autopilot',
    autopilot: 'AUTOPILOT(3)',
    params: SAFE_ARDUPILOT,
    expected: /^cannot check the failsafes of a AUTOPILOT\(3\) autopilot$/,
  },
  {
    name: 'no inherited names: toString is not an autopilot',
    autopilot: 'toString',
    params: SAFE_ARDUPILOT,
    expected: /^cannot check the failsafes of a toString autopilot$/,
  },
];

for (const { name, autopilot, params, expected } of CASES) {
  test(`failsafes: ${name}`, async () => {
    const result = await check(autopilot, params);
    if (expected === null || typeof expected === 'string') assert.equal(result, expected);
    else assert.match(result ?? 'null (safe)', expected);
  });
}

test('failsafes: the first unsafe rule is named, and nothing is read after it', async () => {
  const v = vehicle({ ...SAFE_ARDUPILOT, FS_GCS_ENABLE: 0, BATT_FS_LOW_ACT: 0 });
  assert.match((await checkVehicleFailsafes('ArduPilot', v.read)) ?? '', /^FS_GCS_ENABLE is 0/);
  assert.deepEqual(v.asked, ['FS_GCS_ENABLE']);
});

test('failsafes: without a battery monitor, the battery action is not read', async () => {
  const v = vehicle({ ...SAFE_ARDUPILOT, BATT_MONITOR: 0, BATT_FS_LOW_ACT: null });
  assert.equal(await checkVehicleFailsafes('ArduPilot', v.read), null);
  assert.deepEqual(v.asked, ['FS_GCS_ENABLE', 'FS_GCS_TIMEOUT', 'BATT_MONITOR', 'SYSID_MYGCS']);
});

test('failsafes: a GCS failsafe that listens for another ground station blocks', async () => {
  const other = vehicle({ ...SAFE_ARDUPILOT, SYSID_MYGCS: 254 });
  assert.equal(
    await checkVehicleFailsafes('ArduPilot', other.read),
    "SYSID_MYGCS is 254: the vehicle's GCS failsafe listens for that ground station, not this " +
      'one (255); set it to 255',
  );
  const ours = vehicle({ ...SAFE_ARDUPILOT, SYSID_MYGCS: 255 });
  assert.equal(await checkVehicleFailsafes('ArduPilot', ours.read), null);
});

test('failsafes: a reader that throws, or a value that is not a number, blocks', async () => {
  const failing = async (name: string): Promise<number | null> => {
    throw new Error(`no answer for ${name}`);
  };
  assert.equal(
    await checkVehicleFailsafes('ArduPilot', failing),
    'could not read FS_GCS_ENABLE (no answer for FS_GCS_ENABLE)',
  );
  assert.equal(
    await check('PX4', { ...SAFE_PX4, NAV_DLL_ACT: Number.NaN }),
    'could not read NAV_DLL_ACT (the vehicle sent NaN)',
  );
});
