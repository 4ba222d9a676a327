// The station's pattern runner: flies one hazing pattern at a time as a stream of GUIDED
// position targets (ArduCopter has no orbit command), re-aimed at the bear's live track a few
// times a second. Every setpoint is checked against the safety envelope before it is sent; one
// that breaks a rule is not sent and the drone holds where it is. Everything the operator does
// goes into the hazing log.

import type { Disposable } from '../../core/disposable';
import {
  batteryNeededPct,
  checkSetpoint,
  type EnvelopeLimits,
  type EnvelopeRule,
  type EnvelopeWorld,
  type Setpoint,
  type Violation,
} from '../../core/envelope';
import { destination, distanceM } from '../../core/geodesy';
import type { HazingEvent, HazingOperator, HazingOutcome } from '../../core/hazing-log';
import {
  checkPatternSettings,
  createPattern,
  patternDistanceM,
  type Pattern,
  type PatternBear,
  type PatternContext,
  type PatternNudge,
  type PatternSettings,
} from '../../core/patterns';
import type { ActionStatus } from '../../core/protocol';
import type { Terrain } from '../../core/terrain';
import type {
  CameraModel,
  CommandOutcome,
  LatLon,
  MapTarget,
  VehicleState,
} from '../../core/types';
import type { ProtectedZone } from '../../core/zones';
import { BatteryMeter } from './battery';
import { checkVehicleFailsafes } from './failsafe';

/** About 5 Hz: fast enough to follow a running bear, slow enough for a thin radio. */
export const STEP_INTERVAL_MS = 200;
/** The status goes out at least this often while a pattern flies (preview, distance moved). */
const STATUS_INTERVAL_MS = 1000;
/** How long telemetry may take to show the switch to GUIDED before the pattern fails. */
const GUIDED_CONFIRM_TIMEOUT_MS = 5000;
/** The camera is aimed where the bear will be this far ahead, to make up for the link's lag. */
const ROI_LEAD_S = 0.5;
/** The camera is led ahead of a bear seen this recently; an older sighting is aimed at as is. */
const ROI_LEAD_FRESH_MS = 1000;
const ROI_MIN_INTERVAL_MS = 500;
/** While holding, the hold target is sent again this often. */
const HOLD_RESEND_MS = 1000;
/** A smaller move of the bear does not re-aim the camera. */
const ROI_MIN_MOVE_M = 1;
/** The vehicle counts as flying from this height above home. */
const FLYING_ALTITUDE_M = 2;
const FOLLOWS_BEAR = new Set<PatternSettings['kind']>(['push', 'orbit', 'shadow']);
/** Modes in which the vehicle is going home or down, ArduPilot's and PX4's names. */
const RETURNING_MODES = new Set(['RTL', 'SMART_RTL', 'AUTO_RTL', 'LAND', 'AUTO.RTL', 'AUTO.LAND']);

/** What the runner needs of a vehicle link (VehicleLink has it; tests give a fake). */
export interface RunnerLink {
  readonly state: VehicleState;
  readonly paramCache: ReadonlyMap<string, { value: number }>;
  /** preempt: what abandons a mode switch still unanswered ("ABORT"), so this one goes at once. */
  setMode(modeName: string, options?: { preempt?: string }): Promise<CommandOutcome>;
  sendPositionTarget(target: LatLon & { altitudeRelM: number }): boolean;
  setRegionOfInterest(point: LatLon & { altitudeMslM: number }): Promise<CommandOutcome>;
  setGimbal(pitchDeg: number, yawDeg: number): Promise<CommandOutcome>;
  readParam(name: string): Promise<{ ok: boolean; param: { value: number } | null }>;
  setRelay(relay: number, on: boolean): Promise<CommandOutcome>;
  /** Absent where the link cannot: the vehicle then flies at its own default speed. */
  setSpeed?(speedMps: number): Promise<CommandOutcome>;
}

/** What the runner needs of the hazing log (HazingLogStore has it). */
export interface RunnerHazingLog {
  readonly operator: HazingOperator | null;
  start(init: {
    trackId: number | null;
    pattern: PatternSettings;
    startedMs: number;
    bearStart: LatLon | null;
    droneStart: LatLon | null;
  }): HazingEvent;
  action(eventId: string, action: string, detail: string, timeMs?: number): HazingEvent;
  end(
    eventId: string,
    end: {
      outcome: HazingOutcome;
      bearEnd: LatLon | null;
      droneEnd: LatLon | null;
      endedMs?: number;
    },
  ): HazingEvent;
}

export interface HazingRunnerOptions {
  /** The link commands go out on now, null when there is none. */
  link(): RunnerLink | null;
  /** Whether the registry hears the active vehicle now. */
  linkUp(): boolean;
  targets(nowMs: number): MapTarget[];
  zones(): readonly ProtectedZone[];
  /** Every person the envelope keeps clear of. */
  people(nowMs: number): LatLon[];
  hazingLog: RunnerHazingLog;
  limits: EnvelopeLimits;
  camera: CameraModel;
  /** Width of the video frames, for a search's ground resolution. */
  imageWidthPx(): number;
  /** The ground from an elevation model; null or absent for flat ground at home. */
  terrain?: Terrain | null;
  /** The relay that switches the speaker; null or absent where there is none. */
  speakerRelay?: number | null;
  onStatus(status: ActionStatus | null): void;
  onLog(level: 'info' | 'warn' | 'error', text: string): void;
  stepIntervalMs?: number;
  guidedConfirmTimeoutMs?: number;
  /** The vehicle's own failsafes; the station's check by default. */
  checkFailsafes?: typeof checkVehicleFailsafes;
  now?: () => number;
}

