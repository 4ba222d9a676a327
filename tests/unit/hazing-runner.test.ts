// The station's pattern runner with a fake vehicle link: what it refuses to start, the setpoints
// it streams, the hold on a broken rule (once, not five times a second), silence after the
// link is lost, ABORT stopping the step timer before anything else, the camera led onto the
// bear, and the hazing log it writes. The real envelope, patterns, failsafe check and log.

import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';

import { common } from 'node-mavlink';

import { DEFAULT_ENVELOPE, type EnvelopeLimits } from '../../app/core/envelope';
import { distanceM, northEastOf, offsetNorthEast } from '../../app/core/geodesy';
import type { PatternSettings } from '../../app/core/patterns';
import type { ActionStatus } from '../../app/core/protocol';
import type { CommandOutcome, LatLon, MapTarget, VehicleState } from '../../app/core/types';
import type { Terrain } from '../../app/core/terrain';
import type { ProtectedZone } from '../../app/core/zones';
import { HazingLogStore } from '../../app/station/hazing/hazing-log-store';
import { HazingRunner, type RunnerLink } from '../../app/station/hazing/runner';
import { build } from '../../app/station/mavlink/codec';
import { CommandSender } from '../../app/station/mavlink/commands';
import { commandOutcome } from '../../app/station/mavlink/outcome';
import { regionOfInterestCommand, setModeCommand } from '../../app/station/mavlink/requests';
import { flyingVehicle } from '../helpers/vehicle-state';

const HOME = { latDeg: 48.17, lonDeg: -111.95, altitudeMslM: 1060 };
const STEP_MS = 20;
const OPERATOR = { operatorName: 'R. Biologist', agencyOrPermitId: 'MT-FWP-2026-17' };
const ORBIT: PatternSettings = {
  kind: 'orbit',
  radiusM: 40,
  speedMps: 5,
  altitudeAglM: 25,
  clockwise: true,
};

const accepted = (text: string): CommandOutcome => ({ ok: true, result: 'ACCEPTED', text });

interface Call {
  what: string;
  args: unknown[];
  steppingAtCall: boolean;
}

/** A vehicle flying in GUIDED 25 m up over home; it records everything it is asked. */
class FakeLink implements RunnerLink {
  state: VehicleState = flyingVehicle(
    { ...HOME, altitudeRelM: 25, altitudeMslM: HOME.altitudeMslM + 25 },
    HOME,
    {
      velocity: null,
      attitude: null,
      battery: { voltageV: 16, currentA: 10, remainingPct: 90 },
      gps: null,
    },
  );
  readonly paramCache = new Map<string, { value: number }>();
  readonly params: Record<string, number> = {
    FS_GCS_ENABLE: 1,
    FS_GCS_TIMEOUT: 5,
    BATT_MONITOR: 4,
    BATT_FS_LOW_ACT: 2,
  };
  readonly calls: Call[] = [];
  runner: HazingRunner | null = null;
  /** Modes the vehicle refuses. */
  readonly refusedModes = new Set<string>();
  /** What each mode switch pre-empted, in order (null: nothing). */
  readonly preempts: Array<string | null> = [];
  /** When set, mode switches go out through the station's own command sender (see onWire). */
  private commands: CommandSender | null = null;
  /** Custom mode of each DO_SET_MODE put on the wire. */
  readonly wire: number[] = [];
  /** While set, parameter reads wait for it: a slow radio. */
  readGate: Promise<void> | null = null;

  private record(what: string, ...args: unknown[]): void {
    this.calls.push({ what, args, steppingAtCall: this.runner?.stepping ?? false });
  }

  targetsSent(): Array<LatLon & { altitudeRelM: number }> {
    return this.calls
      .filter((call) => call.what === 'target')
      .map((call) => call.args[0] as LatLon & { altitudeRelM: number });
  }

  /**
   * From now on mode switches go through a real CommandSender, one at a time as VehicleLink
   * sends them, and wait for the test to answer (ack).
   */
  onWire(): void {
    this.commands = new CommandSender({
      send: (message) => {
        if (message instanceof common.CommandLong) this.wire.push(message._param2);
      },
      ownSystemId: 255,
      ownComponentId: 190,
      // No resends on their own: every copy on the wire is one the runner caused.
      ackTimeoutMs: 60_000,
      attempts: 4,
      inProgressTimeoutMs: 60_000,
      duplicateGuardMs: 60_000,
    });
  }

