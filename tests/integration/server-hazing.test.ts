// The server's side of hazing: every new command checked field by field before the station
// sees it, observers refused all of them, and the hazing log downloaded as JSON and CSV over
// real HTTP on 127.0.0.1, from a station whose log is a real HazingLogStore.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { Disposable } from '../../app/core/disposable';
import { DEFAULT_ENVELOPE } from '../../app/core/envelope';
import { HAZING_CSV_COLUMNS } from '../../app/core/hazing-log';
import { PATTERN_DEFAULTS, type PatternSettings } from '../../app/core/patterns';
import type { OperatorCommand, Role, ServerMessage } from '../../app/core/protocol';
import type { CommandOutcome } from '../../app/core/types';
import { HazingLogStore } from '../../app/station/hazing/hazing-log-store';
import { parseClientMessage, startServer, type StationApi } from '../../app/station/server';
import { StationClient, stationWsUrl } from '../helpers/station-client';

const TOKEN = 'server-hazing-test-operator-token';
const WAIT_MS = 10_000;
const CONRAD = { latDeg: 48.17, lonDeg: -111.95 };
const PUSH: PatternSettings = { ...PATTERN_DEFAULTS.push, safeBearingDeg: 270 };
const OPERATOR = { operatorName: 'Ada Grizzly', agencyOrPermitId: 'MT FWP 2026-17' };

let workDir: string;
before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-server-hazing-'));
  writeFileSync(path.join(workDir, 'index.html'), '<!doctype html><title>Ursa</title>');
});
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const parse = (command: unknown) =>
  parseClientMessage(JSON.stringify({ type: 'command', requestId: 'r1', command }));

function parsed(command: unknown): OperatorCommand {
  const result = parse(command);
  assert.ok('message' in result, `${JSON.stringify(command)}: ${JSON.stringify(result)}`);
  return result.message.command;
}

test('hazing commands parse into exactly what the station gets', () => {
  assert.deepEqual(parsed({ kind: 'start-pattern', targetId: 4, settings: PUSH }), {
    kind: 'start-pattern',
    targetId: 4,
    settings: PUSH,
  });
  const search = parsed({
    kind: 'start-pattern',
    targetId: null,
    settings: {
      ...PATTERN_DEFAULTS.search,
      polygon: [CONRAD, { latDeg: 48.171, lonDeg: -111.95 }, { latDeg: 48.171, lonDeg: -111.949 }],
    },
  });
  assert.equal(search.kind === 'start-pattern' && search.targetId, null);
  assert.deepEqual(parsed({ kind: 'nudge', nudge: { bearingDeltaDeg: -15 } }), {
    kind: 'nudge',
    nudge: { bearingDeltaDeg: -15 },
  });
  assert.deepEqual(
    parsed({ kind: 'nudge', nudge: { bearingDeltaDeg: 180, distanceDeltaM: -200, extra: 1 } }),
    { kind: 'nudge', nudge: { bearingDeltaDeg: 180, distanceDeltaM: -200 } },
  );
  assert.deepEqual(parsed({ kind: 'abort' }), { kind: 'abort' });
  assert.deepEqual(parsed({ kind: 'return-home' }), { kind: 'return-home' });
  assert.deepEqual(parsed({ kind: 'land' }), { kind: 'land' });
  assert.deepEqual(parsed({ kind: 'speaker', on: true }), { kind: 'speaker', on: true });
  assert.deepEqual(parsed({ kind: 'speaker', on: false }), { kind: 'speaker', on: false });
  assert.deepEqual(
    parsed({ kind: 'set-operator', operator: { operatorName: ' Ada ', agencyOrPermitId: 'P-1 ' } }),
    { kind: 'set-operator', operator: { operatorName: 'Ada', agencyOrPermitId: 'P-1' } },
  );
  assert.deepEqual(parsed({ kind: 'mark-person', position: { ...CONRAD, altitudeM: 3 } }), {
    kind: 'mark-person',
    position: CONRAD,
  });
  assert.deepEqual(parsed({ kind: 'remove-person', personId: 'mark-3' }), {
    kind: 'remove-person',
    personId: 'mark-3',
  });
});