interface Running {
  pattern: Pattern;
  settings: PatternSettings;
  eventId: string;
  targetId: number | null;
  startedMs: number;
  bearStart: LatLon | null;
  /** The mode name telemetry shows while the station flies it ("GUIDED"; PX4 "AUTO.LOITER"). */
  guidedModeName: string;
  guidedSeen: boolean;
  /** When the hold for the current run of refused (or null) setpoints was last sent. */
  holdSentMs: number | null;
  /**
   * The push's safe zone as it was at the start: a zone deleted or redrawn under the same id
   * while the pattern flies must not turn the push toward something else.
   */
  safeZone: LatLon[] | null;
  /** Where that hold is: fixed for the run, so a resend does not creep with the drift. */
  holdPoint: (LatLon & { altitudeRelM: number }) | null;
  /** Rules already logged in the current run of refusals: each is told once. */
  loggedRules: Set<EnvelopeRule>;
  lastRoi: { point: LatLon; timeMs: number } | null;
  roiBusy: boolean;
  lastStatusMs: number;
}

/** An operator's ABORT, return or landing as logged at the press. */
interface Press {
  eventId: string | null;
  /** It cancelled a start that had opened no event. */
  cancelledStart: boolean;
}

export class HazingRunner implements Disposable {
  private timer: NodeJS.Timeout | null = null;
  private running: Running | null = null;
  private startingPattern = false;
  /** Counts ABORTs, returns, landings and link losses: a start that sees it change gives up. */
  private cancels = 0;
  /** Counts ABORTs, returns and landings: the answer to an older one must not undo a newer. */
  private choices = 0;
  private current: ActionStatus | null = null;
  /** The newest hazing log entry, for actions after its pattern ended (return home, land). */
  private lastEventId: string | null = null;
  private battery = new BatteryMeter();
  private batterySystemId: number | null = null;
  private readonly now: () => number;
  private readonly checkFailsafes: typeof checkVehicleFailsafes;
  private disposed = false;

  constructor(private readonly options: HazingRunnerOptions) {
    this.now = options.now ?? Date.now;
    this.checkFailsafes = options.checkFailsafes ?? checkVehicleFailsafes;
  }

  /** The pattern under way, or the last one, until the next starts. */
  get status(): ActionStatus | null {
    return this.current;
  }

  /** A pattern is flying (or being started): setpoints go out. */
  get active(): boolean {
    return this.running !== null || this.startingPattern;
  }

  /** Whether the step timer runs (for tests: ABORT stops it before anything else). */
  get stepping(): boolean {
    return this.timer !== null;
  }