  /** One COMMAND_ACK of DO_SET_MODE from the vehicle. */
  ack(result: common.MavResult): void {
    const ack = build(common.CommandAck, {
      command: common.MavCmd.DO_SET_MODE,
      result,
      progress: 0,
      resultParam2: 0,
      targetSystem: 255,
      targetComponent: 190,
    });
    this.commands?.handleAck(ack, this.state.systemId);
  }

  dispose(): void {
    this.commands?.dispose();
  }

  async setMode(modeName: string, options: { preempt?: string } = {}): Promise<CommandOutcome> {
    this.record('mode', modeName);
    this.preempts.push(options.preempt ?? null);
    if (this.commands) {
      const planned = setModeCommand(modeName);
      const vehicle = { systemId: this.state.systemId, componentId: 1 };
      const answer = await this.commands.run(planned.request, vehicle, options);
      const outcome = commandOutcome(planned.action, answer.result, answer.reason);
      if (outcome.ok) this.state = { ...this.state, modeName: planned.modeName };
      return outcome;
    }
    if (this.refusedModes.has(modeName)) {
      return { ok: false, result: 'FAILED', text: `Switch to ${modeName}: FAILED` };
    }
    this.state = { ...this.state, modeName };
    return accepted(`Switch to ${modeName}: ACCEPTED`);
  }

  /** A perfect vehicle: it is where it was sent by the next step. */
  sendPositionTarget(target: LatLon & { altitudeRelM: number }): boolean {
    this.record('target', { ...target });
    this.state = {
      ...this.state,
      position: { ...target, altitudeMslM: HOME.altitudeMslM + target.altitudeRelM },
    };
    return true;
  }

  async setRegionOfInterest(point: LatLon & { altitudeMslM: number }): Promise<CommandOutcome> {
    this.record('roi', { ...point });
    return accepted('Point camera: ACCEPTED');
  }

  async setGimbal(pitchDeg: number, yawDeg: number): Promise<CommandOutcome> {
    this.record('gimbal', pitchDeg, yawDeg);
    return accepted('Gimbal: ACCEPTED');
  }

  async readParam(name: string): Promise<{ ok: boolean; param: { value: number } | null }> {
    this.record('read', name);
    if (this.readGate) await this.readGate;
    const value = this.params[name];
    return value === undefined ? { ok: false, param: null } : { ok: true, param: { value } };
  }

  async setRelay(relay: number, on: boolean): Promise<CommandOutcome> {
    this.record('relay', relay, on);
    return accepted(`Relay ${relay} ${on ? 'on' : 'off'}: ACCEPTED`);
  }
}

interface Rig {
  link: FakeLink;
  runner: HazingRunner;
  log: HazingLogStore;
  statuses: ActionStatus[];
  logs: string[];
  bear: MapTarget;
  people: LatLon[];
  zones: ProtectedZone[];
  linkUp: { value: boolean };
  /** How long ago the tracker last saw the bear, each time it is asked. */
  bearAgeMs: number;
}

const rigs: Rig[] = [];
afterEach(() => {
  for (const rig of rigs.splice(0)) {
    rig.runner.dispose();
    rig.link.dispose();
    rig.log.dispose();
  }
});

