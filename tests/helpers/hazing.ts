// Hazing on the simulator, for integration tests: a real station process (`--sim --video sim`,
// the real YOLOX model on the simulated camera) and an operator's WebSocket that keeps what
// the tests judge by: the vehicle's telemetry, the simulator's true bear, the pattern's
// status, the hazing log, the people the envelope keeps clear of. Frames are not kept.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import WebSocket from 'ws';

import type { EnvelopeLimits } from '../../app/core/envelope';
import { distanceM, offsetNorthEast } from '../../app/core/geodesy';
import type { HazingEvent, HazingOperator } from '../../app/core/hazing-log';
import type {
  ActionStatus,
  KnownPerson,
  LogEntry,
  OperatorCommand,
  ServerMessage,
  SimBearTruth,
  StationDefaults,
} from '../../app/core/protocol';
import type { CommandOutcome, LatLon, MapTarget, VehicleState } from '../../app/core/types';
import { sharedDir } from '../../app/station/paths';
import { BEAR_PICTURE } from '../../app/station/sim/world';
import { freeUdpPort } from './net';
import { stationEnv, stationMissing, StationProcess, YOLOX_MODEL } from './station';
import { stationWsUrl } from './station-client';

/** The simulator's home, where the drone takes off: a farm near Conrad, Montana. */
export const HAZING_HOME: LatLon = { latDeg: 48.17, lonDeg: -111.95 };
const TOKEN = 'hazing-sim-test-operator-token';
export const TEST_OPERATOR: HazingOperator = {
  operatorName: 'Test Pilot',
  agencyOrPermitId: 'MT-FWP-TEST-0001',
};
/** Generous: on a loaded two-core machine the detector may manage one frame a second. */
export const STEP_TIMEOUT_MS = 180_000;

/** Why a hazing test cannot run here (no built station, model or bear picture), or false. */
export function hazingSimMissing(): string | false {
  return stationMissing([YOLOX_MODEL, path.join(sharedDir(), BEAR_PICTURE)]);
}

export interface LocalPoint {
  northM: number;
  eastM: number;
}

export interface HazingSimOptions {
  /** The farm yard the bear walks to and forages in, metres from home. */
  farm: LocalPoint;
  bearStart: LocalPoint;
  /** Seed of the bear's walk and of its flight distance. */
  seed: number;
  /**
   * The simulated camera's field of view (the station georeferences with the same); absent
   * for the simulator's 8 x 6 deg zoom.
   */
  lensDeg?: { horizontal: number; vertical: number };
  /** Label for the work folder and failure messages. */
  name: string;
}

export interface VehicleSample {
  atMs: number;
  position: NonNullable<VehicleState['position']>;
  modeName: string;
  armed: boolean;
}

export interface ActionSample {
  atMs: number;
  action: ActionStatus | null;
}

const FALSE_PERSON_REMOVAL_INTERVAL_MS = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The station, its simulator and an operator's connection, with everything they said. */
export class HazingSim {
  vehicle: VehicleState | null = null;
  defaults: StationDefaults | null = null;
  readonly vehicleSamples: VehicleSample[] = [];
  readonly truths: SimBearTruth[] = [];
  readonly actions: ActionSample[] = [];
  readonly hazingEvents: Array<{ atMs: number; event: HazingEvent }> = [];
  readonly logEntries: LogEntry[] = [];
  operator: HazingOperator | null = null;
  people: KnownPerson[] = [];
  targets: MapTarget[] = [];
  /** Detected people removed as false detections, by id, with where they were. */
  readonly falsePeople = new Map<string, LatLon>();
  private readonly removals = new Set<Promise<unknown>>();
  private readonly removedAtMs = new Map<string, number>();
  private readonly results = new Map<string, CommandOutcome>();
  private commandCount = 0;
  private socketError: string | null = null;
  private removalTimer: NodeJS.Timeout | null = null;

