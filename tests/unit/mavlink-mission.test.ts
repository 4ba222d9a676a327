import assert from 'node:assert/strict';
import { test } from 'node:test';

import { common } from 'node-mavlink';

import {
  asSent,
  checkMissionItems,
  missionItemFromFloat,
  missionItemFromInt,
  missionItemToFloat,
  missionItemToInt,
  missionTypeCode,
  missionTypeFromCode,
  type MissionItem,
} from '../../app/station/mavlink/mission';

const VEHICLE = { systemId: 1, componentId: 1 };

function waypoint(seq: number, fields: Partial<MissionItem> = {}): MissionItem {
  return {
    seq,
    frame: common.MavFrame.GLOBAL_RELATIVE_ALT,
    command: common.MavCmd.NAV_WAYPOINT,
    current: 0,
    autocontinue: 1,
    param1: 0,
    param2: 0,
    param3: 0,
    param4: Number.NaN,
    x: 481700000,
    y: -1119500000,
    z: 25.5,
    missionType: 'mission',
    ...fields,
  };
}

test('mission types map to MAV_MISSION_TYPE and back', () => {
  assert.equal(missionTypeCode('mission'), 0);
  assert.equal(missionTypeCode('fence'), 1);
  assert.equal(missionTypeCode('rally'), 2);
  assert.equal(missionTypeFromCode(2), 'rally');
  assert.equal(missionTypeFromCode(255), null, 'ALL is for clearing, not a list');
});

test('MISSION_ITEM_INT carries an item exactly, params as float32', () => {
  const item = waypoint(3, { param1: 0.1, param2: 2 });
  const message = missionItemToInt(item, VEHICLE);
  assert.equal(message.targetSystem, 1);
  assert.equal(message.missionType, common.MavMissionType.MISSION);
  assert.deepEqual(missionItemFromInt(message), item, 'before serializing, nothing is rounded');
  assert.deepEqual(asSent(item).param1, Math.fround(0.1));
  assert.ok(Number.isNaN(asSent(item).param4));
});

test('the float MISSION_ITEM carries degrees, read back to degE7', () => {
  const item = waypoint(1);
  const message = missionItemToFloat(item, VEHICLE);
  assert.ok(Math.abs(message.x - 48.17) < 1e-9);
  assert.ok(Math.abs(message.y - -111.95) < 1e-9);
  assert.deepEqual(missionItemFromFloat(message), item);
});

test('lists are checked before sending: numbering, type, integer fields', () => {
  checkMissionItems('mission', [waypoint(0), waypoint(1)]);
  checkMissionItems('rally', []);
  assert.throws(
    () => checkMissionItems('mission', [waypoint(0), waypoint(2)]),
    /mission item 1 has seq 2; items must be numbered 0, 1, 2\.\.\. in order/,
  );
  assert.throws(
    () => checkMissionItems('fence', [waypoint(0)]),
    /fence item 0 is a mission item in a fence list/,
  );
  assert.throws(
    () => checkMissionItems('mission', [waypoint(0, { x: 48.17 })]),
    /mission item 0: x must be an integer -2147483648 to 2147483647, got 48\.17/,
  );
  assert.throws(
    () => checkMissionItems('mission', [waypoint(0, { z: Number.POSITIVE_INFINITY })]),
    /mission item 0: z must be a number, got Infinity/,
  );
  assert.throws(
    () => checkMissionItems('mission', [waypoint(0, { command: 70000 })]),
    /command must be an integer 0 to 65535/,
  );
  assert.throws(() => checkMissionItems('plan' as 'mission', []), /unknown mission type "plan"/);
});