test('bad hazing commands are refused with the field named, back to the asker', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ kind: 'push', targetId: 1 }, /unknown command kind "push"/],
    [
      { kind: 'start-pattern', settings: PUSH },
      /targetId null or a whole number from 1, not undefined/,
    ],
    [{ kind: 'start-pattern', targetId: 0, settings: PUSH }, /targetId null or a whole number/],
    [{ kind: 'start-pattern', targetId: 2.5, settings: PUSH }, /not 2\.5/],
    [{ kind: 'start-pattern', targetId: '3', settings: PUSH }, /not "3"/],
    [{ kind: 'start-pattern', targetId: 3 }, /start-pattern/],
    [{ kind: 'start-pattern', targetId: 3, settings: { ...PUSH, kind: 'spiral' } }, /spiral/],
    [{ kind: 'start-pattern', targetId: 3, settings: { ...PUSH, standoffM: 5 } }, /standoffM/],
    [
      { kind: 'start-pattern', targetId: 3, settings: { ...PUSH, altitudeAglM: 500 } },
      /altitudeAglM/,
    ],
    [{ kind: 'nudge' }, /nudge needs a nudge/],
    [{ kind: 'nudge', nudge: {} }, /nudge needs bearingDeltaDeg or distanceDeltaM/],
    [
      { kind: 'nudge', nudge: { bearingDeltaDeg: 181 } },
      /bearingDeltaDeg 181 is not a number in -180\.\.180/,
    ],
    [
      { kind: 'nudge', nudge: { distanceDeltaM: -201 } },
      /distanceDeltaM -201 is not a number in -200\.\.200/,
    ],
    [{ kind: 'nudge', nudge: { distanceDeltaM: '5' } }, /distanceDeltaM "5"/],
    [{ kind: 'nudge', nudge: { bearingDeltaDeg: null } }, /bearingDeltaDeg null/],
    [{ kind: 'speaker' }, /speaker needs on: true or false/],
    [{ kind: 'speaker', on: 'yes' }, /speaker needs on: true or false/],
    [{ kind: 'set-operator' }, /set-operator: hazing operator must be an object/],
    [
      { kind: 'set-operator', operator: { operatorName: 'Ada', agencyOrPermitId: '  ' } },
      /set-operator: agency or permit id \(agencyOrPermitId\) is required: it is empty/,
    ],
    [{ kind: 'mark-person' }, /mark-person needs a position/],
    [
      { kind: 'mark-person', position: { latDeg: 91, lonDeg: 0 } },
      /latDeg 91 is not a number in -90\.\.90/,
    ],
    [{ kind: 'mark-person', position: { latDeg: 48, lonDeg: 'x' } }, /lonDeg "x"/],
    [{ kind: 'remove-person' }, /remove-person needs a personId of 1-40 printable characters/],
    [{ kind: 'remove-person', personId: '' }, /personId of 1-40/],
    [{ kind: 'remove-person', personId: 'mark 3\n' }, /personId of 1-40/],
    [{ kind: 'remove-person', personId: 'x'.repeat(41) }, /personId of 1-40/],
  ];
  for (const [command, expected] of cases) {
    const result = parse(command);
    assert.ok('error' in result, `accepted ${JSON.stringify(command)}`);
    assert.match(result.error, expected, JSON.stringify(command));
    assert.equal(result.requestId, 'r1');
  }
});

/** A station that keeps a real hazing log and does only what the hazing commands ask of it. */
class HazingStation implements StationApi {
  readonly executed: OperatorCommand[] = [];
  readonly log: HazingLogStore;
  private readonly listeners = new Set<(message: ServerMessage) => void>();
  private eventId: string | null = null;

  constructor(filePath: string) {
    this.log = new HazingLogStore({ filePath });
  }

  hello(role: Role): Extract<ServerMessage, { type: 'hello' }> {
    return {
      type: 'hello',
      role,
      tiles: { kind: 'offline', urlTemplate: '/tiles/{z}/{x}/{y}', attribution: '', maxZoom: 18 },
      defaults: {
        takeoffAltitudeM: 20,
        standoffM: 40,
        pushAltitudeM: 25,
        envelope: DEFAULT_ENVELOPE,
        speakerAvailable: true,
      },
      mapCenter: CONRAD,
    };
  }

