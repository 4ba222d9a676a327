// The parameter protocol against the simulator in its own process, over real UDP on 127.0.0.1:
// the whole table through a radio that loses 30% of the datagrams, set and verify, and the
// values a vehicle clamps or refuses. Needs dist/station/sim.js (node scripts/build.mjs).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { arduCopterParamSpecs } from '../../app/station/sim/params';
import { LOSSY_LINK_OPTIONS, LOSSY_RADIO, startSimLink, waitForState } from '../helpers/sim';

const CONNECT_TIMEOUT_MS = 30_000;

test('the whole parameter table comes through 30% loss, complete and exact', async (t) => {
  const { link, sim, dispose } = await startSimLink({
    link: LOSSY_LINK_OPTIONS,
    sim: { loss: { ...LOSSY_RADIO, seed: 3003 } },
  });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');

  const progress: Array<{ received: number; total: number | null }> = [];
  const list = await link.readAllParams((p) => progress.push(p));
  const table = arduCopterParamSpecs();
  assert.equal(list.ok, true, list.text);
  assert.equal(list.text, `Read all parameters: ${table.length} parameters (ACCEPTED)`);
  assert.ok(table.length >= 300, `a realistic table has hundreds (${table.length})`);
  assert.deepEqual(
    list.params.map((p) => ({ name: p.name, type: p.type, value: p.value, index: p.index })),
    table.map((spec, index) => ({
      name: spec.name,
      type: spec.type,
      value: spec.type === 'REAL32' ? Math.fround(spec.value) : spec.value,
      index,
    })),
  );
  // Progress counted each new value once, up to the total.
  assert.deepEqual(
    progress.map((p) => p.received),
    Array.from({ length: table.length }, (_, i) => i + 1),
  );
  assert.equal(progress.at(-1)?.total, table.length);
  assert.equal(link.paramCache.get('FS_GCS_ENABLE')?.type, 'INT8');
  assert.equal(link.paramCache.get('FS_GCS_TIMEOUT')?.type, 'REAL32');
  assert.equal(link.paramCache.get('RTL_ALT')?.type, 'INT32');
  assert.equal(link.paramCache.get('WPNAV_SPEED')?.value, 1000);

  // Set and verify on the same bad radio: the vehicle holds exactly the new value.
  const set = await link.setParam('WPNAV_SPEED', 750.5);
  assert.equal(set.ok, true, set.text);
  assert.equal(set.text, 'Set WPNAV_SPEED to 750.5: the vehicle holds the new value (ACCEPTED)');
  assert.equal(set.param?.value, 750.5);
  const sets = sim.events('param-set').filter((e) => e.name === 'WPNAV_SPEED');
  assert.ok(sets.length >= 1 && sets.every((e) => e.value === 750.5 && e.result === 'set'));
  assert.equal((await link.readParam('WPNAV_SPEED')).param?.value, 750.5);
});

test('set and verify: held, clamped, read-only and bad values reported', async (t) => {
  const { link, sim, dispose } = await startSimLink({ link: { paramTimeoutMs: 300 } });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');

  // The type comes from reading the parameter first, since the table was not downloaded.
  // On by default in the simulator (a hazing airframe is set up with it): switched off here.
  const enable = await link.setParam('FS_GCS_ENABLE', 0);
  assert.deepEqual(
    { ok: enable.ok, result: enable.result, text: enable.text },
    {
      ok: true,
      result: 'ACCEPTED',
      text: 'Set FS_GCS_ENABLE to 0: the vehicle holds the new value (ACCEPTED)',
    },
  );
  assert.deepEqual(
    { name: enable.param?.name, value: enable.param?.value, type: enable.param?.type },
    { name: 'FS_GCS_ENABLE', value: 0, type: 'INT8' },
  );

  const clamped = await link.setParam('FS_GCS_TIMEOUT', 500);
  assert.equal(clamped.ok, false);
  assert.equal(clamped.result, 'CLAMPED');
  assert.equal(
    clamped.text,
    'Set FS_GCS_TIMEOUT to 500 refused: the vehicle set 120 instead (its limit) (CLAMPED)',
  );

  const readOnly = await link.setParam('FORMAT_VERSION', 7);
  assert.equal(readOnly.result, 'REFUSED');
  assert.equal(readOnly.text, 'Set FORMAT_VERSION to 7 refused: the vehicle kept 120 (REFUSED)');
  await waitForState(
    link,
    (s) => s.statusTexts.some((x) => x.text === 'Param write denied (FORMAT_VERSION)'),
    5000,
    'the vehicle saying why',
  );

  const unknown = await link.setParam('NO_SUCH_PARAM', 1);
  assert.equal(unknown.result, 'TIMEOUT');
  assert.equal(
    unknown.text,
    'Set NO_SUCH_PARAM failed: no answer from the vehicle ' +
      '(does it have a parameter named NO_SUCH_PARAM?) (TIMEOUT)',
  );

  await assert.rejects(
    link.setParam('RTL_ALT', 12.5),
    /RTL_ALT is an integer parameter \(INT32\); 12\.5/,
  );
  await assert.rejects(
    link.setParam('FS_GCS_ENABLE', 300),
    /FS_GCS_ENABLE \(INT8\) takes -128 to 127, got 300/,
  );
  await assert.rejects(link.setParam('A_NAME_TOO_LONG_FOR_MAVLINK', 1), /1 to 16 characters/);

  const read = await link.readParam('RTL_ALT');
  assert.equal(read.text, 'Read RTL_ALT: 1500 (ACCEPTED)');
  assert.deepEqual(
    sim.events('param-set').map((e) => [e.name, e.value, e.result]),
    [
      ['FS_GCS_ENABLE', 0, 'set'],
      ['FS_GCS_TIMEOUT', 120, 'clamped'],
      ['FS_GCS_TIMEOUT', 120, 'clamped'],
      ['FORMAT_VERSION', 120, 'read-only'],
      ['FORMAT_VERSION', 120, 'read-only'],
    ],
    'a second PARAM_SET confirmed each surprising answer before it was reported',
  );
});