function makeRig(
  options: {
    limits?: Partial<EnvelopeLimits>;
    speakerRelay?: number | null;
    terrain?: Terrain;
  } = {},
): Rig {
  const link = new FakeLink();
  const log = new HazingLogStore({ filePath: null });
  const statuses: ActionStatus[] = [];
  const logs: string[] = [];
  const bear: MapTarget = {
    id: 7,
    className: 'bear',
    position: offsetNorthEast(HOME, 80, 0),
    score: 0.9,
    firstSeenMs: Date.now(),
    lastSeenMs: Date.now(),
    hits: 30,
    speedMps: 0,
    courseDeg: null,
  };
  const rig: Rig = {
    link,
    log,
    statuses,
    logs,
    bear,
    people: [],
    zones: [],
    linkUp: { value: true },
    bearAgeMs: 0,
    runner: null as unknown as HazingRunner,
  };
  rig.runner = new HazingRunner({
    link: () => link,
    linkUp: () => rig.linkUp.value,
    // Seen just now, every time it is asked (a live track), unless bearAgeMs says otherwise.
    targets: () => [{ ...rig.bear, lastSeenMs: Date.now() - rig.bearAgeMs }],
    zones: () => rig.zones,
    people: () => rig.people,
    hazingLog: log,
    limits: { ...DEFAULT_ENVELOPE, ...options.limits },
    camera: { horizontalFovDeg: 60, verticalFovDeg: 45 },
    imageWidthPx: () => 640,
    speakerRelay: options.speakerRelay ?? null,
    terrain: options.terrain ?? null,
    onStatus: (status) => {
      if (status) statuses.push(status);
    },
    onLog: (_level, text) => logs.push(text),
    stepIntervalMs: STEP_MS,
  });
  link.runner = rig.runner;
  rigs.push(rig);
  return rig;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('refused without an operator, a bear, a safe distance or safe failsafes', async () => {
  const rig = makeRig({ limits: { bearStandoffM: 50 } });
  let outcome = await rig.runner.start(7, ORBIT);
  assert.equal(outcome.ok, false);
  assert.match(outcome.text, /^Pattern refused: set the hazing operator first/);

  rig.log.setOperator(OPERATOR);
  outcome = await rig.runner.start(7, ORBIT);
  assert.match(
    outcome.text,
    new RegExp(
      "Pattern refused: the orbit's distance from the bear, 40 m, is inside the envelope's " +
        'bear standoff of 50 m\\.',
    ),
  );

  outcome = await rig.runner.start(7, { ...ORBIT, radiusM: 3 });
  assert.match(outcome.text, /^Pattern refused: .*radiusM 3 is outside/);

  rig.bear = { ...rig.bear, className: 'person' };
  outcome = await rig.runner.start(7, { ...ORBIT, radiusM: 60 });
  assert.equal(outcome.text, 'Pattern refused: target 7 is a person, not a bear.');
  rig.bear = { ...rig.bear, className: 'bear' };

  outcome = await rig.runner.start(99, { ...ORBIT, radiusM: 60 });
  assert.equal(outcome.text, 'Pattern refused: target 99 is no longer tracked.');

  rig.link.state = { ...rig.link.state, modeName: 'RTL' };
  outcome = await rig.runner.start(7, { ...ORBIT, radiusM: 60 });
  assert.match(
    outcome.text,
    /^Pattern refused: the vehicle is in RTL \(perhaps its own failsafe\)/,
  );
  rig.link.state = { ...rig.link.state, modeName: 'GUIDED' };

  const battery = rig.link.state.battery;
  rig.link.state = { ...rig.link.state, battery: null };
  outcome = await rig.runner.start(7, { ...ORBIT, radiusM: 60 });
  assert.equal(
    outcome.text,
    'Pattern refused: the vehicle reports no battery level, so the way home cannot be kept.',
  );
  rig.link.state = { ...rig.link.state, battery };

  rig.link.params.FS_GCS_ENABLE = 0;
  outcome = await rig.runner.start(7, { ...ORBIT, radiusM: 60 });
  assert.match(outcome.text, /^Pattern refused: the vehicle's failsafes: FS_GCS_ENABLE is 0/);
  rig.link.params.FS_GCS_ENABLE = 1;

  rig.zones = [
    {
      id: 3,
      name: 'silo',
      alertDistanceM: 50,
      polygon: [offsetNorthEast(HOME, 200, 0), offsetNorthEast(HOME, 200, 50), HOME],
    },
  ];
  outcome = await rig.runner.start(7, {
    kind: 'push',
    safeBearingDeg: 0,
    safeZoneId: 3,
    standoffM: 60,
    altitudeAglM: 25,
    successDistanceM: 200,
    onSuccess: 'hold',
  });
  assert.equal(
    outcome.text,
    'Pattern refused: zone 3 ("silo") is a protected zone, not a safe zone.',
  );

  rig.link.state = { ...rig.link.state, armed: false };
  outcome = await rig.runner.start(7, { ...ORBIT, radiusM: 60 });
  assert.equal(
    outcome.text,
    'Pattern refused: take off first (the vehicle must be armed and flying).',
  );
  assert.equal(rig.link.targetsSent().length, 0, 'nothing was flown');
  assert.equal(rig.log.events().length, 0, 'no hazing event was opened');
});

test('an orbit streams checked setpoints around the bear and logs the event', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  const outcome = await rig.runner.start(7, ORBIT);
  assert.equal(outcome.ok, true, outcome.text);
  assert.match(outcome.text, /^Orbit started on bear #7: orbit radius 40 m/);
  await until('ten setpoints', () => rig.link.targetsSent().length >= 10);
  const targets = rig.link.targetsSent();
  const distinct = new Set(targets.map((t) => `${t.latDeg},${t.lonDeg}`));
  assert.ok(distinct.size > 1, 'the setpoints move');
  for (const target of targets) {
    assert.equal(target.altitudeRelM, 25, 'flat ground: AGL is height above home');
  }
  const status = rig.runner.status;
  assert.equal(status?.kind, 'orbit');
  assert.equal(status?.targetId, 7);
  assert.equal(status?.violation, null);
  const [event] = rig.log.events();
  assert.deepEqual(event.operator, OPERATOR);
  assert.equal(event.trackId, 7);
  assert.equal(event.outcome, null);
  assert.equal(status?.eventId, event.id);
  // The camera is on the bear.
  const roi = rig.link.calls.find((call) => call.what === 'roi');
  const point = roi?.args[0] as LatLon & { altitudeMslM: number };
  assert.ok(distanceM(point, rig.bear.position) < 0.01);
  assert.equal(point.altitudeMslM, HOME.altitudeMslM);
});

test('a pattern flown below the envelope floor is refused before it starts', async () => {
  const rig = makeRig({ limits: { floorAglM: 30 } });
  rig.log.setOperator(OPERATOR);
  const outcome = await rig.runner.start(7, { ...ORBIT, altitudeAglM: 25 });
  assert.equal(
    outcome.text,
    "Pattern refused: the orbit's altitude, 25 m, is outside the envelope's 30-120 m above " +
      'the ground.',
  );
  assert.equal(rig.log.events().length, 0, 'no hazing event is opened');
});

test('a person on the path: one hold, the rule logged once, then it flies on', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  // Someone stands where the drone would join the orbit, 40 m short of the bear.
  rig.people = [offsetNorthEast(HOME, 40, 0)];
  const outcome = await rig.runner.start(7, ORBIT);
  assert.equal(outcome.ok, true, outcome.text);
  await until('holding', () => rig.runner.status?.phase === 'holding');
  await sleep(STEP_MS * 15);
  const targets = rig.link.targetsSent();
  assert.equal(targets.length, 1, 'one hold within a second, not one per step');
  assert.equal(targets[0].latDeg, HOME.latDeg);
  assert.equal(targets[0].lonDeg, HOME.lonDeg);
  assert.equal(targets[0].altitudeRelM, 25);
  const status = rig.runner.status as ActionStatus;
  assert.equal(status.violation?.rule, 'person');
  assert.equal(status.setpoint, null);
  const holds = rig.log.events()[0].actions.filter((a) => a.action === 'hold');
  assert.equal(holds.length, 1, 'the rule is logged once');
  assert.match(holds[0].detail, /^person: /);

  rig.people = [];
  await until('flying again', () => rig.runner.status?.phase === 'flying');
  assert.equal(rig.runner.status?.violation, null);
  await until('setpoints again', () => rig.link.targetsSent().length > 3);
});

test('after the link is lost nothing more is sent, and the event ends link-lost', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  await until('setpoints', () => rig.link.targetsSent().length >= 3);
  rig.linkUp.value = false;
  await until('the pattern ended', () => rig.runner.status?.phase === 'failed');
  const sentAtLoss = rig.link.calls.length;
  await sleep(STEP_MS * 10);
  assert.equal(rig.link.calls.length, sentAtLoss, 'no setpoint, no ROI after the loss');
  assert.equal(rig.runner.stepping, false);
  assert.equal(rig.log.events()[0].outcome, 'link-lost');
});