  snapshot(): ServerMessage[] {
    return [{ type: 'hazing-operator', operator: this.log.operator }];
  }

  onMessage(listener: (message: ServerMessage) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  async execute(command: OperatorCommand): Promise<CommandOutcome> {
    this.executed.push(command);
    const ok = (text: string): CommandOutcome => ({ ok: true, result: 'ACCEPTED', text });
    switch (command.kind) {
      case 'set-operator':
        this.log.setOperator(command.operator);
        return ok(`hazing as ${command.operator.operatorName}`);
      case 'start-pattern': {
        const event = this.log.start({
          trackId: command.targetId,
          pattern: command.settings,
          startedMs: Date.now(),
          bearStart: CONRAD,
          droneStart: { latDeg: 48.1703, lonDeg: -111.95 },
        });
        this.eventId = event.id;
        return ok(`started ${event.id}`);
      }
      case 'nudge':
        this.log.action(this.eventId!, 'nudge', JSON.stringify(command.nudge));
        return ok('nudged');
      case 'abort':
        this.log.action(this.eventId!, 'abort', 'operator pressed ABORT');
        this.log.end(this.eventId!, {
          outcome: 'aborted',
          bearEnd: { latDeg: 48.17, lonDeg: -111.953 },
          droneEnd: null,
        });
        return ok('holding');
      default:
        return ok(command.kind);
    }
  }

  hazingLog(): { json: string; csv: string } {
    return { json: this.log.toJson(), csv: this.log.toCsv() };
  }
}

async function get(url: string, method = 'GET') {
  const response = await fetch(url, { method });
  return { response, body: await response.text() };
}

test(
  'operators haze and observers cannot; the log downloads as JSON and CSV',
  { timeout: 60_000 },
  async (t) => {
    const station = new HazingStation(path.join(workDir, 'flight', 'hazing-log.jsonl'));
    t.after(() => station.log.dispose());
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      api: station,
      operatorToken: TOKEN,
      tiles: null,
      uiDir: workDir,
    });
    t.after(() => server.dispose());
    const operator = await StationClient.open(stationWsUrl(server.url, TOKEN), { waitMs: WAIT_MS });
    t.after(() => operator.close());
    const observer = await StationClient.open(stationWsUrl(server.url), { waitMs: WAIT_MS });
    t.after(() => observer.close());
    await operator.waitFor('hello', (m) => m.type === 'hello' && m.role === 'operator');
    await observer.waitFor('hello', (m) => m.type === 'hello' && m.role === 'observer');

    // Observers are refused every hazing command, and the station never sees one.
    const attempts: Array<[OperatorCommand, RegExp]> = [
      [{ kind: 'set-operator', operator: OPERATOR }, /Observers cannot set the hazing operator/],
      [{ kind: 'start-pattern', targetId: 1, settings: PUSH }, /cannot command the vehicle/],
      [{ kind: 'nudge', nudge: { bearingDeltaDeg: 10 } }, /cannot command the vehicle/],
      [{ kind: 'abort' }, /cannot command the vehicle \(abort refused\)/],
      [{ kind: 'return-home' }, /cannot command the vehicle/],
      [{ kind: 'land' }, /cannot command the vehicle \(land refused\)/],
      [{ kind: 'speaker', on: true }, /cannot command the vehicle \(speaker refused\)/],
      [{ kind: 'mark-person', position: CONRAD }, /Observers cannot mark or remove people/],
      [{ kind: 'remove-person', personId: 'mark-1' }, /cannot mark or remove people/],
    ];
    for (const [command, expected] of attempts) {
      const outcome = await observer.command(command);
      assert.equal(outcome.ok, false, command.kind);
      assert.equal(outcome.result, 'DENIED', command.kind);
      assert.match(outcome.text, expected);
    }
    assert.equal(station.executed.length, 0, "the station never saw an observer's command");

