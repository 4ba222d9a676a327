import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { offsetNorthEast } from '../../app/core/geodesy';
import { parseZonesFile } from '../../app/core/zones';
import { zonesPathProblem, ZoneStore } from '../../app/station/zones-store';

const CONRAD = { latDeg: 48.17, lonDeg: -111.95 };
const SQUARE = [
  offsetNorthEast(CONRAD, 0, 0),
  offsetNorthEast(CONRAD, 0, 50),
  offsetNorthEast(CONRAD, 50, 50),
  offsetNorthEast(CONRAD, 50, 0),
];
let dir: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-zones-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('zones are added, changed and deleted, and the file follows', () => {
  const file = path.join(dir, 'new', 'folder', 'zones.json');
  const store = ZoneStore.open(file);
  assert.equal(store.loadError, null, 'no file yet is no error');
  assert.equal(store.zones.length, 0);

  const silo = store.save({ name: 'Silo', alertDistanceM: 40, polygon: SQUARE });
  assert.equal(silo.created, true);
  assert.equal(silo.zone.id, 1);
  const yard = store.save({ name: 'Yard', alertDistanceM: 0, polygon: SQUARE }).zone;
  assert.equal(yard.id, 2);
  const renamed = store.save({ id: 1, name: 'Grain silo', alertDistanceM: 60, polygon: SQUARE });
  assert.equal(renamed.created, false);
  assert.deepEqual(parseZonesFile(readFileSync(file, 'utf8'), file), store.zones);
  assert.deepEqual(
    store.zones.map((z) => [z.id, z.name]),
    [
      [1, 'Grain silo'],
      [2, 'Yard'],
    ],
  );

  assert.equal(store.delete(2).name, 'Yard');
  assert.throws(() => store.delete(2), /zone 2 does not exist/);
  assert.throws(
    () => store.save({ id: 9, name: 'Gone', alertDistanceM: 1, polygon: SQUARE }),
    /zone 9 does not exist/,
  );
  assert.throws(() => store.save({ name: 'Line', alertDistanceM: 1, polygon: [] }), /0 corners/);
  // Reopening reads what was saved; new ids never reuse a live one.
  const again = ZoneStore.open(file);
  assert.deepEqual(again.zones, store.zones);
  assert.equal(again.save({ name: 'School', alertDistanceM: 5, polygon: SQUARE }).zone.id, 2);
});

test('a bad file gives no zones and a reason, and is kept aside on the next save', () => {
  const folder = path.join(dir, 'bad');
  mkdirSync(folder);
  const file = path.join(folder, 'zones.json');
  writeFileSync(file, '{"version":1,"zones":[{"id":1,"name":"Silo","alertDistanceM":-3}]}');
  const store = ZoneStore.open(file);
  assert.deepEqual(store.zones, []);
  assert.match(store.loadError ?? '', /zone 1 of .*zones\.json "Silo": alertDistanceM -3/);

  store.save({ name: 'Silo', alertDistanceM: 3, polygon: SQUARE });
  assert.equal(store.loadError, null);
  const names = readdirSync(folder).sort();
  assert.equal(names.length, 2);
  assert.ok(names[1].startsWith('zones.json.bad-'), names.join(', '));
  assert.match(readFileSync(path.join(folder, names[1]), 'utf8'), /"alertDistanceM":-3/);
});

test('a folder named as the zones file is refused and never renamed or replaced', () => {
  const folder = path.join(dir, 'zones-folder');
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'notes.txt'), 'keep me');
  assert.match(zonesPathProblem(folder) ?? '', /zones-folder is a folder: give --zones a file/);
  assert.equal(zonesPathProblem(path.join(folder, 'zones.json')), null, 'missing is fine');

  const store = ZoneStore.open(folder);
  assert.deepEqual(store.zones, []);
  assert.match(store.loadError ?? '', /zones-folder is a folder/);
  assert.throws(
    () => store.save({ name: 'Silo', alertDistanceM: 3, polygon: SQUARE }),
    /cannot save zones: the zones file .*zones-folder is a folder/,
  );
  assert.deepEqual(store.zones, []);
  assert.deepEqual(readdirSync(folder), ['notes.txt']);
  assert.equal(readFileSync(path.join(folder, 'notes.txt'), 'utf8'), 'keep me');
  assert.deepEqual(
    readdirSync(dir).filter((name) => name.startsWith('zones-folder')),
    ['zones-folder'],
    'nothing renamed aside',
  );
});

test('a zones file that cannot be written is an error, and nothing changes', (t) => {
  if (process.getuid?.() === 0) {
    t.skip('root writes into read-only folders');
    return;
  }
  const folder = path.join(dir, 'read-only');
  mkdirSync(folder);
  const store = ZoneStore.open(path.join(folder, 'zones.json'));
  chmodSync(folder, 0o500);
  try {
    assert.throws(
      () => store.save({ name: 'Silo', alertDistanceM: 3, polygon: SQUARE }),
      /cannot write the zones file .*zones\.json \(EACCES\)/,
    );
    assert.deepEqual(store.zones, []);
  } finally {
    chmodSync(folder, 0o700);
  }
});

test('zone kinds are saved, replaced and read back; an old file without kinds loads', () => {
  const file = path.join(dir, 'kinds', 'zones.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      zones: [{ id: 1, name: 'Silo', alertDistanceM: 40, polygon: SQUARE }],
    }),
  );
  const store = ZoneStore.open(file);
  assert.equal(store.loadError, null);
  assert.equal(store.zones[0].kind, undefined, 'a zone from before kinds is protected');

  const fence = store.save({ name: 'Ranch', kind: 'fence', alertDistanceM: 0, polygon: SQUARE });
  assert.equal(fence.zone.kind, 'fence');
  store.save({ id: 1, name: 'Silo', kind: 'no-fly', alertDistanceM: 40, polygon: SQUARE });
  assert.throws(
    () => store.save({ name: 'Moat', kind: 'moat', alertDistanceM: 0, polygon: SQUARE }),
    /kind "moat" is not one of protected, no-fly, fence, safe/,
  );
  const reopened = ZoneStore.open(file);
  assert.deepEqual(
    reopened.zones.map((zone) => [zone.id, zone.name, zone.kind]),
    [
      [1, 'Silo', 'no-fly'],
      [2, 'Ranch', 'fence'],
    ],
  );
  assert.deepEqual(parseZonesFile(readFileSync(file, 'utf8'), file), reopened.zones);
});