test('ABORT stops the step timer before anything else, holds, and waits for a choice', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  await until('setpoints', () => rig.link.targetsSent().length >= 3);
  const before = rig.link.calls.length;
  const abort = rig.runner.abort();
  // Synchronously: no step can send anything after this point.
  assert.equal(rig.runner.stepping, false);
  const outcome = await abort;
  assert.equal(outcome.ok, true);
  assert.equal(outcome.text, 'Holding position (BRAKE)');
  const after = rig.link.calls.slice(before);
  assert.deepEqual(after[0], { what: 'mode', args: ['BRAKE'], steppingAtCall: false });
  await sleep(STEP_MS * 5);
  assert.equal(
    rig.link.targetsSent().length,
    rig.link.calls.slice(0, before).filter((call) => call.what === 'target').length,
    'no setpoint after ABORT',
  );
  const status = rig.runner.status as ActionStatus;
  assert.equal(status.phase, 'aborted');
  assert.equal(status.awaitingChoice, true);
  let event = rig.log.events()[0];
  assert.equal(event.outcome, 'aborted');
  assert.ok(event.actions.some((a) => a.action === 'abort'));

  const home = await rig.runner.returnHome();
  assert.equal(home.ok, true);
  assert.equal(rig.link.calls.at(-1)?.args[0], 'RTL');
  assert.equal(rig.runner.status?.awaitingChoice, false);
  event = rig.log.events()[0];
  assert.deepEqual(
    event.actions.slice(-2).map((a) => [a.action, a.detail]),
    [
      ['return-home', 'operator chose return home'],
      ['return-home-answer', 'Switch to RTL: ACCEPTED'],
    ],
  );
});