  async start(targetId: number | null, value: unknown): Promise<CommandOutcome> {
    const refuse = (why: string): CommandOutcome => refused(`Pattern refused: ${why}.`);
    if (this.disposed) return refuse('the station is stopping');
    if (this.active) return refuse('a pattern is already under way; ABORT it first');
    const operator = this.options.hazingLog.operator;
    if (!operator) {
      return refuse(
        'set the hazing operator first (name and agency or permit id): hazing wildlife ' +
          'from the air is legal only under an agency or a permit',
      );
    }
    let settings: PatternSettings;
    try {
      settings = checkPatternSettings(value, 'settings');
    } catch (error) {
      return refuse((error as Error).message);
    }
    const link = this.options.link();
    if (!link) return refuse('there is no vehicle link');
    const vehicle = link.state;
    if (vehicle.link !== 'connected' || !this.options.linkUp()) {
      const why = vehicle.link === 'connecting' ? 'none heard yet' : 'the link is lost';
      return refuse(`no vehicle is connected (${why})`);
    }
    const position = vehicle.position;
    if (!vehicle.armed || !position || position.altitudeRelM < FLYING_ALTITUDE_M) {
      return refuse('take off first (the vehicle must be armed and flying)');
    }
    if (!vehicle.home) return refuse('the vehicle has not reported its home position yet');

    const nowMs = this.now();
    let target: MapTarget | null = null;
    if (targetId !== null) {
      if (typeof targetId !== 'number' || !Number.isFinite(targetId)) {
        return refuse(`targetId must be a number or null, got ${JSON.stringify(targetId)}`);
      }
      target = this.options.targets(nowMs).find((t) => t.id === targetId) ?? null;
      if (!target) return refuse(`target ${targetId} is no longer tracked`);
      // Hazing moves animals; the drone must never be sent after a person.
      if (target.className !== 'bear') {
        return refuse(`target ${target.id} is a ${target.className}, not a bear`);
      }
    } else if (FOLLOWS_BEAR.has(settings.kind)) {
      return refuse(`a ${settings.kind} needs a bear to follow (targetId)`);
    }

    const standoffM = this.options.limits.bearStandoffM;
    const keptM = patternDistanceM(settings);
    if (keptM !== null && keptM < standoffM) {
      return refuse(
        `the ${settings.kind}'s distance from the bear, ${keptM} m, is inside the envelope's ` +
          `bear standoff of ${standoffM} m`,
      );
    }
    const { floorAglM, ceilingAglM } = this.options.limits;
    if (settings.altitudeAglM < floorAglM || settings.altitudeAglM > ceilingAglM) {
      return refuse(
        `the ${settings.kind}'s altitude, ${settings.altitudeAglM} m, is outside the ` +
          `envelope's ${floorAglM}-${ceilingAglM} m above the ground`,
      );
    }
    // The vehicle may be flying home or landing by its own failsafe: never take it back.
    if (RETURNING_MODES.has(vehicle.modeName)) {
      return refuse(
        `the vehicle is in ${vehicle.modeName} (perhaps its own failsafe); ` +
          'ABORT to hold first if it is safe to go on',
      );
    }
    let safeZone: LatLon[] | null = null;
    if (settings.kind === 'push' && settings.safeZoneId !== null) {
      const zone = this.options.zones().find((z) => z.id === settings.safeZoneId);
      if (!zone) return refuse(`safe zone ${settings.safeZoneId} does not exist`);
      const kind = zoneKind(zone);
      if (kind !== 'safe') {
        return refuse(`zone ${zone.id} ("${zone.name}") is a ${kind} zone, not a safe zone`);
      }
      safeZone = zone.polygon.map((p) => ({ ...p }));
    }

    const home = vehicle.home;
    // The newest reading, whether or not telemetry has been folded in since.
    this.battery.sample(nowMs, vehicle.battery?.remainingPct ?? null, true);
    const budget = this.battery.budget(returnSpeedMps(link));
    if (!budget) {
      return refuse('the vehicle reports no battery level, so the way home cannot be kept');
    }
    const droneAglM = position.altitudeRelM - this.groundAboveHomeM(position, home);
    const neededPct = batteryNeededPct(position, home, droneAglM, budget, this.options.limits);
    if (!(budget.remainingPct >= neededPct)) {
      return refuse(
        `the battery has ${Math.round(budget.remainingPct)} %, and ` +
          `${Math.ceil(neededPct)} % is needed to get home with the reserve`,
      );
    }

    this.startingPattern = true;
    const cancels = this.cancels;
    const cancelled = (): CommandOutcome | null =>
      this.disposed
        ? refuse('the station is stopping')
        : this.cancels !== cancels
          ? refused('Pattern not started: ABORT, return home, land or link loss came first.')
          : null;
    try {
      const failsafe = await this.checkFailsafes(vehicle.autopilot, async (name) => {
        const read = await link.readParam(name);
        return read.ok && read.param ? read.param.value : null;
      });
      if (failsafe !== null) return refuse(`the vehicle's failsafes: ${failsafe}`);
      const early = cancelled();
      if (early) return early;

      const startCtx = this.context(link.state, target, safeZone, nowMs);
      let pattern: Pattern;
      try {
        pattern = createPattern(settings, startCtx);
      } catch (error) {
        return refuse((error as Error).message);
      }
      // Its return speed, for the battery rule; ArduPilot only, and needed only later.
      if (vehicle.autopilot === 'ArduPilot' && !link.paramCache.has('WPNAV_SPEED')) {
        void link.readParam('WPNAV_SPEED').catch(() => undefined);
      }

      const guidedModeName = isPx4(vehicle) ? 'AUTO.LOITER' : 'GUIDED';
      const guidedSeen = link.state.modeName === guidedModeName;
      if (!guidedSeen) {
        const mode = await link.setMode('GUIDED');
        // An ABORT supersedes the switch: say that it came first, not that the switch failed.
        if (!mode.ok) return cancelled() ?? refused(`Pattern not started: ${mode.text}`);
      }
      const late = cancelled();
      if (late) return late;

      const startedMs = this.now();
      const bearStart = target ? { ...target.position } : null;
      const event = this.options.hazingLog.start({
        trackId: target?.id ?? null,
        pattern: settings,
        startedMs,
        bearStart,
        droneStart: { latDeg: position.latDeg, lonDeg: position.lonDeg },
      });
      this.lastEventId = event.id;
      this.running = {
        pattern,
        settings: pattern.settings,
        eventId: event.id,
        targetId: target?.id ?? null,
        startedMs,
        bearStart,
        guidedModeName,
        guidedSeen,
        holdSentMs: null,
        holdPoint: null,
        safeZone,
        loggedRules: new Set(),
        lastRoi: null,
        roiBusy: false,
        lastStatusMs: 0,
      };
      const words = describeSettings(pattern.settings);
      this.setStatus({
        kind: settings.kind,
        phase: guidedSeen ? 'flying' : 'starting',
        eventId: event.id,
        targetId: target?.id ?? null,
        settings: pattern.settings,
        text: guidedSeen ? `Flying: ${words}` : 'Switching to GUIDED',
        violation: null,
        setpoint: null,
        preview: safePreview(pattern, startCtx),
        bearStart,
        bearMovedM: bearStart ? 0 : null,
        startedMs,
        awaitingChoice: false,
      });
      // A pattern's speed is the vehicle's, not the spacing of its setpoints.
      if ('speedMps' in settings && link.setSpeed) {
        void link.setSpeed(settings.speedMps).then((outcome) => {
          if (!outcome.ok) this.options.onLog('warn', `Pattern speed not set: ${outcome.text}`);
        });
      }
      if (settings.kind === 'search') {
        // A survey looks straight down; there is no bear to keep the camera on yet.
        void link.setGimbal(-90, 0).then((outcome) => {
          if (!outcome.ok) this.options.onLog('warn', `Camera not pointed down: ${outcome.text}`);
        });
      }
      this.timer = setInterval(() => this.step(), this.options.stepIntervalMs ?? STEP_INTERVAL_MS);
      this.step();
      const about = target ? ` on bear #${target.id}` : '';
      return {
        ok: true,
        result: 'ACCEPTED',
        text: `${capitalise(settings.kind)} started${about}: ${words}`,
      };
    } finally {
      this.startingPattern = false;
    }
  }