    // The operator's commands reach the station, checked and cleaned.
    const set = await operator.command({
      kind: 'set-operator',
      operator: { operatorName: '  Ada Grizzly', agencyOrPermitId: 'MT FWP 2026-17 ' },
    });
    assert.equal(set.ok, true, set.text);
    assert.deepEqual(station.log.operator, OPERATOR);
    assert.equal(
      (await operator.command({ kind: 'start-pattern', targetId: 5, settings: PUSH })).ok,
      true,
    );
    assert.equal(
      (
        await operator.command({
          kind: 'nudge',
          nudge: { bearingDeltaDeg: -10, distanceDeltaM: 5 },
        })
      ).ok,
      true,
    );
    assert.equal((await operator.command({ kind: 'abort' })).ok, true);
    const bad = await operator.command({ kind: 'nudge', nudge: { bearingDeltaDeg: 999 } });
    assert.equal(bad.result, 'NOT_SENT');
    assert.match(bad.text, /bearingDeltaDeg 999 is not a number in -180\.\.180/);
    assert.deepEqual(
      station.executed.map((command) => command.kind),
      ['set-operator', 'start-pattern', 'nudge', 'abort'],
    );

    // JSON: the whole log, with a dated download name.
    const day = new Date().toISOString().slice(0, 10);
    const json = await get(`${server.url}hazing-log.json`);
    assert.equal(json.response.status, 200);
    assert.equal(json.response.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(
      json.response.headers.get('content-disposition'),
      `attachment; filename="ursa-hazing-log-${day}.json"`,
    );
    assert.equal(json.response.headers.get('cache-control'), 'no-store');
    assert.equal(json.response.headers.get('x-content-type-options'), 'nosniff');
    const body = JSON.parse(json.body) as {
      operator: unknown;
      events: Array<Record<string, unknown>>;
    };
    assert.deepEqual(body.operator, OPERATOR);
    assert.equal(body.events.length, 1);
    const [event] = body.events;
    assert.equal(event.trackId, 5);
    assert.deepEqual(event.pattern, PUSH);
    assert.equal(event.outcome, 'aborted');
    assert.deepEqual(
      (event.actions as Array<{ action: string; detail: string }>).map((a) => [a.action, a.detail]),
      [
        ['start', 'push bear track 5'],
        ['nudge', '{"bearingDeltaDeg":-10,"distanceDeltaM":5}'],
        ['abort', 'operator pressed ABORT'],
      ],
    );
    assert.ok((event.bearMovedM as number) > 200, 'the bear moved about 222 m west');

    // CSV: a header and one row, named for the day.
    const csv = await get(`${server.url}hazing-log.csv`);
    assert.equal(csv.response.status, 200);
    assert.equal(
      csv.response.headers.get('content-type'),
      'text/csv; charset=utf-8; header=present',
    );
    assert.equal(
      csv.response.headers.get('content-disposition'),
      `attachment; filename="ursa-hazing-log-${day}.csv"`,
    );
    const rows = csv.body.split('\r\n');
    assert.equal(rows[0], HAZING_CSV_COLUMNS.join(','));
    assert.match(rows[1], /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-1,Ada Grizzly,MT FWP 2026-17,5,push,/);
    assert.match(rows[1], /,aborted,/);
    assert.equal(rows.length, 3, 'header, one event, the final line break');
    assert.equal(csv.body, station.log.toCsv());

    const head = await get(`${server.url}hazing-log.csv`, 'HEAD');
    assert.equal(head.response.status, 200);
    assert.equal(head.body, '');
    assert.equal(Number(head.response.headers.get('content-length')), Buffer.byteLength(csv.body));
    const post = await get(`${server.url}hazing-log.json`, 'POST');
    assert.equal(post.response.status, 405);
  },
);

test('a station without a hazing log answers its downloads with 404', async (t) => {
  const plain = new HazingStation(path.join(workDir, 'plain', 'log.jsonl'));
  t.after(() => plain.log.dispose());
  const api: StationApi = {
    hello: (role) => plain.hello(role),
    snapshot: () => [],
    onMessage: (listener) => plain.onMessage(listener),
    execute: (command) => plain.execute(command),
  };
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    api,
    operatorToken: TOKEN,
    tiles: null,
    uiDir: workDir,
  });
  t.after(() => server.dispose());
  for (const file of ['hazing-log.json', 'hazing-log.csv']) {
    const { response, body } = await get(`${server.url}${file}`);
    assert.equal(response.status, 404, file);
    assert.equal(body, 'this station keeps no hazing log\n');
  }
});