test('ABORT with no pattern still holds; BRAKE refused falls back to LOITER', async () => {
  const rig = makeRig();
  rig.link.refusedModes.add('BRAKE');
  const outcome = await rig.runner.abort();
  assert.equal(outcome.ok, true);
  assert.equal(outcome.text, 'BRAKE refused; holding position (LOITER)');
  assert.deepEqual(
    rig.link.calls.map((call) => call.args[0]),
    ['BRAKE', 'LOITER'],
  );
});

test('a mode change by someone else ends the pattern and nothing more is sent', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  await until('setpoints', () => rig.link.targetsSent().length >= 2);
  rig.link.state = { ...rig.link.state, modeName: 'LOITER' };
  rig.runner.vehicleChanged(rig.link.state);
  const count = rig.link.calls.length;
  await sleep(STEP_MS * 5);
  assert.equal(rig.link.calls.length, count);
  assert.equal(rig.log.events()[0].outcome, 'mode-changed');
  assert.equal(rig.runner.status?.text, 'Mode changed to LOITER');
});

test('a battery too low to get home ends the pattern and returns home', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  await until('setpoints', () => rig.link.targetsSent().length >= 2);
  rig.link.state = {
    ...rig.link.state,
    battery: { voltageV: 13, currentA: 10, remainingPct: 5 },
  };
  rig.runner.vehicleChanged(rig.link.state);
  await until('returning', () => rig.runner.status?.phase === 'returning');
  assert.equal(rig.log.events()[0].outcome, 'battery');
  await until('RTL', () => rig.link.calls.some((c) => c.what === 'mode' && c.args[0] === 'RTL'));
});

test('the camera is led onto a walking bear, and the ROI command sends 0, not NaN', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  rig.bear = { ...rig.bear, speedMps: 2, courseDeg: 90 };
  await rig.runner.start(7, ORBIT);
  await until('an ROI', () => rig.link.calls.some((call) => call.what === 'roi'));
  const roi = rig.link.calls.find((call) => call.what === 'roi')?.args[0] as LatLon;
  // Half a second ahead at 2 m/s, east.
  assert.ok(Math.abs(distanceM(rig.bear.position, roi) - 1) < 0.01);
  // Aimed at most every 0.5 s, and only when the bear moved: it stands still here.
  await sleep(STEP_MS * 10);
  assert.equal(rig.link.calls.filter((call) => call.what === 'roi').length, 1);

  const planned = regionOfInterestCommand({ ...roi, altitudeMslM: 1060 });
  assert.equal(planned.request.kind, 'int');
  for (const param of planned.request.params) assert.equal(param, 0);
});

test('a bear not seen for a moment is looked for where it was, not led on', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  // Its velocity may be a jump of the estimate as the drone moved: not trusted once stale.
  rig.bear = { ...rig.bear, speedMps: 6, courseDeg: 90 };
  rig.bearAgeMs = 2000;
  await rig.runner.start(7, ORBIT);
  await until('an ROI', () => rig.link.calls.some((call) => call.what === 'roi'));
  const roi = rig.link.calls.find((call) => call.what === 'roi')?.args[0] as LatLon;
  assert.ok(distanceM(rig.bear.position, roi) < 0.01);
});