  /** Turns or stretches the pattern under way. */
  nudge(nudge: PatternNudge): CommandOutcome {
    const running = this.running;
    if (!running) return refused('Nudge refused: no pattern is flying.');
    const standoffM = this.options.limits.bearStandoffM;
    const before = patternDistanceM(running.settings);
    const delta = nudge?.distanceDeltaM ?? 0;
    if (before !== null && Number.isFinite(delta) && before + delta < standoffM) {
      return refused(
        `Nudge refused: ${before + delta} m from the bear is inside the envelope's bear ` +
          `standoff of ${standoffM} m.`,
      );
    }
    let settings: PatternSettings;
    try {
      settings = running.pattern.nudge(nudge);
    } catch (error) {
      return refused(`Nudge refused: ${(error as Error).message}.`);
    }
    running.settings = settings;
    const words = describeSettings(settings);
    this.logAction(running.eventId, 'nudge', words);
    if (this.current) this.setStatus({ ...this.current, settings });
    return { ok: true, result: 'ACCEPTED', text: `Nudged: ${words}` };
  }

  /**
   * Holds position at once: the step timer stops before anything else, then BRAKE (LOITER
   * where BRAKE is refused; PX4's Hold). The operator then chooses to return home or land.
   */
  async abort(): Promise<CommandOutcome> {
    this.stopTimer();
    this.cancels++;
    this.choices++;
    const running = this.running;
    this.running = null;
    const link = this.options.link();
    const press = this.pressed(running, 'abort', 'operator pressed ABORT', link, 'ABORT');
    // A cancelled start never showed a status: the last pattern's is not brought back.
    if (this.current && !press.cancelledStart) {
      this.setStatus({
        ...this.current,
        phase: 'aborted',
        text: 'ABORTED by operator: holding; return home or land',
        setpoint: null,
        awaitingChoice: true,
      });
    }
    const hold = link
      ? await this.holdMode(link, 'ABORT')
      : refused('ABORT: there is no vehicle link.');
    this.answered(press, 'abort', hold, 'ABORT');
    return hold;
  }

  async returnHome(): Promise<CommandOutcome> {
    return this.leave('return-home', 'RTL', 'Returning home');
  }

  async land(): Promise<CommandOutcome> {
    return this.leave('land', 'LAND', 'Landing');
  }

  /**
   * Switches the airframe's speaker, and logs it to the pattern under way or, like a return
   * home, to the last one after it ended (an ABORT, then the speaker to drive the bear off).
   */
  async speaker(on: boolean): Promise<CommandOutcome> {
    const relay = this.options.speakerRelay ?? null;
    if (relay === null) {
      return refused(
        'Speaker refused: this airframe has no speaker (start with --speaker-relay N).',
      );
    }
    if (typeof on !== 'boolean') return refused('Speaker refused: "on" must be true or false.');
    const link = this.options.link();
    if (!link) return refused('Speaker refused: there is no vehicle link.');
    const outcome = await link.setRelay(relay, on);
    // A start under way has no event yet, and the last one is no part of it.
    const eventId = this.running?.eventId ?? (this.startingPattern ? null : this.lastEventId);
    if (eventId) {
      this.logAction(
        eventId,
        on ? 'speaker-on' : 'speaker-off',
        `relay ${relay}: ${outcome.result}`,
      );
    }
    return { ...outcome, text: `Speaker ${on ? 'on' : 'off'}: ${outcome.text}` };
  }

