import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  autopilotName,
  flightModeName,
  flightModeNames,
  flightModeRequest,
  MAV_AUTOPILOT_ARDUPILOTMEGA,
  MAV_AUTOPILOT_PX4,
  px4CustomMode,
  px4ModeFromName,
  px4ModeName,
  px4ModeParts,
} from '../../app/core/autopilot-modes';

const QUADROTOR = 2;
const FIXED_WING = 1;

test('PX4 custom_mode: main mode in bits 16-23, sub mode in bits 24-31', () => {
  // AUTO (4) / MISSION (4), as PX4 reports it in HEARTBEAT.custom_mode.
  assert.equal(px4CustomMode({ mainMode: 4, subMode: 4 }), 0x04040000);
  assert.deepEqual(px4ModeParts(0x04040000), { mainMode: 4, subMode: 4 });
  assert.equal(px4CustomMode({ mainMode: 3, subMode: 0 }), 0x00030000);
  // The low 16 bits are reserved and ignored.
  assert.deepEqual(px4ModeParts(0x0305abcd), { mainMode: 5, subMode: 3 });
  assert.ok(px4CustomMode({ mainMode: 4, subMode: 9 }) > 0, 'stays an unsigned 32-bit value');
});

test('PX4 modes are named as PX4 names them', () => {
  const named: Array<[number, number, string]> = [
    [1, 0, 'MANUAL'],
    [2, 0, 'ALTCTL'],
    [3, 0, 'POSCTL'],
    [3, 1, 'POSCTL.ORBIT'],
    [4, 1, 'AUTO.READY'],
    [4, 2, 'AUTO.TAKEOFF'],
    [4, 3, 'AUTO.LOITER'],
    [4, 4, 'AUTO.MISSION'],
    [4, 5, 'AUTO.RTL'],
    [4, 6, 'AUTO.LAND'],
    [4, 8, 'AUTO.FOLLOW_TARGET'],
    [4, 9, 'AUTO.PRECLAND'],
    [4, 10, 'AUTO.VTOL_TAKEOFF'],
    [5, 0, 'ACRO'],
    [6, 0, 'OFFBOARD'],
    [7, 0, 'STABILIZED'],
    [10, 0, 'TERMINATION'],
  ];
  for (const [mainMode, subMode, name] of named) {
    const customMode = px4CustomMode({ mainMode, subMode });
    assert.equal(px4ModeName(customMode), name, `${mainMode}/${subMode}`);
    assert.equal(flightModeName(MAV_AUTOPILOT_PX4, QUADROTOR, customMode), name);
  }
});

test('a stale sub mode byte on a mode without sub modes is ignored; unknown modes say so', () => {
  assert.equal(px4ModeName(px4CustomMode({ mainMode: 6, subMode: 4 })), 'OFFBOARD');
  assert.equal(px4ModeName(px4CustomMode({ mainMode: 4, subMode: 0 })), 'MODE(0x00040000)');
  assert.equal(px4ModeName(px4CustomMode({ mainMode: 4, subMode: 7 })), 'MODE(0x07040000)');
  assert.equal(px4ModeName(px4CustomMode({ mainMode: 42, subMode: 0 })), 'MODE(0x002a0000)');
  assert.equal(px4ModeName(0), 'MODE(0x00000000)');
});