  private constructor(
    readonly station: StationProcess,
    private readonly socket: WebSocket,
    private readonly workDir: string,
    readonly options: HazingSimOptions,
  ) {
    // Frames are the bulk of what comes (JPEG in base64): skipped before parsing.
    socket.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('{"type":"frame"')) return;
      this.hear(JSON.parse(text) as ServerMessage, Date.now());
    });
    // Told in failure messages rather than thrown from an event the test cannot catch.
    socket.on('error', (error) => (this.socketError = error.message));
  }

  static async start(options: HazingSimOptions): Promise<HazingSim> {
    const workDir = mkdtempSync(path.join(os.tmpdir(), `ursa-${options.name}-`));
    const at = (point: LocalPoint): string => {
      const where = offsetNorthEast(HAZING_HOME, point.northM, point.eastM);
      return `${where.latDeg},${where.lonDeg}`;
    };
    let station: StationProcess | null = null;
    try {
      const port = await freeUdpPort();
      station = StationProcess.start(
        [
          ...['--sim', '--video', 'sim', '--sim-video-port', String(port)],
          ...['--model', YOLOX_MODEL, '--sim-seed', String(options.seed)],
          ...['--sim-farm', at(options.farm), '--sim-bear', at(options.bearStart)],
          ...(options.lensDeg
            ? [
                '--hfov',
                String(options.lensDeg.horizontal),
                '--vfov',
                String(options.lensDeg.vertical),
              ]
            : []),
          ...['--serve', '127.0.0.1:0', '--token', TOKEN],
          ...['--record', 'off', '--signing-keys', 'off'],
          ...['--zones', path.join(workDir, 'zones.json')],
        ],
        stationEnv(workDir),
      );
      const url = await station.serveUrl(STEP_TIMEOUT_MS);
      // Listening before the socket opens: the hello may come in the same read as the upgrade.
      const socket = new WebSocket(stationWsUrl(url, TOKEN));
      const sim = new HazingSim(station, socket, workDir, options);
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      return sim;
    } catch (error) {
      await station?.stop();
      rmSync(workDir, { recursive: true, force: true });
      throw error;
    }
  }

  get envelope(): EnvelopeLimits {
    if (!this.defaults) throw new Error('the station has not said hello');
    return this.defaults.envelope;
  }

  get action(): ActionStatus | null {
    return this.actions.at(-1)?.action ?? null;
  }

  /** Sends a command; resolves with the station's answer (or fails after STEP_TIMEOUT_MS). */
  async command(command: OperatorCommand): Promise<CommandOutcome> {
    const requestId = `hazing-${++this.commandCount}`;
    this.socket.send(JSON.stringify({ type: 'command', requestId, command }));
    try {
      return await this.until(`the answer to ${command.kind}`, () => this.results.get(requestId));
    } finally {
      this.results.delete(requestId);
    }
  }

  /** Sends a command that must be accepted; the failure names it and what the station said. */
  async commandOk(command: OperatorCommand): Promise<CommandOutcome> {
    const outcome = await this.command(command);
    if (!outcome.ok) {
      throw new Error(`${command.kind} refused: ${outcome.text}\n${this.describe()}`);
    }
    return outcome;
  }

  /** Polls `probe` until it gives a value; on time-out the error says where things stood. */
  async until<T>(
    what: string,
    probe: () => T | null | undefined | false,
    timeoutMs = STEP_TIMEOUT_MS,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== null && value !== undefined && value !== false) return value;
      if (!this.station.running) {
        throw new Error(`the station exited waiting for ${what}\n${this.describe()}`);
      }
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}\n${this.describe()}`);
      await sleep(50);
    }
  }

  async connected(): Promise<void> {
    await this.until('the station hello and a connected vehicle with a position', () =>
      this.defaults && this.vehicle?.link === 'connected' && this.vehicle.position ? true : null,
    );
  }

  async setOperator(operator: HazingOperator = TEST_OPERATOR): Promise<void> {
    await this.commandOk({ kind: 'set-operator', operator });
    await this.until('the hazing operator from the station', () =>
      this.operator?.operatorName === operator.operatorName ? true : null,
    );
  }

  /** Takes off to `altitudeM` with the camera `pitchDeg` down, looking north, and waits there. */
  async takeOff(altitudeM: number, pitchDeg: number): Promise<void> {
    await this.commandOk({ kind: 'arm-takeoff', altitudeM });
    await this.commandOk({ kind: 'point-camera', pitchDeg, yawDeg: 0 });
    await this.until(`${altitudeM} m up, the gimbal at ${pitchDeg} deg`, () => {
      const v = this.vehicle;
      const up = v?.position && Math.abs(v.position.altitudeRelM - altitudeM) < 1;
      const pitched = v?.gimbal && Math.abs(v.gimbal.pitchDeg - pitchDeg) < 1;
      return up && pitched ? true : null;
    });
  }

  /** The first confirmed bear track on the map. */
  confirmedBear(timeoutMs = STEP_TIMEOUT_MS): Promise<MapTarget> {
    return this.until(
      'a confirmed bear track',
      () => this.targets.find((target) => target.className === 'bear'),
      timeoutMs,
    );
  }

  /**
   * From now on, removes every person the detector reports: the simulated world has none, so
   * each is a false detection (the model calls the bear itself a person in a frame now and
   * then), which an operator who looks would remove. Marked people are kept.
   */
  removeFalsePeople(): void {
    if (this.removalTimer) return;
    // A person taken back quietly (no new list sent) is removed again on the next round.
    this.removalTimer = setInterval(
      () => this.removePeopleSeen(),
      FALSE_PERSON_REMOVAL_INTERVAL_MS,
    );
    this.removePeopleSeen();
  }

  /**
   * Waits until the envelope's people list holds no detected person: a removed track stays
   * out of it for its life (its marker may stay on the map a minute longer).
   */
  async noFalsePeople(timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
    await this.until(
      'the people list clear of (false) people',
      () => !this.people.some((p) => p.source === 'detected'),
      timeoutMs,
    );
  }

  /** Waits for a pattern status that `accept` takes: the newest now, or a later one. */
  async actionWhere(
    what: string,
    accept: (action: ActionStatus) => boolean,
    timeoutMs = STEP_TIMEOUT_MS,
  ): Promise<ActionSample & { action: ActionStatus }> {
    const from = Math.max(0, this.actions.length - 1);
    return this.until(
      what,
      () =>
        this.actions
          .slice(from)
          .find(
            (s): s is ActionSample & { action: ActionStatus } => !!s.action && accept(s.action),
          ),
      timeoutMs,
    );
  }

  /** The newest state of one hazing log entry. */
  hazingEvent(eventId: string): HazingEvent | null {
    for (let i = this.hazingEvents.length - 1; i >= 0; i--) {
      if (this.hazingEvents[i].event.id === eventId) return this.hazingEvents[i].event;
    }
    return null;
  }

  /** The bear's true position at a moment, between the once-a-second truths around it. */
  truthAt(timeMs: number): LatLon | null {
    const truths = this.truths;
    for (let i = 1; i < truths.length; i++) {
      const [a, b] = [truths[i - 1], truths[i]];
      if (a.timeMs > timeMs || b.timeMs < timeMs) continue;
      const f = b.timeMs === a.timeMs ? 0 : (timeMs - a.timeMs) / (b.timeMs - a.timeMs);
      return {
        latDeg: a.latDeg + (b.latDeg - a.latDeg) * f,
        lonDeg: a.lonDeg + (b.lonDeg - a.lonDeg) * f,
      };
    }
    return null;
  }

  /** The newest truth at or after `timeMs` (waits for it). */
  truthAfter(timeMs: number): Promise<SimBearTruth> {
    return this.until('the true bear position', () =>
      this.truths.find((truth) => truth.timeMs >= timeMs),
    );
  }

  /**
   * The drone's horizontal distance from the true bear at each telemetry sample in
   * [fromMs, toMs], the bear placed between its truths.
   */
  trueBearDistances(fromMs: number, toMs: number): Array<{ atMs: number; horizontalM: number }> {
    const out: Array<{ atMs: number; horizontalM: number }> = [];
    for (const sample of this.vehicleSamples) {
      if (sample.atMs < fromMs || sample.atMs > toMs) continue;
      const bear = this.truthAt(sample.atMs);
      if (bear) out.push({ atMs: sample.atMs, horizontalM: distanceM(sample.position, bear) });
    }
    return out;
  }

  /**
   * The same from the simulator itself: each truth carries the drone's slant distance at the
   * same instant, so with the drone's height this is free of any telemetry delay.
   */
  simBearDistances(fromMs: number, toMs: number): Array<{ atMs: number; horizontalM: number }> {
    const out: Array<{ atMs: number; horizontalM: number }> = [];
    for (const truth of this.truths) {
      if (truth.timeMs < fromMs || truth.timeMs > toMs || truth.droneDistanceM === null) continue;
      const sample = this.sampleAt(truth.timeMs);
      if (!sample) continue;
      const heightM = Math.max(0, sample.position.altitudeRelM);
      // The truth rounds to 0.1 m: never below the height it includes.
      const slantM = Math.max(truth.droneDistanceM, heightM);
      out.push({ atMs: truth.timeMs, horizontalM: Math.sqrt(slantM ** 2 - heightM ** 2) });
    }
    return out;
  }

  /** The telemetry sample nearest in time to `timeMs`. */
  sampleAt(timeMs: number): VehicleSample | null {
    let best: VehicleSample | null = null;
    for (const sample of this.vehicleSamples) {
      if (!best || Math.abs(sample.atMs - timeMs) < Math.abs(best.atMs - timeMs)) best = sample;
    }
    return best;
  }

  /** Where things stand, for failure messages. */
  describe(): string {
    const v = this.vehicle;
    const p = v?.position;
    const where = p
      ? `${p.latDeg.toFixed(6)},${p.lonDeg.toFixed(6)} ${p.altitudeRelM.toFixed(1)} m up`
      : 'no position';
    const truth = this.truths.at(-1);
    const action = this.action;
    const lines = [
      ...(this.socketError ? [`operator socket: ${this.socketError}`] : []),
      `vehicle: ${v ? `${v.modeName} ${v.armed ? 'armed' : 'disarmed'} ${where}` : 'none'}`,
      `true bear: ${truth ? JSON.stringify(truth) : 'none'}`,
      `targets: ${JSON.stringify(this.targets.map((t) => [t.id, t.className, t.position]))}`,
      `action: ${action ? JSON.stringify({ ...action, preview: action.preview.length }) : 'none'}`,
      'station log (newest last):',
      ...this.logEntries.slice(-25).map((e) => `  ${e.level} ${e.text}`),
      'station stderr (newest last):',
      this.station.log,
    ];
    return lines.join('\n');
  }

  async dispose(): Promise<void> {
    if (this.removalTimer) clearInterval(this.removalTimer);
    this.removalTimer = null;
    // A command in flight polls for its answer: let it have it before the socket closes.
    await Promise.allSettled([...this.removals]);
    this.socket.close();
    await this.station.stop();
    rmSync(this.workDir, { recursive: true, force: true });
  }

  private removePeopleSeen(): void {
    if (!this.removalTimer || !this.station.running) return;
    const nowMs = Date.now();
    for (const person of this.people) {
      if (person.source !== 'detected') continue;
      // The station takes a removed person back on the track's next sighting: removing it
      // again at once would only chase that, so once a second at most.
      const lastMs = this.removedAtMs.get(person.id);
      if (lastMs !== undefined && nowMs - lastMs < FALSE_PERSON_REMOVAL_INTERVAL_MS) continue;
      this.removedAtMs.set(person.id, nowMs);
      this.falsePeople.set(person.id, person.position);
      // Refused (already gone) or unanswered (the station stopping): nothing the tests judge.
      const removal = this.command({ kind: 'remove-person', personId: person.id })
        .catch(() => undefined)
        .finally(() => this.removals.delete(removal));
      this.removals.add(removal);
    }
  }

  private hear(message: ServerMessage, atMs: number): void {
    switch (message.type) {
      case 'hello':
        this.defaults = message.defaults;
        break;
      case 'vehicle': {
        const vehicle = message.vehicle;
        this.vehicle = vehicle;
        if (vehicle.position) {
          const { modeName, armed, position } = vehicle;
          this.vehicleSamples.push({ atMs, position, modeName, armed });
        }
        break;
      }
      case 'sim-truth':
        this.truths.push(message.bear);
        break;
      case 'targets':
        this.targets = message.targets;
        break;
      case 'action':
        this.actions.push({ atMs, action: message.action });
        break;
      case 'hazing-event':
        this.hazingEvents.push({ atMs, event: message.event });
        break;
      case 'hazing-operator':
        this.operator = message.operator;
        break;
      case 'people':
        this.people = message.people;
        this.removePeopleSeen();
        break;
      case 'log':
        this.logEntries.push(message.entry);
        break;
      case 'command-result':
        this.results.set(message.requestId, message.outcome);
        break;
      default:
    }
  }
}

/** Angle swept around the origin by a path of points, unwrapped: positive clockwise. */
export function sweptAngleDeg(points: Array<{ northM: number; eastM: number }>): number {
  let totalDeg = 0;
  for (let i = 1; i < points.length; i++) {
    const a = Math.atan2(points[i - 1].eastM, points[i - 1].northM);
    const b = Math.atan2(points[i].eastM, points[i].northM);
    let stepRad = b - a;
    while (stepRad > Math.PI) stepRad -= 2 * Math.PI;
    while (stepRad < -Math.PI) stepRad += 2 * Math.PI;
    totalDeg += (stepRad * 180) / Math.PI;
  }
  return totalDeg;
}