  /**
   * Telemetry of the active vehicle: the battery's drain is measured from it, and a change
   * away from GUIDED by someone else (a pilot's switch, a failsafe) ends the pattern.
   */
  vehicleChanged(vehicle: VehicleState): void {
    const nowMs = this.now();
    const flying = vehicle.armed && (vehicle.position?.altitudeRelM ?? 0) >= FLYING_ALTITUDE_M;
    // Another vehicle made active: its battery is measured afresh, never mixed with the last.
    if (vehicle.systemId !== this.batterySystemId) {
      this.batterySystemId = vehicle.systemId;
      this.battery = new BatteryMeter();
    }
    this.battery.sample(nowMs, vehicle.battery?.remainingPct ?? null, flying);
    const running = this.running;
    if (!running || vehicle.link !== 'connected') return;
    // The mode in telemetry lags the ACK of the switch by up to a heartbeat, so only a change
    // away from GUIDED after GUIDED was seen means someone else took the vehicle.
    if (vehicle.modeName === running.guidedModeName) {
      if (!running.guidedSeen) {
        running.guidedSeen = true;
        if (this.current?.phase === 'starting') {
          this.setStatus({ ...this.current, phase: 'flying', text: 'Flying' });
        }
      }
      return;
    }
    if (running.guidedSeen) {
      this.finish(running, 'mode-changed', 'aborted', `Mode changed to ${vehicle.modeName}`);
    } else if (
      nowMs - running.startedMs >
      (this.options.guidedConfirmTimeoutMs ?? GUIDED_CONFIRM_TIMEOUT_MS)
    ) {
      this.finish(
        running,
        'failed',
        'failed',
        `The vehicle reports ${vehicle.modeName}, not ${running.guidedModeName}`,
      );
    }
  }

  /** The active vehicle is lost: nothing more is sent; its own failsafe flies it now. */
  linkLost(): void {
    this.cancels++;
    const running = this.running;
    if (!running) return;
    this.finish(
      running,
      'link-lost',
      'failed',
      "Link lost: pattern stopped, the vehicle's own failsafe flies it",
    );
  }

  dispose(): void {
    this.disposed = true;
    this.stopTimer();
    const running = this.running;
    if (running) {
      this.running = null;
      try {
        this.options.hazingLog.action(running.eventId, 'station-stopped', 'the station stopped');
        this.options.hazingLog.end(running.eventId, {
          outcome: 'failed',
          bearEnd: this.bearNow(running)?.position ?? null,
          droneEnd: latLonOf(this.options.link()?.state.position ?? null),
        });
      } catch {
        // The log may already be closed by its owner.
      }
    }
  }

  private async leave(
    action: 'return-home' | 'land',
    modeName: 'RTL' | 'LAND',
    words: string,
  ): Promise<CommandOutcome> {
    const running = this.running;
    if (running) this.stopTimer();
    this.cancels++;
    const choice = ++this.choices;
    this.running = null;
    const link = this.options.link();
    const chose = action === 'return-home' ? 'operator chose return home' : 'operator chose land';
    const press = this.pressed(running, action, chose, link, words);
    if (!link) {
      const none = refused(`${words}: there is no vehicle link.`);
      this.answered(press, action, none, words);
      return none;
    }
    const outcome = await link.setMode(modeName);
    this.answered(press, action, outcome, words);
    // An ABORT pressed meanwhile superseded this switch; its status stands.
    if (this.current && this.choices === choice && !press.cancelledStart) {
      this.setStatus({
        ...this.current,
        phase: running || action === 'return-home' ? 'returning' : this.current.phase,
        text: outcome.ok ? words : `${words} failed: ${outcome.text}`,
        setpoint: null,
        awaitingChoice: outcome.ok ? false : this.current.awaitingChoice,
      });
    }
    return outcome;
  }

  /** One step of the pattern: plan from the live track, check, send or hold. */
  private step(): void {
    const running = this.running;
    if (!running || this.disposed) return;
    const link = this.options.link();
    if (!link || !this.options.linkUp() || link.state.link !== 'connected') {
      this.linkLost();
      return;
    }
    const vehicle = link.state;
    const position = vehicle.position;
    const home = vehicle.home;
    if (!position || !home) return;
    const nowMs = this.now();
    const bear = this.bearNow(running);
    const ctx = this.context(vehicle, bear, running.safeZone, nowMs);
    let stepResult;
    try {
      stepResult = running.pattern.step(ctx);
    } catch (error) {
      this.finish(running, 'failed', 'failed', `Pattern failed: ${(error as Error).message}`);
      return;
    }
    const bearTowardM = stepResult.bearTowardM ?? this.current?.bearTowardM ?? null;
    const bearMovedM =
      stepResult.bearMovedM ??
      (running.bearStart && bear ? distanceM(running.bearStart, bear.position) : null);

    const world = this.world(vehicle, ctx.drone, nowMs);
    // The battery is checked on every step, whether or not there is a setpoint to send.
    if (world.battery) {
      const neededPct = batteryNeededPct(
        ctx.drone,
        home,
        ctx.drone.altitudeAglM,
        world.battery,
        this.options.limits,
      );
      if (world.battery.remainingPct < neededPct) {
        this.batteryLow(running, link, world.battery.remainingPct, neededPct);
        return;
      }
    }

    if (stepResult.outcome) {
      this.patternOver(running, link, stepResult.outcome, stepResult.text);
      return;
    }

    let violation: Violation | null = null;
    let sent: Setpoint | null = null;
    if (stepResult.setpoint) {
      violation = checkSetpoint(stepResult.setpoint, world, this.options.limits);
      if (violation?.rule === 'battery') {
        this.batteryLow(running, link, world.battery?.remainingPct ?? 0, Number.NaN);
        return;
      }
      if (!violation) {
        const altitudeRelM = this.relativeAltitudeM(stepResult.setpoint, home);
        link.sendPositionTarget({
          latDeg: stepResult.setpoint.latDeg,
          lonDeg: stepResult.setpoint.lonDeg,
          altitudeRelM,
        });
        sent = stepResult.setpoint;
        running.holdSentMs = null;
        running.holdPoint = null;
        running.loggedRules.clear();
      }
    }
    if (!sent) this.holdHere(running, link, position, violation);
    if (bear && running.settings.kind !== 'search') this.aimCamera(running, link, bear, home);

    const before = this.current;
    // No setpoint and no broken rule (the bear is lost): the drone holds all the same, and the
    // step's text says why.
    const phase: ActionStatus['phase'] =
      violation || !stepResult.setpoint ? 'holding' : running.guidedSeen ? 'flying' : 'starting';
    const text = violation ? `Holding: ${violation.text}` : stepResult.text;
    const changed =
      !before ||
      before.phase !== phase ||
      before.violation?.rule !== violation?.rule ||
      before.violation?.text !== violation?.text;
    if (!changed && nowMs - running.lastStatusMs < STATUS_INTERVAL_MS) {
      // Kept quietly, sent with the next status.
      if (before) {
        this.current = { ...before, setpoint: sent ?? null, bearMovedM, bearTowardM, text };
      }
      return;
    }
    running.lastStatusMs = nowMs;
    this.setStatus({
      ...(before as ActionStatus),
      phase,
      settings: running.settings,
      text,
      violation,
      setpoint: sent,
      preview: safePreview(running.pattern, ctx),
      bearMovedM,
      bearTowardM,
    });
  }