test('PX4 modes are found by PX4 name or common word, in any letter case', () => {
  assert.deepEqual(px4ModeFromName('AUTO.MISSION'), {
    mainMode: 4,
    subMode: 4,
    name: 'AUTO.MISSION',
  });
  assert.deepEqual(px4ModeFromName('auto.loiter'), {
    mainMode: 4,
    subMode: 3,
    name: 'AUTO.LOITER',
  });
  assert.deepEqual(px4ModeFromName(' posctl '), { mainMode: 3, subMode: 0, name: 'POSCTL' });
  assert.equal(px4ModeFromName('hold')?.name, 'AUTO.LOITER');
  assert.equal(px4ModeFromName('Return')?.name, 'AUTO.RTL');
  assert.equal(px4ModeFromName('RTL')?.name, 'AUTO.RTL');
  assert.equal(px4ModeFromName('land')?.name, 'AUTO.LAND');
  assert.equal(px4ModeFromName('mission')?.name, 'AUTO.MISSION');
  assert.equal(px4ModeFromName('position')?.name, 'POSCTL');
  assert.equal(px4ModeFromName('precision land')?.name, 'AUTO.PRECLAND');
  // The ArduPilot words the station itself uses map to PX4's Hold.
  assert.equal(px4ModeFromName('GUIDED')?.name, 'AUTO.LOITER');
  assert.equal(px4ModeFromName('BRAKE')?.name, 'AUTO.LOITER');
  assert.equal(px4ModeFromName('SMART_RTL'), null);
  assert.equal(px4ModeFromName(''), null);
  assert.equal(px4ModeFromName('AUTO.'), null);
  assert.equal(px4ModeFromName('toString'), null);
});

test('DO_SET_MODE parameters: PX4 takes main and sub mode, ArduPilot the mode number', () => {
  assert.deepEqual(flightModeRequest(MAV_AUTOPILOT_PX4, QUADROTOR, 'auto.rtl'), {
    name: 'AUTO.RTL',
    customMode: 0x05040000,
    doSetModeParams: [1, 4, 5],
  });
  assert.deepEqual(flightModeRequest(MAV_AUTOPILOT_PX4, QUADROTOR, 'offboard'), {
    name: 'OFFBOARD',
    customMode: 0x00060000,
    doSetModeParams: [1, 6, 0],
  });
  assert.deepEqual(flightModeRequest(MAV_AUTOPILOT_ARDUPILOTMEGA, QUADROTOR, 'guided'), {
    name: 'GUIDED',
    customMode: 4,
    doSetModeParams: [1, 4, 0],
  });
  assert.deepEqual(flightModeRequest(MAV_AUTOPILOT_ARDUPILOTMEGA, QUADROTOR, 'alt hold'), {
    name: 'ALT_HOLD',
    customMode: 2,
    doSetModeParams: [1, 2, 0],
  });
  // ArduPlane numbers its modes its own way.
  assert.equal(
    flightModeRequest(MAV_AUTOPILOT_ARDUPILOTMEGA, FIXED_WING, 'GUIDED')?.customMode,
    15,
  );
  assert.equal(
    flightModeRequest(MAV_AUTOPILOT_ARDUPILOTMEGA, FIXED_WING, 'QLOITER')?.customMode,
    19,
  );
  assert.equal(flightModeRequest(MAV_AUTOPILOT_ARDUPILOTMEGA, QUADROTOR, 'QLOITER'), null);
  assert.equal(flightModeRequest(MAV_AUTOPILOT_ARDUPILOTMEGA, QUADROTOR, 'HOVER'), null);
  assert.equal(flightModeRequest(0, QUADROTOR, 'GUIDED'), null, 'a generic autopilot has no table');
});

test('autopilots are named ArduPilot and PX4 from HEARTBEAT.autopilot', () => {
  assert.equal(autopilotName(3), 'ArduPilot');
  assert.equal(autopilotName(12), 'PX4');
  assert.equal(autopilotName(8), 'none');
  assert.equal(autopilotName(0), 'AUTOPILOT(0)');
});

test('mode menus list every mode of the autopilot', () => {
  const px4 = flightModeNames(MAV_AUTOPILOT_PX4, QUADROTOR);
  for (const name of ['MANUAL', 'ALTCTL', 'POSCTL', 'AUTO.MISSION', 'AUTO.LOITER', 'AUTO.RTL']) {
    assert.ok(px4.includes(name), name);
  }
  assert.ok(!px4.includes('AUTO'), 'AUTO alone is not a PX4 mode one can enter');
  assert.ok(flightModeNames(MAV_AUTOPILOT_ARDUPILOTMEGA, QUADROTOR).includes('GUIDED'));
  assert.deepEqual(flightModeNames(0, QUADROTOR), []);
});