test('nudge turns the pattern within the envelope and logs it in words', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  const out = rig.runner.nudge({ distanceDeltaM: -25 });
  assert.equal(out.ok, false);
  assert.match(out.text, /inside the envelope's bear standoff of 20 m/);
  const ok = rig.runner.nudge({ distanceDeltaM: 10 });
  assert.equal(ok.ok, true, ok.text);
  assert.match(ok.text, /orbit radius 50 m/);
  const nudge = rig.log.events()[0].actions.find((a) => a.action === 'nudge');
  assert.match(nudge?.detail ?? '', /radius 50 m/);
});

test('the speaker is refused without a relay, and switched and logged with one', async () => {
  const none = makeRig();
  const refused = await none.runner.speaker(true);
  assert.equal(
    refused.text,
    'Speaker refused: this airframe has no speaker (start with --speaker-relay N).',
  );
  const rig = makeRig({ speakerRelay: 2 });
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  const on = await rig.runner.speaker(true);
  assert.equal(on.ok, true);
  assert.ok(rig.link.calls.some((c) => c.what === 'relay' && c.args[0] === 2 && c.args[1]));
  assert.ok(rig.log.events()[0].actions.some((a) => a.action === 'speaker-on'));
});

test('a push that moves the bear its success distance ends as a success and holds', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  const outcome = await rig.runner.start(7, {
    kind: 'push',
    safeBearingDeg: 0,
    safeZoneId: null,
    standoffM: 30,
    altitudeAglM: 25,
    successDistanceM: 200,
    onSuccess: 'hold',
  });
  assert.equal(outcome.ok, true, outcome.text);
  await until('setpoints', () => rig.link.targetsSent().length >= 3);
  const start = rig.bear.position;
  // The bear runs north, away from the drone, 210 m.
  rig.bear = { ...rig.bear, position: offsetNorthEast(start, 210, 0), speedMps: 3, courseDeg: 0 };
  await until('success', () => rig.runner.status?.phase === 'succeeded');
  await until('a hold mode', () => rig.link.calls.some((c) => c.args[0] === 'BRAKE'));
  const event = rig.log.events()[0];
  assert.equal(event.outcome, 'success');
  assert.ok(Math.abs((event.bearMovedM ?? 0) - 210) < 1);
});

test('over terrain, height above the ground becomes height above home', async () => {
  // The ground rises 1 m for every 10 m north of home.
  const terrain: Terrain = {
    description: 'a slope',
    resolutionM: 10,
    elevationMslM: (point) => HOME.altitudeMslM + northEastOf(HOME, point).northM / 10,
  };
  const rig = makeRig({ terrain });
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  await until('setpoints', () => rig.link.targetsSent().length >= 3);
  for (const target of rig.link.targetsSent()) {
    const groundAboveHomeM = northEastOf(HOME, target).northM / 10;
    assert.ok(Math.abs(target.altitudeRelM - (25 + groundAboveHomeM)) < 1e-6);
  }
});

test('an ABORT while a pattern is starting wins: nothing is flown', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  rig.link.state = { ...rig.link.state, modeName: 'LOITER' };
  const starting = rig.runner.start(7, ORBIT);
  const abort = await rig.runner.abort();
  assert.equal(abort.ok, true);
  const outcome = await starting;
  assert.equal(outcome.ok, false);
  assert.equal(
    outcome.text,
    'Pattern not started: ABORT, return home, land or link loss came first.',
  );
  await sleep(STEP_MS * 5);
  assert.equal(rig.link.targetsSent().length, 0);
  assert.equal(rig.runner.stepping, false);
  assert.ok(!rig.link.calls.some((c) => c.what === 'mode' && c.args[0] === 'GUIDED'));
});

test('a battery already too low to get home refuses the start', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  rig.link.state = {
    ...rig.link.state,
    battery: { voltageV: 13, currentA: 10, remainingPct: 15 },
  };
  rig.runner.vehicleChanged(rig.link.state);
  const outcome = await rig.runner.start(7, ORBIT);
  assert.match(
    outcome.text,
    /^Pattern refused: the battery has 15 %, and \d+ % is needed to get home with the reserve\.$/,
  );
});

