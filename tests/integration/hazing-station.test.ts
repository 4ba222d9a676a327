// A hazing pattern through a real station process: the built-in simulated drone, the demo
// video and the real detector give a bear track; over the real WebSocket the operator sets
// the hazing operator, takes off and starts an orbit on the bear. The station reads the
// simulator's failsafe parameters, switches to GUIDED and streams checked setpoints, and the
// simulated vehicle flies them: its position changes toward the orbit. Then ABORT holds
// (BRAKE) and the hazing log, beside the flight record, says what happened.
// Needs dist/ (node scripts/build.mjs), ffmpeg and ../shared's model.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { distanceM } from '../../app/core/geodesy';
import type { HazingEvent } from '../../app/core/hazing-log';
import type { ActionStatus, ServerMessage } from '../../app/core/protocol';
import type { CommandOutcome, LatLon, MapTarget, VehicleState } from '../../app/core/types';
import {
  stationEnv,
  stationMissing,
  StationProcess,
  YOLOX_MODEL as MODEL,
} from '../helpers/station';
import { StationClient, stationWsUrl } from '../helpers/station-client';

const TOKEN = 'hazing-station-test-operator-token';
// The detector takes about 130 ms a frame on a small machine; take-off takes tens of seconds.
const WAIT_MS = 120_000;
const OPERATOR = { operatorName: 'Test Biologist', agencyOrPermitId: 'MT-FWP-TEST-1' };
const RADIUS_M = 40;

let workDir: string;
before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-hazing-station-'));
});
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps only what the test judges by: a run brings hundreds of video frames. */
class Operator {
  vehicle: VehicleState | null = null;
  targets: MapTarget[] = [];
  readonly actions: ActionStatus[] = [];
  readonly events: HazingEvent[] = [];
  readonly other: ServerMessage[] = [];

  constructor(readonly client: StationClient) {
    client.onMessage((message) => {
      switch (message.type) {
        case 'vehicle':
          this.vehicle = message.vehicle;
          break;
        case 'targets':
          this.targets = message.targets;
          break;
        case 'action':
          if (message.action) this.actions.push(message.action);
          break;
        case 'hazing-event':
          this.events.push(message.event);
          break;
        case 'frame':
        case 'detections':
        case 'video-status':
        case 'links':
        case 'vehicles':
        case 'sim-truth':
          break;
        default:
          this.other.push(message);
      }
    });
  }

  command(command: Parameters<StationClient['command']>[0]): Promise<CommandOutcome> {
    return this.client.command(command);
  }
}

async function until<T>(what: string, probe: () => T | null | undefined, log: () => string) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await sleep(100);
  }
}

