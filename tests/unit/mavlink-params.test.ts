import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  checkParamName,
  checkParamValue,
  decodeParamValue,
  encodeParamValue,
  paramTypeName,
  storedValue,
} from '../../app/station/mavlink/params';

test('ArduPilot casts integers into the float; PX4 copies their bytes', () => {
  assert.equal(encodeParamValue(1500, 'INT32', 'cast'), 1500);
  assert.equal(decodeParamValue(1500, 'INT32', 'cast'), 1500);
  // PX4: the int32 1500 is the float whose bits are 0x000005dc, a tiny denormal.
  const wire = encodeParamValue(1500, 'INT32', 'bytewise');
  assert.ok(wire > 0 && wire < 1e-40, `bytewise 1500 travels as ${wire}`);
  assert.equal(decodeParamValue(wire, 'INT32', 'bytewise'), 1500);
  for (const [value, type] of [
    [-1, 'INT32'],
    [-7, 'INT8'],
    [200, 'UINT8'],
    [-30000, 'INT16'],
    [65535, 'UINT16'],
    [4000000000, 'UINT32'],
  ] as const) {
    const carried = encodeParamValue(value, type, 'bytewise');
    assert.equal(decodeParamValue(carried, type, 'bytewise'), value, `${type} ${value}`);
  }
  // Floats are floats either way.
  assert.equal(encodeParamValue(0.1, 'REAL32', 'bytewise'), Math.fround(0.1));
  assert.equal(decodeParamValue(Math.fround(0.1), 'REAL32', 'bytewise'), Math.fround(0.1));
});

test('the echo is compared with what a float32 can hold', () => {
  assert.equal(storedValue(0.1, 'REAL32'), Math.fround(0.1));
  assert.notEqual(storedValue(0.1, 'REAL32'), 0.1);
  assert.equal(storedValue(12, 'INT16'), 12);
});

test('names and values are checked before anything is sent', () => {
  checkParamName('FS_GCS_ENABLE');
  checkParamName('A'.repeat(16));
  assert.throws(() => checkParamName(''), /1 to 16 characters/);
  assert.throws(() => checkParamName('A'.repeat(17)), /1 to 16 characters/);
  assert.throws(() => checkParamName('RTL ALT'), /printable ASCII/);
  checkParamValue('RTL_ALT', 1500, 'INT32');
  checkParamValue('WPNAV_SPEED', 512.25, 'REAL32');
  assert.throws(() => checkParamValue('RTL_ALT', 1.5, 'INT32'), /integer parameter \(INT32\)/);
  assert.throws(() => checkParamValue('FS_GCS_ENABLE', 128, 'INT8'), /takes -128 to 127, got 128/);
  assert.throws(() => checkParamValue('X', -1, 'UINT8'), /takes 0 to 255, got -1/);
  assert.throws(() => checkParamValue('X', Number.NaN, 'REAL32'), /finite number, got NaN/);
  assert.throws(() => checkParamValue('X', 1, 'REAL64'), /PARAM_SET cannot carry/);
});

test('parameter types are named from MAV_PARAM_TYPE', () => {
  assert.equal(paramTypeName(2), 'INT8');
  assert.equal(paramTypeName(6), 'INT32');
  assert.equal(paramTypeName(9), 'REAL32');
  assert.equal(paramTypeName(0), null);
  assert.equal(paramTypeName(99), null);
});