test('ABORT while a return home is unanswered: BRAKE at once, the RTL superseded', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  await until('setpoints', () => rig.link.targetsSent().length >= 2);
  rig.link.onWire();
  // Return home: the RTL goes out and its ACKs are lost.
  const home = rig.runner.returnHome();
  assert.deepEqual(rig.link.wire, [6]);
  const abort = rig.runner.abort();
  // Synchronously: the BRAKE does not wait for the RTL's answer (up to 4 tries of 1 s).
  assert.deepEqual(rig.link.wire, [6, 17]);
  assert.deepEqual(rig.link.preempts.slice(-2), [null, 'ABORT']);
  const homeOutcome = await home;
  assert.equal(homeOutcome.ok, false);
  assert.match(homeOutcome.text, /^Switch to RTL.*superseded by ABORT/);
  // The first ACK may be the RTL's: the BRAKE goes again, and the next ACK answers it.
  rig.link.ack(common.MavResult.ACCEPTED);
  assert.deepEqual(rig.link.wire, [6, 17, 17]);
  rig.link.ack(common.MavResult.ACCEPTED);
  const outcome = await abort;
  assert.equal(outcome.text, 'Holding position (BRAKE)');
  // The superseded return home's answer did not undo the ABORT's status.
  const status = rig.runner.status as ActionStatus;
  assert.equal(status.phase, 'aborted');
  assert.equal(status.awaitingChoice, true);
});

test('ABORT during the GUIDED switch of a start: BRAKE at once, the start gives up', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  rig.link.state = { ...rig.link.state, modeName: 'LOITER' };
  rig.link.onWire();
  const starting = rig.runner.start(7, ORBIT);
  await until('GUIDED on the wire', () => rig.link.wire.length === 1);
  assert.deepEqual(rig.link.wire, [4]);
  const abort = rig.runner.abort();
  assert.deepEqual(rig.link.wire, [4, 17], 'BRAKE goes out at once');
  const outcome = await starting;
  assert.equal(
    outcome.text,
    'Pattern not started: ABORT, return home, land or link loss came first.',
  );
  rig.link.ack(common.MavResult.ACCEPTED);
  rig.link.ack(common.MavResult.ACCEPTED);
  assert.equal((await abort).text, 'Holding position (BRAKE)');
  assert.equal(rig.link.targetsSent().length, 0);
  assert.equal(rig.runner.stepping, false);
});

test('ABORT is logged and ends the event at the press; the answer is added later', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  await until('setpoints', () => rig.link.targetsSent().length >= 2);
  rig.link.onWire();
  const abort = rig.runner.abort();
  // The vehicle has not answered yet.
  let event = rig.log.events()[0];
  assert.equal(event.outcome, 'aborted');
  assert.deepEqual(
    event.actions.slice(1).map((a) => [a.action, a.detail]),
    [['abort', 'operator pressed ABORT']],
  );
  rig.link.ack(common.MavResult.ACCEPTED);
  assert.equal((await abort).text, 'Holding position (BRAKE)');
  event = rig.log.events()[0];
  assert.deepEqual(
    event.actions.slice(1).map((a) => [a.action, a.detail]),
    [
      ['abort', 'operator pressed ABORT'],
      ['abort-answer', 'Holding position (BRAKE)'],
    ],
  );
  assert.equal(event.outcome, 'aborted', 'ended once, at the press');
});

test('the station stopping before the vehicle answers leaves the abort on record', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  await until('setpoints', () => rig.link.targetsSent().length >= 2);
  rig.link.onWire();
  const abort = rig.runner.abort();
  rig.runner.dispose();
  rig.link.dispose();
  const outcome = await abort;
  assert.equal(outcome.ok, false, 'the link closed before the BRAKE was answered');
  const event = rig.log.events()[0];
  assert.equal(event.outcome, 'aborted');
  assert.deepEqual(
    event.actions.slice(1).map((a) => a.action),
    ['abort', 'abort-answer'],
  );
  assert.ok(!event.actions.some((a) => a.action === 'station-stopped'));
});