  /** A position target where the drone was when the run of refusals began. */
  private holdHere(
    running: Running,
    link: RunnerLink,
    position: NonNullable<VehicleState['position']>,
    violation: Violation | null,
  ): void {
    // Repeated now and then, not every step: a position target has no ACK and a lossy radio
    // may drop one, leaving the vehicle on its way to the last setpoint.
    const nowMs = this.now();
    if (running.holdSentMs === null || nowMs - running.holdSentMs >= HOLD_RESEND_MS) {
      running.holdSentMs = nowMs;
      running.holdPoint ??= {
        latDeg: position.latDeg,
        lonDeg: position.lonDeg,
        altitudeRelM: position.altitudeRelM,
      };
      link.sendPositionTarget(running.holdPoint);
    }
    if (violation && !running.loggedRules.has(violation.rule)) {
      running.loggedRules.add(violation.rule);
      this.options.onLog('warn', `Setpoint refused, holding: ${violation.text}`);
      this.logAction(running.eventId, 'hold', `${violation.rule}: ${violation.text}`);
    }
  }

  /** DO_SET_ROI_LOCATION where the bear will be in a moment, when it has moved enough. */
  private aimCamera(
    running: Running,
    link: RunnerLink,
    bear: MapTarget,
    home: NonNullable<VehicleState['home']>,
  ): void {
    const nowMs = this.now();
    if (running.roiBusy) return;
    const last = running.lastRoi;
    if (last && nowMs - last.timeMs < ROI_MIN_INTERVAL_MS) return;
    const speedMps = bear.speedMps ?? 0;
    // Led only while the track is fresh: a bear not seen for a moment is looked for where it
    // was last seen, not where a stale (perhaps jumped) velocity says it went.
    const fresh = nowMs - bear.lastSeenMs <= ROI_LEAD_FRESH_MS;
    const point =
      fresh && speedMps > 0 && bear.courseDeg !== null && bear.courseDeg !== undefined
        ? destination(bear.position, bear.courseDeg, speedMps * ROI_LEAD_S)
        : bear.position;
    if (last && distanceM(last.point, point) <= ROI_MIN_MOVE_M) return;
    const groundMslM = this.options.terrain?.elevationMslM(point) ?? home.altitudeMslM;
    running.lastRoi = { point, timeMs: nowMs };
    running.roiBusy = true;
    link
      .setRegionOfInterest({ ...point, altitudeMslM: groundMslM })
      .then(
        (outcome) => {
          if (!outcome.ok)
            this.options.onLog('warn', `Camera not kept on the bear: ${outcome.text}`);
        },
        (error: unknown) =>
          this.options.onLog('warn', `Camera not kept on the bear: ${String(error)}`),
      )
      .finally(() => {
        running.roiBusy = false;
      });
  }

  private batteryLow(running: Running, link: RunnerLink, remainingPct: number, neededPct: number) {
    const need = Number.isFinite(neededPct) ? `, ${Math.ceil(neededPct)} % needed to get home` : '';
    const text = `Battery ${Math.round(remainingPct)} %${need}: pattern ended, returning home`;
    this.finish(running, 'battery', 'returning', text);
    void link.setMode('RTL').then((outcome) => {
      if (!outcome.ok) this.options.onLog('error', `Return home failed: ${outcome.text}`);
    });
  }