test(
  'an orbit started over the WebSocket flies the simulated drone; ABORT holds; it is logged',
  { skip: stationMissing([MODEL]), timeout: 360_000 },
  async (t) => {
    const recordDir = path.join(workDir, 'record');
    const station = StationProcess.start(
      [
        ...['--sim', '--video', 'demo', '--model', MODEL, '--serve', '127.0.0.1:0'],
        ...['--token', TOKEN, '--record', recordDir, '--zones', path.join(workDir, 'z.json')],
        // The demo's photos include a person near the bear: a small radius keeps them apart.
        ...['--person-radius', '10', '--bear-standoff', '15', '--speaker-relay', '0'],
      ],
      stationEnv(workDir),
    );
    t.after(() => station.stop());
    const served = await station.serveUrl(WAIT_MS);
    const client = await StationClient.open(stationWsUrl(served, TOKEN), {
      waitMs: WAIT_MS,
      keep: false,
    });
    t.after(() => client.close());
    const operator = new Operator(client);
    const log = () => station.log;

    // Hello's burst, to a client that keeps what it hears: no operator yet, nobody known,
    // the envelope from the options and the speaker.
    const greeted = await StationClient.open(stationWsUrl(served), { waitMs: WAIT_MS });
    t.after(() => greeted.close());
    const hello = await greeted.waitFor('hello', (m) => m.type === 'hello');
    assert.ok(hello.type === 'hello');
    assert.equal(hello.defaults.envelope.personRadiusM, 10);
    assert.equal(hello.defaults.envelope.bearStandoffM, 15);
    assert.equal(hello.defaults.speakerAvailable, true);
    const noOperator = await greeted.waitFor(
      'hazing-operator',
      (m) => m.type === 'hazing-operator',
    );
    assert.deepEqual(noOperator, { type: 'hazing-operator', operator: null });
    await greeted.waitFor('people', (m) => m.type === 'people');
    greeted.close();

    const takeoff = await operator.command({ kind: 'arm-takeoff', altitudeM: 20 });
    assert.equal(takeoff.ok, true, takeoff.text);

    // A pattern starts only in the air: on a busy machine the bear can be seen before the
    // climb has begun.
    await until(
      'the vehicle climbing past 5 m',
      () => ((operator.vehicle?.position?.altitudeRelM ?? 0) > 5 ? true : null),
      log,
    );
    const bear = await until(
      'a bear target',
      () => operator.targets.find((target) => target.className === 'bear'),
      log,
    );

    const orbit = {
      kind: 'orbit' as const,
      radiusM: RADIUS_M,
      speedMps: 4,
      altitudeAglM: 25,
      clockwise: true,
    };
    const refused = await operator.command({
      kind: 'start-pattern',
      targetId: bear.id,
      settings: orbit,
    });
    assert.equal(refused.ok, false);
    assert.match(refused.text, /^Pattern refused: set the hazing operator first/);

    const set = await operator.command({ kind: 'set-operator', operator: OPERATOR });
    assert.equal(set.ok, true, set.text);
    await until(
      'the operator broadcast',
      () =>
        operator.other.find(
          (m) => m.type === 'hazing-operator' && m.operator?.operatorName === 'Test Biologist',
        ),
      log,
    );

    // The bear must be seen again now: a pattern on a track the detector lost holds.
    const fresh = await until(
      'a fresh bear track',
      () =>
        operator.targets.find(
          (target) => target.className === 'bear' && Date.now() - target.lastSeenMs < 2000,
        ),
      log,
    );
    const vehicleAtStart = operator.vehicle?.position as NonNullable<VehicleState['position']>;
    const started = await operator.command({
      kind: 'start-pattern',
      targetId: fresh.id,
      settings: orbit,
    });
    assert.equal(started.ok, true, started.text);
    assert.match(started.text, new RegExp(`^Orbit started on bear #${fresh.id}: orbit radius`));

    // Setpoints go out (the status carries the newest) and the vehicle flies them.
    const flying = await until(
      'a setpoint sent',
      () => operator.actions.find((a) => a.phase === 'flying' && a.setpoint !== null),
      log,
    );
    assert.equal(flying.kind, 'orbit');
    assert.equal(flying.targetId, fresh.id);
    assert.equal(operator.vehicle?.modeName, 'GUIDED');
    await until(
      'the vehicle moving with the pattern',
      () => {
        const position = operator.vehicle?.position;
        return position && distanceM(position, vehicleAtStart) > 5 ? position : null;
      },
      log,
    );
    const setpoints = operator.actions
      .map((a) => a.setpoint)
      .filter((s): s is NonNullable<ActionStatus['setpoint']> => s !== null);
    for (const setpoint of setpoints) {
      assert.equal(setpoint.altitudeAglM, 25);
    }
    const first = setpoints[0] as LatLon;
    assert.ok(
      distanceM(first, vehicleAtStart) > 1,
      'the first setpoint is not where the drone was',
    );

    const speaker = await operator.command({ kind: 'speaker', on: true });
    assert.equal(speaker.ok, true, speaker.text);

    const abort = await operator.command({ kind: 'abort' });
    assert.equal(abort.ok, true, abort.text);
    assert.equal(abort.text, 'Holding position (BRAKE)');
    await until('BRAKE in telemetry', () => operator.vehicle?.modeName === 'BRAKE' || null, log);
    const aborted = await until(
      'the aborted status',
      () => operator.actions.find((a) => a.phase === 'aborted' && a.awaitingChoice),
      log,
    );
    assert.equal(aborted.setpoint, null);
    const ended = await until(
      'the event ended',
      () => operator.events.find((e) => e.outcome === 'aborted'),
      log,
    );
    assert.deepEqual(ended.operator, OPERATOR);
    assert.equal(ended.trackId, fresh.id);
    const actions = ended.actions.map((a) => a.action);
    assert.ok(actions.includes('speaker-on'), actions.join(', '));
    assert.ok(actions.includes('abort'), actions.join(', '));

    const land = await operator.command({ kind: 'land' });
    assert.equal(land.ok, true, land.text);

    // The hazing log sits beside the flight record and holds the same event.
    const files = readdirSync(recordDir);
    const logFile = files.find((name) => name.endsWith('.hazing.jsonl'));
    assert.ok(logFile, `no .hazing.jsonl in ${files.join(', ')}`);
    assert.ok(files.some((name) => name === logFile.replace('.hazing.jsonl', '.tlog')));
    const text = readFileSync(path.join(recordDir, logFile), 'utf8');
    assert.ok(text.includes(ended.id));
    assert.ok(existsSync(path.join(recordDir, logFile)));
  },
);