test('return home and land are logged at the press, their answers when they come', async () => {
  for (const [choose, action, modeNumber] of [
    ['returnHome', 'return-home', 6],
    ['land', 'land', 9],
  ] as const) {
    const rig = makeRig();
    rig.log.setOperator(OPERATOR);
    await rig.runner.start(7, ORBIT);
    await until('setpoints', () => rig.link.targetsSent().length >= 2);
    rig.link.onWire();
    const leaving = rig.runner[choose]();
    assert.deepEqual(rig.link.wire, [modeNumber]);
    let event = rig.log.events()[0];
    assert.equal(event.outcome, 'aborted', `${action}: the event ends at the press`);
    assert.deepEqual(
      event.actions.slice(1).map((a) => a.action),
      [action],
    );
    rig.link.ack(common.MavResult.DENIED);
    assert.equal((await leaving).ok, false);
    event = rig.log.events()[0];
    assert.deepEqual(
      event.actions.slice(1).map((a) => a.action),
      [action, `${action}-answer`],
    );
    assert.match(event.actions.at(-1)?.detail ?? '', /\(DENIED\)$/);
  }
});

test('ABORT racing a start leaves the last event and status alone; a log line only', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  // A first pattern, ended by a pilot's switch to LOITER.
  await rig.runner.start(7, ORBIT);
  await until('setpoints', () => rig.link.targetsSent().length >= 2);
  rig.link.state = { ...rig.link.state, modeName: 'LOITER' };
  rig.runner.vehicleChanged(rig.link.state);
  const [previous] = rig.log.events();
  assert.equal(previous.outcome, 'mode-changed');
  const statusBefore = rig.runner.status;
  const statusesBefore = rig.statuses.length;

  // A second start waits on the failsafe parameter reads of a slow radio.
  let releaseReads!: () => void;
  rig.link.readGate = new Promise((resolve) => (releaseReads = resolve));
  const starting = rig.runner.start(7, ORBIT);
  await until('a parameter read', () => rig.link.calls.some((c) => c.what === 'read'));
  const abort = await rig.runner.abort();
  assert.equal(abort.text, 'Holding position (BRAKE)');
  releaseReads();
  assert.equal(
    (await starting).text,
    'Pattern not started: ABORT, return home, land or link loss came first.',
  );

  assert.deepEqual(rig.log.events(), [previous], 'the finished event is untouched');
  assert.equal(rig.runner.status, statusBefore, 'the old status is not shown again');
  assert.equal(rig.statuses.length, statusesBefore);
  assert.ok(rig.logs.includes('ABORT: the pattern being started is cancelled'), rig.logs.join());
  assert.ok(rig.logs.includes('ABORT: Holding position (BRAKE)'), rig.logs.join());
  // What the operator chooses next is no part of the finished event either.
  assert.equal((await rig.runner.returnHome()).ok, true);
  assert.deepEqual(rig.log.events(), [previous]);
});

test('the speaker after an ABORT is logged to the ended event, as a return home is', async () => {
  const rig = makeRig({ speakerRelay: 2 });
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  await rig.runner.abort();
  assert.equal((await rig.runner.speaker(true)).ok, true);
  assert.equal((await rig.runner.speaker(false)).ok, true);
  await rig.runner.returnHome();
  const [event] = rig.log.events();
  assert.equal(event.outcome, 'aborted');
  assert.deepEqual(
    event.actions.slice(1).map((a) => [a.action, a.detail]),
    [
      ['abort', 'operator pressed ABORT'],
      ['abort-answer', 'Holding position (BRAKE)'],
      ['speaker-on', 'relay 2: ACCEPTED'],
      ['speaker-off', 'relay 2: ACCEPTED'],
      ['return-home', 'operator chose return home'],
      ['return-home-answer', 'Switch to RTL: ACCEPTED'],
    ],
  );
});

test('a lost bear holds: the phase is holding, no violation, and the text says why', async () => {
  const rig = makeRig();
  rig.log.setOperator(OPERATOR);
  await rig.runner.start(7, ORBIT);
  await until('flying', () => rig.runner.status?.phase === 'flying');
  // The tracker last saw the bear 10 s ago: the orbit holds (it gives up after 30 s).
  rig.bearAgeMs = 10_000;
  await until('holding', () => rig.runner.status?.phase === 'holding');
  const status = rig.runner.status as ActionStatus;
  assert.equal(status.violation, null);
  assert.equal(status.setpoint, null);
  assert.match(status.text, /^bear lost \d+ s ago: holding$/);
  const held = rig.link.targetsSent().at(-1);
  await sleep(STEP_MS * 5);
  assert.deepEqual(rig.link.targetsSent().at(-1), held, 'the hold point, not a pattern setpoint');
  rig.bearAgeMs = 0;
  await until('flying again', () => rig.runner.status?.phase === 'flying');
});