  private patternOver(
    running: Running,
    link: RunnerLink,
    outcome: 'success' | 'finished' | 'lost-bear',
    text: string,
  ): void {
    const settings = running.settings;
    const returning =
      outcome === 'success' && settings.kind === 'push' && settings.onSuccess === 'return';
    const phase: ActionStatus['phase'] =
      outcome === 'success' ? 'succeeded' : outcome === 'finished' ? 'finished' : 'failed';
    this.finish(running, outcome, phase, `${text}${returning ? '; returning home' : '; holding'}`);
    const next = returning ? link.setMode('RTL') : this.holdMode(link);
    void next.then((answer) => {
      if (!answer.ok) this.options.onLog('error', `After the pattern: ${answer.text}`);
    });
  }

  /** Ends the pattern: no more setpoints; the event gets its outcome. */
  private finish(
    running: Running,
    outcome: HazingOutcome,
    phase: ActionStatus['phase'],
    text: string,
  ): void {
    if (this.running !== running) return;
    this.stopTimer();
    this.running = null;
    this.endEvent(running, outcome, this.options.link()?.state ?? null);
    const level = outcome === 'success' || outcome === 'finished' ? 'info' : 'warn';
    this.options.onLog(level, `${capitalise(running.settings.kind)}: ${text}`);
    if (this.current) {
      this.setStatus({ ...this.current, phase, text, setpoint: null, awaitingChoice: false });
    }
  }

  private endEvent(running: Running, outcome: HazingOutcome, vehicle: VehicleState | null): void {
    try {
      this.options.hazingLog.end(running.eventId, {
        outcome,
        bearEnd: this.bearNow(running)?.position ?? null,
        droneEnd: latLonOf(vehicle?.position ?? null),
        endedMs: this.now(),
      });
    } catch (error) {
      this.options.onLog('error', `Hazing log: ${(error as Error).message}`);
    }
  }

  /**
   * Logs an operator's ABORT, return or landing at the press, before the vehicle answers (the
   * record must hold it if the station stops meanwhile), and ends the pattern's event.
   * @param label the choice as the station log names it: "ABORT", "Returning home"
   * @returns the event the vehicle's answer goes to, and whether a start was cancelled
   */
  private pressed(
    running: Running | null,
    action: string,
    detail: string,
    link: RunnerLink | null,
    label: string,
  ): Press {
    if (running) {
      this.logAction(running.eventId, action, detail);
      this.endEvent(running, 'aborted', link?.state ?? null);
      return { eventId: running.eventId, cancelledStart: false };
    }
    if (this.startingPattern) {
      // The start opened no event yet and now never will; the last one is over and is no part
      // of this, nor of the choice that follows it.
      this.lastEventId = null;
      this.options.onLog('warn', `${label}: the pattern being started is cancelled`);
      return { eventId: null, cancelledStart: true };
    }
    if (this.lastEventId) this.logAction(this.lastEventId, action, detail);
    return { eventId: this.lastEventId, cancelledStart: false };
  }

  /** The vehicle's answer to an operator's choice: another action of its event, if any. */
  private answered(press: Press, action: string, outcome: CommandOutcome, label: string): void {
    if (press.eventId) {
      this.logAction(press.eventId, `${action}-answer`, outcome.text);
    } else if (press.cancelledStart) {
      this.options.onLog(outcome.ok ? 'info' : 'warn', `${label}: ${outcome.text}`);
    }
  }

  private logAction(eventId: string, action: string, detail: string): void {
    try {
      this.options.hazingLog.action(eventId, action, detail, this.now());
    } catch (error) {
      this.options.onLog('error', `Hazing log: ${(error as Error).message}`);
    }
  }

  /**
   * BRAKE, else LOITER (PX4: Hold): the vehicle holds where it is.
   * @param preempt what abandons a mode switch still waiting for its answer ("ABORT")
   */
  private async holdMode(link: RunnerLink, preempt?: string): Promise<CommandOutcome> {
    const options = preempt === undefined ? {} : { preempt };
    if (isPx4(link.state)) {
      const hold = await link.setMode('HOLD', options);
      return { ...hold, text: hold.ok ? 'Holding position (Hold)' : hold.text };
    }
    const brake = await link.setMode('BRAKE', options);
    if (brake.ok) return { ...brake, text: 'Holding position (BRAKE)' };
    this.options.onLog('warn', `BRAKE refused (${brake.text}); trying LOITER`);
    const loiter = await link.setMode('LOITER', options);
    if (loiter.ok) return { ...loiter, text: 'BRAKE refused; holding position (LOITER)' };
    return { ...loiter, text: `Could not hold position: ${brake.text}; ${loiter.text}` };
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private setStatus(status: ActionStatus | null): void {
    this.current = status;
    this.options.onStatus(status);
  }

  private bearNow(running: Running): MapTarget | null {
    if (running.targetId === null) return null;
    return this.options.targets(this.now()).find((t) => t.id === running.targetId) ?? null;
  }

  private context(
    vehicle: VehicleState,
    bear: MapTarget | null,
    safeZone: LatLon[] | null,
    nowMs: number,
  ): PatternContext {
    const position = vehicle.position as NonNullable<VehicleState['position']>;
    const home = vehicle.home ?? position;
    return {
      nowMs,
      drone: {
        latDeg: position.latDeg,
        lonDeg: position.lonDeg,
        altitudeAglM: position.altitudeRelM - this.groundAboveHomeM(position, home),
      },
      bear: bear ? patternBear(bear) : null,
      safeZone,
      camera: { ...this.options.camera, imageWidthPx: this.options.imageWidthPx() },
    };
  }

  private world(
    vehicle: VehicleState,
    drone: EnvelopeWorld['drone'],
    nowMs: number,
  ): EnvelopeWorld {
    const zones = this.options.zones();
    const polygons = (kind: string) =>
      zones.filter((zone) => zoneKind(zone) === kind).map((zone) => zone.polygon);
    const link = this.options.link();
    const home = latLonOf(vehicle.home) as LatLon;
    const terrain = this.options.terrain;
    return {
      drone,
      home,
      bears: this.options
        .targets(nowMs)
        .filter((t) => t.className === 'bear')
        .map((t) => ({ ...t.position })),
      people: this.options.people(nowMs),
      fences: polygons('fence'),
      noFlyZones: polygons('no-fly'),
      battery: this.battery.budget(link ? returnSpeedMps(link) : null),
      linkUp: this.options.linkUp(),
      // Over an elevation model the floor and ceiling hold all along the path. Null where the
      // model has no data, which the envelope refuses (groundAboveHomeM's 0 would hide it).
      ...(terrain && {
        groundAboveHomeM: (point: LatLon): number | null => {
          const homeMslM = terrain.elevationMslM(home);
          const hereMslM = terrain.elevationMslM(point);
          return homeMslM === null || hereMslM === null ? null : hereMslM - homeMslM;
        },
      }),
    };
  }

  /** Flat ground at home unless there is terrain: then the ground's height above home's. */
  private groundAboveHomeM(point: LatLon, home: LatLon): number {
    const terrain = this.options.terrain;
    if (!terrain) return 0;
    const homeMslM = terrain.elevationMslM(home);
    const hereMslM = terrain.elevationMslM(point);
    return homeMslM === null || hereMslM === null ? 0 : hereMslM - homeMslM;
  }

  private relativeAltitudeM(setpoint: Setpoint, home: LatLon): number {
    return setpoint.altitudeAglM + this.groundAboveHomeM(setpoint, home);
  }
}

/** The settings in words, for the operator and the hazing log. */
export function describeSettings(settings: PatternSettings): string {
  switch (settings.kind) {
    case 'push':
      return (
        `push toward ${Math.round(settings.safeBearingDeg)} deg` +
        (settings.safeZoneId !== null ? ` (safe zone ${settings.safeZoneId})` : '') +
        `, standoff ${settings.standoffM} m, ${settings.altitudeAglM} m up, ` +
        `success at ${settings.successDistanceM} m, then ${settings.onSuccess}`
      );
    case 'orbit':
      return (
        `orbit radius ${settings.radiusM} m at ${settings.speedMps} m/s, ` +
        `${settings.altitudeAglM} m up, ${settings.clockwise ? 'clockwise' : 'anticlockwise'}`
      );
    case 'zigzag':
      return (
        `zigzag ${settings.halfWidthM} m either side of the line, legs ` +
        `${settings.legSpacingM} m apart, ${settings.altitudeAglM} m up at ${settings.speedMps} m/s`
      );
    case 'search':
      return (
        `search over ${settings.polygon.length} corners, ${settings.altitudeAglM} m up, ` +
        `${settings.overlapPct} % overlap at ${settings.speedMps} m/s`
      );
    case 'shadow':
      return (
        `shadow ${settings.offsetM} m from the bear toward ` +
        `${Math.round(settings.offsetBearingDeg)} deg, ${settings.altitudeAglM} m up`
      );
  }
}

/** ArduCopter's WPNAV_SPEED (cm/s) where it has been read, else null. */
function returnSpeedMps(link: RunnerLink): number | null {
  const speedCmps = link.paramCache.get('WPNAV_SPEED')?.value;
  return speedCmps === undefined ? null : speedCmps / 100;
}

function patternBear(target: MapTarget): PatternBear {
  return {
    latDeg: target.position.latDeg,
    lonDeg: target.position.lonDeg,
    trackId: target.id,
    courseDeg: target.courseDeg ?? null,
    speedMps: target.speedMps ?? null,
    lastSeenMs: target.lastSeenMs,
  };
}

function safePreview(pattern: Pattern, ctx: PatternContext): LatLon[] {
  try {
    return pattern.preview(ctx);
  } catch {
    // A preview is for the map; a pattern that cannot draw one still flies checked setpoints.
    return [];
  }
}

/** A zone's kind; zones saved before kinds existed are protected zones. */
export function zoneKind(zone: ProtectedZone): string {
  return (zone as { kind?: string }).kind ?? 'protected';
}

function isPx4(vehicle: VehicleState): boolean {
  return vehicle.autopilot === 'PX4';
}

function latLonOf(point: LatLon | null | undefined): LatLon | null {
  return point ? { latDeg: point.latDeg, lonDeg: point.lonDeg } : null;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function refused(text: string): CommandOutcome {
  return { ok: false, result: 'NOT_SENT', text };
}
