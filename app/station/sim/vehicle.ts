// The simulated quadcopter: ArduCopter's flight modes and refusals, AUTO missions, simple
// kinematics, a gimbal and a battery. No sockets and no clock: the caller steps it and asks it
// things. Positions are metres north/east of home on flat ground at home altitude. Speeds, the
// RTL altitude and the disarm delay come from its parameters, as on ArduCopter.

import { common } from 'node-mavlink';

import { ARDUCOPTER_MODES, arduCopterModeName, isArduCopterMode } from '../../core/ardupilot-modes';
import { bearingDeg, northEastOf, offsetNorthEast } from '../../core/geodesy';
import type { LatLon } from '../../core/types';
import type { MissionItem } from '../mavlink/mission';
import { SimParams } from './params';

const { MavResult, MavSeverity, MavCmd, MavFrame } = common;
type MavResult = common.MavResult;

export interface SimHome extends LatLon {
  altitudeMslM: number;
}

const GRAVITY_MPS2 = 9.81;
const HORIZONTAL_ACCEL_MPS2 = 2.5;
const CLIMB_RATE_MPS = 3;
const DESCENT_RATE_MPS = 1.5;
/** Below this a landing slows to LAND_SPEED. */
const FINAL_DESCENT_BELOW_M = 10;
const VERTICAL_ACCEL_MPS2 = 2.5;
const YAW_RATE_DEG_S = 90;
const GIMBAL_RATE_DEG_S = 90;
const GIMBAL_PITCH_MIN_DEG = -90;
const GIMBAL_PITCH_MAX_DEG = 30;
/** A takeoff is done this close to its altitude. */
const TAKEOFF_DONE_M = 0.5;
/** A waypoint is reached within WPNAV_RADIUS horizontally and this vertically. */
const WAYPOINT_VERTICAL_M = 1;
/** Turn to face the direction of travel above this ground speed. */
const FACE_TRAVEL_ABOVE_MPS = 1;
const BATTERY_CAPACITY_MAH = 5200;
const BATTERY_FULL_V = 16.8;
const BATTERY_EMPTY_V = 13.2;
const LOW_BATTERY_PCT = 25;
/** COMPONENT_ARM_DISARM param2 that forces a disarm in flight. */
export const FORCE_DISARM_MAGIC = 21196;

const MODE = ARDUCOPTER_MODES;
/** Modes ArduCopter lets you arm in (Mode::allows_arming). */
const ARMABLE_MODES = new Set([
  MODE.STABILIZE,
  MODE.ACRO,
  MODE.ALT_HOLD,
  MODE.GUIDED,
  MODE.LOITER,
  MODE.DRIFT,
  MODE.SPORT,
  MODE.POSHOLD,
  MODE.GUIDED_NOGPS,
  MODE.FLOWHOLD,
  MODE.ZIGZAG,
]);
/** Modes that fly to a position; ArduCopter reports them with MAV_MODE_FLAG_GUIDED_ENABLED. */
const POSITION_MODES = new Set([
  MODE.AUTO,
  MODE.GUIDED,
  MODE.LOITER,
  MODE.RTL,
  MODE.CIRCLE,
  MODE.LAND,
  MODE.POSHOLD,
  MODE.BRAKE,
  MODE.SMART_RTL,
  MODE.FOLLOW,
  MODE.ZIGZAG,
  MODE.AUTO_RTL,
]);

interface LocalPoint {
  northM: number;
  eastM: number;
}

interface Target3 extends LocalPoint {
  altitudeRelM: number;
}

type RtlPhase = 'climb' | 'return' | 'descend';

interface FlightGoal {
  horizontal: LocalPoint | null;
  altitudeRelM: number;
}

const HOME_POINT: LocalPoint = { northM: 0, eastM: 0 };
/** Landing aims below the ground so the descent does not slow to nothing at touchdown. */
const LAND_TARGET_M = -1;
/** The fastest DO_CHANGE_SPEED the simulated quadcopter takes. */
const MAX_CHANGE_SPEED_MPS = 20;

export type TextSink = (severity: common.MavSeverity, text: string) => void;

/** What the vehicle tells about its mission: MISSION_CURRENT and MISSION_ITEM_REACHED. */
export type MissionSink = (event: { kind: 'current' | 'reached'; seq: number }) => void;

/** The step of an AUTO mission being flown. */
type AutoStep =
  | { kind: 'takeoff'; point: LocalPoint; altitudeRelM: number }
  | { kind: 'goto'; target: Target3; holdS: number; arrived: boolean; heldS: number }
  | { kind: 'land'; target: LocalPoint | null; descending: boolean }
  | { kind: 'rtl' }
  | { kind: 'done' };

export class SimVehicle {
  armed = false;
  modeNumber: number = MODE.STABILIZE;
  northM = 0;
  eastM = 0;
  altitudeRelM = 0;
  velocityNorthMps = 0;
  velocityEastMps = 0;
  velocityUpMps = 0;
  yawDeg = 0;
  yawRateDegS = 0;
  rollDeg = 0;
  pitchDeg = 0;
  landed = true;
  /** Gimbal pitch (negative down) and yaw relative to the nose. */
  gimbalPitchDeg = -45;
  gimbalYawDeg = 0;
  batteryVoltageV = BATTERY_FULL_V;
  batteryCurrentA = 0;
  batteryConsumedMah = 0;

  private gimbalTargetPitchDeg = -45;
  private gimbalTargetYawDeg = 0;
  /** Set by DO_CHANGE_SPEED until the next mode change; null for WPNAV_SPEED. */
  private speedOverrideMps: number | null = null;
  /** Where GUIDED flies to; null when it holds where it stops. */
  private guidedTarget: Target3 | null = null;
  /** Where a mode without a target holds, once it has stopped. */
  private holdPoint: Target3 | null = null;
  private roi: (LocalPoint & { altitudeMslM: number }) | null = null;
  /** The nose follows the ROI until the next mode change (ArduCopter's auto_yaw). */
  private noseFollowsRoi = false;
  /** The gimbal follows the ROI until it is told angles (AP_Mount's GPS_POINT mode). */
  private gimbalFollowsRoi = false;
  private rtlPhase: RtlPhase | null = null;
  private rtlAltitudeM = 0;
  private groundIdleS = 0;
  private warnedLowBattery = false;
  private mission: MissionItem[] = [];
  /** The mission item flown (or to fly) next, as MISSION_CURRENT reports it. */
  missionSeq = 0;
  private auto: AutoStep | null = null;

  constructor(
    readonly home: SimHome,
    private readonly say: TextSink,
    readonly params: SimParams = new SimParams(),
    private readonly missionEvents: MissionSink = () => {},
  ) {
    this.rtlAltitudeM = this.rtlAltitudeParamM;
  }

  private get rtlAltitudeParamM(): number {
    return this.params.get('RTL_ALT') / 100;
  }

  private get maxSpeedMps(): number {
    return this.speedOverrideMps ?? this.params.get('WPNAV_SPEED') / 100;
  }

  /** DO_CHANGE_SPEED: as ArduCopter, it lasts until the next change of mode. */
  changeSpeed(speedMps: number): MavResult {
    if (!Number.isFinite(speedMps) || speedMps <= 0 || speedMps > MAX_CHANGE_SPEED_MPS) {
      return MavResult.DENIED;
    }
    this.speedOverrideMps = speedMps;
    return MavResult.ACCEPTED;
  }

  private get landSpeedMps(): number {
    return this.params.get('LAND_SPEED') / 100;
  }

  get missionItems(): readonly MissionItem[] {
    return this.mission;
  }

  /** A new mission list; a mission in flight goes on from the same item number. */
  setMission(items: MissionItem[]): void {
    this.mission = items.map((item) => ({ ...item }));
    if (this.missionSeq >= this.mission.length) this.missionSeq = 0;
    if (this.modeNumber === MODE.AUTO && this.auto && this.armed && !this.landed) {
      this.startItem(Math.max(1, this.missionSeq));
    }
  }

  get batteryRemainingPct(): number {
    return Math.max(0, 100 * (1 - this.batteryConsumedMah / BATTERY_CAPACITY_MAH));
  }

  get position(): LatLon & { altitudeMslM: number; altitudeRelM: number } {
    const point = offsetNorthEast(this.home, this.northM, this.eastM);
    return {
      ...point,
      altitudeMslM: this.home.altitudeMslM + this.altitudeRelM,
      altitudeRelM: this.altitudeRelM,
    };
  }

  get groundSpeedMps(): number {
    return Math.hypot(this.velocityNorthMps, this.velocityEastMps);
  }

  get usesPositionControl(): boolean {
    return POSITION_MODES.has(this.modeNumber);
  }

  get gimbalTracksRoi(): boolean {
    return this.gimbalFollowsRoi && this.roi !== null;
  }

  arm(): MavResult {
    if (this.armed) return MavResult.ACCEPTED;
    if (!ARMABLE_MODES.has(this.modeNumber)) {
      this.say(MavSeverity.CRITICAL, 'Arm: Mode not armable');
      return MavResult.FAILED;
    }
    this.armed = true;
    this.groundIdleS = 0;
    this.say(MavSeverity.INFO, 'Arming motors');
    return MavResult.ACCEPTED;
  }

  disarm(force: boolean): MavResult {
    if (!this.armed) return MavResult.ACCEPTED;
    // ArduCopter refuses a MAVLink disarm in the air unless it is forced.
    if (!this.landed && !force) return MavResult.FAILED;
    this.disarmNow(force ? 'Disarming motors (forced)' : 'Disarming motors');
    return MavResult.ACCEPTED;
  }

  setMode(modeNumber: number): MavResult {
    if (!isArduCopterMode(modeNumber)) return MavResult.FAILED;
    if (modeNumber === this.modeNumber) return MavResult.ACCEPTED;
    const refusal = this.modeRefusal(modeNumber);
    if (refusal !== null) {
      this.say(MavSeverity.WARNING, refusal);
      this.say(MavSeverity.WARNING, `Flight mode change failed`);
      return MavResult.FAILED;
    }
    this.modeNumber = modeNumber;
    this.speedOverrideMps = null;
    this.noseFollowsRoi = false;
    this.guidedTarget = null;
    this.holdPoint = null;
    this.auto = null;
    this.rtlPhase = modeNumber === MODE.RTL ? 'climb' : null;
    this.rtlAltitudeM = Math.max(this.rtlAltitudeParamM, this.altitudeRelM);
    if (modeNumber === MODE.AUTO && this.armed) {
      const resume = this.missionSeq >= 1 && this.missionSeq < this.mission.length;
      this.startItem(resume && !this.landed ? this.missionSeq : 1);
    }
    return MavResult.ACCEPTED;
  }

  /** Why ArduCopter would not enter a mode now (its Mode::init checks), or null. */
  private modeRefusal(modeNumber: number): string | null {
    // Disarmed, ArduCopter skips the checks (ignore_checks).
    if (!this.armed) return modeNumber === MODE.FLIP ? 'Flip: not flying' : null;
    if (modeNumber === MODE.FLIP && this.landed) return 'Flip: not flying';
    if (modeNumber === MODE.AUTO) {
      if (this.mission.length <= 1) return 'Auto: mission empty';
      if (this.landed && this.firstNavCommand() !== MavCmd.NAV_TAKEOFF) {
        return 'Auto: Missing Takeoff Cmd';
      }
    }
    return null;
  }

  private firstNavCommand(): number | null {
    const item = this.mission.slice(1).find((candidate) => isNavCommand(candidate.command));
    return item?.command ?? null;
  }

  /** MAV_CMD_NAV_TAKEOFF: ArduCopter's Mode::do_user_takeoff answers FAILED when it cannot. */
  takeoff(altitudeRelM: number): MavResult {
    if (!this.armed || !this.landed) return MavResult.FAILED;
    if (this.modeNumber !== MODE.GUIDED) return MavResult.FAILED;
    if (!Number.isFinite(altitudeRelM) || altitudeRelM <= this.altitudeRelM) {
      return MavResult.FAILED;
    }
    this.landed = false;
    this.groundIdleS = 0;
    this.guidedTarget = { northM: this.northM, eastM: this.eastM, altitudeRelM };
    this.say(MavSeverity.INFO, `Takeoff to ${Math.round(altitudeRelM)} m`);
    return MavResult.ACCEPTED;
  }

  /** MAV_CMD_DO_REPOSITION, as ArduCopter's handle_command_int_do_reposition answers it. */
  reposition(target: LatLon & { altitudeRelM: number }, changeMode: boolean): MavResult {
    if (this.modeNumber !== MODE.GUIDED && !changeMode) return MavResult.DENIED;
    if (!validLatLon(target) || !Number.isFinite(target.altitudeRelM)) return MavResult.DENIED;
    if (this.modeNumber !== MODE.GUIDED) this.setMode(MODE.GUIDED);
    this.setGuidedTarget(target);
    return MavResult.ACCEPTED;
  }

  /** SET_POSITION_TARGET_GLOBAL_INT: ArduCopter ignores it outside GUIDED; it has no ACK. */
  setPositionTarget(target: LatLon & { altitudeRelM: number }): boolean {
    if (this.modeNumber !== MODE.GUIDED || !validLatLon(target)) return false;
    if (!Number.isFinite(target.altitudeRelM)) return false;
    this.setGuidedTarget(target);
    return true;
  }

  /** A zero position clears the region of interest, as ArduPilot does. */
  setRegionOfInterest(point: (LatLon & { altitudeMslM: number }) | null): MavResult {
    if (point === null || (point.latDeg === 0 && point.lonDeg === 0)) {
      this.roi = null;
      this.noseFollowsRoi = false;
      this.gimbalFollowsRoi = false;
      return MavResult.ACCEPTED;
    }
    if (!validLatLon(point) || !Number.isFinite(point.altitudeMslM)) return MavResult.FAILED;
    this.roi = { ...northEastOf(this.home, point), altitudeMslM: point.altitudeMslM };
    this.noseFollowsRoi = true;
    this.gimbalFollowsRoi = true;
    return MavResult.ACCEPTED;
  }

  /** MAV_CMD_DO_MOUNT_CONTROL with angles in degrees; yaw is relative to the nose. */
  mountControl(pitchDeg: number, yawDeg: number, mountMode: number): MavResult {
    const { RETRACT, NEUTRAL, MAVLINK_TARGETING } = common.MavMountMode;
    if (mountMode === RETRACT || mountMode === NEUTRAL) {
      this.gimbalFollowsRoi = false;
      this.gimbalTargetPitchDeg = 0;
      this.gimbalTargetYawDeg = 0;
      return MavResult.ACCEPTED;
    }
    if (mountMode !== MAVLINK_TARGETING) return MavResult.DENIED;
    if (!Number.isFinite(pitchDeg) || !Number.isFinite(yawDeg)) return MavResult.DENIED;
    this.gimbalFollowsRoi = false;
    this.gimbalTargetPitchDeg = clamp(pitchDeg, GIMBAL_PITCH_MIN_DEG, GIMBAL_PITCH_MAX_DEG);
    this.gimbalTargetYawDeg = wrap180(yawDeg);
    return MavResult.ACCEPTED;
  }

  step(dtS: number): void {
    if (dtS <= 0) return;
    const before = { north: this.velocityNorthMps, east: this.velocityEastMps };
    if (this.armed && !this.landed) this.fly(dtS);
    else if (this.altitudeRelM > 0) this.fall(dtS);
    else this.sitOnGround(dtS);
    this.updateTilt(dtS, before);
    this.updateGimbal(dtS);
    this.updateBattery(dtS);
  }

  private setGuidedTarget(target: LatLon & { altitudeRelM: number }): void {
    this.guidedTarget = { ...northEastOf(this.home, target), altitudeRelM: target.altitudeRelM };
  }

  private fly(dtS: number): void {
    const goal = this.goal();
    if (goal.horizontal) this.moveHorizontally(goal.horizontal, dtS);
    else this.brake(dtS);
    this.moveVertically(goal.altitudeRelM, this.descentRate(), dtS);
    this.turn(dtS, goal.horizontal !== null);

    if (this.altitudeRelM <= 0) this.touchDown();
    else if (this.modeNumber === MODE.RTL) this.advanceRtl();
    else if (this.modeNumber === MODE.AUTO) this.advanceAuto(dtS);
  }

  /** Where the current mode wants to be; no horizontal goal means stop, then hold. */
  private goal(): FlightGoal {
    const holding = (target: Target3 | null): FlightGoal =>
      target
        ? { horizontal: target, altitudeRelM: target.altitudeRelM }
        : { horizontal: null, altitudeRelM: this.altitudeRelM };
    switch (this.modeNumber) {
      case MODE.GUIDED:
        return holding(this.guidedTarget ?? this.holdPoint);
      case MODE.LAND:
        return { horizontal: null, altitudeRelM: LAND_TARGET_M };
      case MODE.RTL:
        return this.rtlGoal();
      case MODE.AUTO:
        return this.autoGoal() ?? holding(this.holdPoint);
      default:
        return holding(this.holdPoint);
    }
  }

  /** Climb where it is to RTL_ALT, fly home at that height, then land. */
  private rtlGoal(): FlightGoal {
    if (this.rtlPhase === 'climb') return { horizontal: null, altitudeRelM: this.rtlAltitudeM };
    if (this.rtlPhase === 'return') {
      return { horizontal: HOME_POINT, altitudeRelM: this.rtlAltitudeM };
    }
    return { horizontal: HOME_POINT, altitudeRelM: LAND_TARGET_M };
  }

  private autoGoal(): FlightGoal | null {
    const step = this.auto;
    if (!step) return null;
    switch (step.kind) {
      case 'takeoff':
        return { horizontal: step.point, altitudeRelM: step.altitudeRelM };
      case 'goto':
        return { horizontal: step.target, altitudeRelM: step.target.altitudeRelM };
      case 'land':
        if (step.descending || !step.target) {
          return { horizontal: step.target ?? this.holdPoint, altitudeRelM: LAND_TARGET_M };
        }
        return { horizontal: step.target, altitudeRelM: this.altitudeRelM };
      case 'rtl':
        return this.rtlGoal();
      case 'done':
        return null;
    }
  }

  /** Begins mission item `seq`, passing over the ones that are not navigation. */
  private startItem(seq: number): void {
    for (let index = seq; index < this.mission.length; index++) {
      const item = this.mission[index];
      this.missionSeq = index;
      this.missionEvents({ kind: 'current', seq: index });
      const step = this.stepFor(item);
      if (step === null) continue;
      this.auto = step;
      this.say(MavSeverity.INFO, `Mission: ${index} ${commandWords(item.command)}`);
      if (step.kind === 'takeoff' && this.landed) {
        this.landed = false;
        this.groundIdleS = 0;
      }
      if (step.kind === 'rtl') {
        this.rtlPhase = 'climb';
        this.rtlAltitudeM = Math.max(this.rtlAltitudeParamM, this.altitudeRelM);
      }
      return;
    }
    this.auto = { kind: 'done' };
    this.holdPoint = { northM: this.northM, eastM: this.eastM, altitudeRelM: this.altitudeRelM };
    this.say(MavSeverity.INFO, 'Mission complete');
  }

  /** The flight step for a navigation item; null for items that are not navigation. */
  private stepFor(item: MissionItem): AutoStep | null {
    const here: LocalPoint = { northM: this.northM, eastM: this.eastM };
    const altitudeRelM = this.itemAltitudeRelM(item);
    const place = (): LocalPoint =>
      item.x === 0 && item.y === 0
        ? here
        : northEastOf(this.home, { latDeg: item.x / 1e7, lonDeg: item.y / 1e7 });
    switch (item.command) {
      case MavCmd.NAV_TAKEOFF:
        return { kind: 'takeoff', point: here, altitudeRelM };
      case MavCmd.NAV_WAYPOINT:
      case MavCmd.NAV_LOITER_TIME:
      case MavCmd.NAV_LOITER_UNLIM: {
        const holdS = item.command === MavCmd.NAV_LOITER_UNLIM ? Infinity : item.param1;
        const target = { ...place(), altitudeRelM };
        return { kind: 'goto', target, holdS: Math.max(0, holdS || 0), arrived: false, heldS: 0 };
      }
      case MavCmd.NAV_LAND:
        return {
          kind: 'land',
          target: item.x === 0 && item.y === 0 ? null : place(),
          descending: item.x === 0 && item.y === 0,
        };
      case MavCmd.NAV_RETURN_TO_LAUNCH:
        return { kind: 'rtl' };
      default:
        return null;
    }
  }

  /** An item's altitude above home; an altitude of 0 in a relative frame keeps the current one. */
  private itemAltitudeRelM(item: MissionItem): number {
    if (item.frame === MavFrame.GLOBAL || item.frame === MavFrame.GLOBAL_INT) {
      return item.z - this.home.altitudeMslM;
    }
    return item.z === 0 && item.command !== MavCmd.NAV_TAKEOFF ? this.altitudeRelM : item.z;
  }

  private advanceAuto(dtS: number): void {
    const step = this.auto;
    if (!step) return;
    if (step.kind === 'takeoff') {
      if (Math.abs(this.altitudeRelM - step.altitudeRelM) < TAKEOFF_DONE_M) this.itemDone();
    } else if (step.kind === 'goto') {
      const radiusM = this.params.get('WPNAV_RADIUS') / 100;
      const horizontalM = Math.hypot(
        step.target.northM - this.northM,
        step.target.eastM - this.eastM,
      );
      const verticalM = Math.abs(step.target.altitudeRelM - this.altitudeRelM);
      if (!step.arrived && horizontalM <= radiusM && verticalM <= WAYPOINT_VERTICAL_M) {
        step.arrived = true;
      }
      if (step.arrived) {
        step.heldS += dtS;
        if (step.heldS >= step.holdS) this.itemDone();
      }
    } else if (step.kind === 'land') {
      if (step.target && !step.descending) {
        const horizontalM = Math.hypot(
          step.target.northM - this.northM,
          step.target.eastM - this.eastM,
        );
        if (horizontalM < 1 && this.groundSpeedMps < 0.5) step.descending = true;
      }
    } else if (step.kind === 'rtl') {
      this.advanceRtl();
    }
  }

  private itemDone(): void {
    const seq = this.missionSeq;
    this.missionEvents({ kind: 'reached', seq });
    this.say(MavSeverity.INFO, `Reached command #${seq}`);
    this.startItem(seq + 1);
  }

  private advanceRtl(): void {
    if (this.rtlPhase === 'climb' && this.altitudeRelM >= this.rtlAltitudeM - 0.2) {
      this.rtlPhase = 'return';
    } else if (
      this.rtlPhase === 'return' &&
      Math.hypot(this.northM, this.eastM) < 1 &&
      this.groundSpeedMps < 0.3
    ) {
      this.rtlPhase = 'descend';
    }
  }

  private descentRate(): number {
    const autoLanding = this.auto?.kind === 'land' && this.auto.descending;
    const landing = this.modeNumber === MODE.LAND || this.rtlPhase === 'descend' || autoLanding;
    return landing && this.altitudeRelM < FINAL_DESCENT_BELOW_M
      ? this.landSpeedMps
      : DESCENT_RATE_MPS;
  }

  private moveHorizontally(target: LocalPoint, dtS: number): void {
    const toNorthM = target.northM - this.northM;
    const toEastM = target.eastM - this.eastM;
    const distanceM = Math.hypot(toNorthM, toEastM);
    // Fast as allowed, slow enough to stop at the target, and gentle in the last metres.
    const speedMps = Math.min(
      this.maxSpeedMps,
      Math.sqrt(2 * HORIZONTAL_ACCEL_MPS2 * distanceM),
      2 * distanceM,
    );
    const wantNorth = distanceM > 1e-6 ? (toNorthM / distanceM) * speedMps : 0;
    const wantEast = distanceM > 1e-6 ? (toEastM / distanceM) * speedMps : 0;
    this.accelerateTowards(wantNorth, wantEast, dtS);
    this.northM += this.velocityNorthMps * dtS;
    this.eastM += this.velocityEastMps * dtS;
  }

  /** No target: stop, then hold the point where it stopped. */
  private brake(dtS: number): void {
    this.accelerateTowards(0, 0, dtS);
    this.northM += this.velocityNorthMps * dtS;
    this.eastM += this.velocityEastMps * dtS;
    if (this.groundSpeedMps < 0.05) {
      this.holdPoint = { northM: this.northM, eastM: this.eastM, altitudeRelM: this.altitudeRelM };
    }
  }

  private accelerateTowards(wantNorth: number, wantEast: number, dtS: number): void {
    const dNorth = wantNorth - this.velocityNorthMps;
    const dEast = wantEast - this.velocityEastMps;
    const change = Math.hypot(dNorth, dEast);
    const maxChange = HORIZONTAL_ACCEL_MPS2 * dtS;
    const scale = change > maxChange ? maxChange / change : 1;
    this.velocityNorthMps += dNorth * scale;
    this.velocityEastMps += dEast * scale;
  }

  private moveVertically(targetAltitudeM: number, descentRateMps: number, dtS: number): void {
    const toGoM = targetAltitudeM - this.altitudeRelM;
    const limit = toGoM >= 0 ? CLIMB_RATE_MPS : descentRateMps;
    const want =
      Math.sign(toGoM) *
      Math.min(limit, Math.sqrt(2 * VERTICAL_ACCEL_MPS2 * Math.abs(toGoM)), 2 * Math.abs(toGoM));
    const change = clamp(
      want - this.velocityUpMps,
      -VERTICAL_ACCEL_MPS2 * dtS,
      VERTICAL_ACCEL_MPS2 * dtS,
    );
    this.velocityUpMps += change;
    this.altitudeRelM += this.velocityUpMps * dtS;
  }

  /** Face the ROI when there is one, else the direction of travel. */
  private turn(dtS: number, travelling: boolean): void {
    let wantYawDeg: number | null = null;
    const roiYaws = this.modeNumber === MODE.GUIDED || this.modeNumber === MODE.AUTO;
    if (this.roi && this.noseFollowsRoi && roiYaws) {
      const roiPoint = offsetNorthEast(this.home, this.roi.northM, this.roi.eastM);
      wantYawDeg = bearingDeg(this.position, roiPoint);
    } else if (travelling && this.groundSpeedMps > FACE_TRAVEL_ABOVE_MPS) {
      wantYawDeg = (Math.atan2(this.velocityEastMps, this.velocityNorthMps) * 180) / Math.PI;
    }
    if (wantYawDeg === null) {
      this.yawRateDegS = 0;
      return;
    }
    const errorDeg = wrap180(wantYawDeg - this.yawDeg);
    const stepDeg = clamp(errorDeg, -YAW_RATE_DEG_S * dtS, YAW_RATE_DEG_S * dtS);
    this.yawDeg = wrap360(this.yawDeg + stepDeg);
    this.yawRateDegS = stepDeg / dtS;
  }

  private touchDown(): void {
    this.altitudeRelM = 0;
    this.velocityUpMps = 0;
    this.velocityNorthMps = 0;
    this.velocityEastMps = 0;
    this.landed = true;
    this.guidedTarget = null;
    this.holdPoint = null;
    this.groundIdleS = 0;
    const autoLanding =
      this.modeNumber === MODE.AUTO && (this.auto?.kind === 'land' || this.auto?.kind === 'rtl');
    if (autoLanding) {
      this.missionEvents({ kind: 'reached', seq: this.missionSeq });
      this.auto = { kind: 'done' };
      this.rtlPhase = null;
      this.say(MavSeverity.INFO, 'Land complete');
      this.disarmNow('Disarming motors');
    } else if (this.modeNumber === MODE.LAND || this.modeNumber === MODE.RTL) {
      this.rtlPhase = null;
      this.say(MavSeverity.INFO, 'Land complete');
      this.disarmNow('Disarming motors');
    }
  }

  /** Disarmed in the air (a forced disarm): it drops. */
  private fall(dtS: number): void {
    this.velocityUpMps -= GRAVITY_MPS2 * dtS;
    this.altitudeRelM += this.velocityUpMps * dtS;
    this.northM += this.velocityNorthMps * dtS;
    this.eastM += this.velocityEastMps * dtS;
    if (this.altitudeRelM <= 0) {
      const impactMps = -this.velocityUpMps;
      this.altitudeRelM = 0;
      this.velocityUpMps = 0;
      this.landed = true;
      if (impactMps > 3) this.say(MavSeverity.CRITICAL, 'Crash: hit the ground disarmed');
    }
  }

  private sitOnGround(dtS: number): void {
    this.velocityNorthMps = 0;
    this.velocityEastMps = 0;
    this.velocityUpMps = 0;
    this.yawRateDegS = 0;
    if (!this.armed) return;
    this.groundIdleS += dtS;
    const disarmDelayS = this.params.get('DISARM_DELAY');
    if (disarmDelayS > 0 && this.groundIdleS >= disarmDelayS) {
      this.disarmNow('Disarming motors: auto disarm');
    }
  }

  private disarmNow(text: string): void {
    this.armed = false;
    this.landed = this.altitudeRelM <= 0.2;
    this.guidedTarget = null;
    this.groundIdleS = 0;
    this.say(MavSeverity.INFO, text);
  }

  /** Lean into acceleration like a multirotor: forward acceleration pitches the nose down. */
  private updateTilt(dtS: number, before: { north: number; east: number }): void {
    const accelNorth = (this.velocityNorthMps - before.north) / dtS;
    const accelEast = (this.velocityEastMps - before.east) / dtS;
    const yawRad = (this.yawDeg * Math.PI) / 180;
    const forward = accelNorth * Math.cos(yawRad) + accelEast * Math.sin(yawRad);
    const right = -accelNorth * Math.sin(yawRad) + accelEast * Math.cos(yawRad);
    const pitchDeg = (-Math.atan(forward / GRAVITY_MPS2) * 180) / Math.PI;
    const rollDeg = (Math.atan(right / GRAVITY_MPS2) * 180) / Math.PI;
    const smoothing = Math.min(1, dtS / 0.2);
    this.pitchDeg += (pitchDeg - this.pitchDeg) * smoothing;
    this.rollDeg += (rollDeg - this.rollDeg) * smoothing;
  }

  private updateGimbal(dtS: number): void {
    if (this.gimbalTracksRoi && this.roi) {
      const here = this.position;
      const roiPoint = offsetNorthEast(this.home, this.roi.northM, this.roi.eastM);
      const horizontalM = Math.hypot(this.roi.northM - this.northM, this.roi.eastM - this.eastM);
      const downM = here.altitudeMslM - this.roi.altitudeMslM;
      this.gimbalTargetPitchDeg = clamp(
        (-Math.atan2(downM, horizontalM) * 180) / Math.PI,
        GIMBAL_PITCH_MIN_DEG,
        GIMBAL_PITCH_MAX_DEG,
      );
      this.gimbalTargetYawDeg =
        horizontalM < 0.5
          ? this.gimbalTargetYawDeg
          : wrap180(bearingDeg(here, roiPoint) - this.yawDeg);
    }
    const maxStepDeg = GIMBAL_RATE_DEG_S * dtS;
    this.gimbalPitchDeg += clamp(
      this.gimbalTargetPitchDeg - this.gimbalPitchDeg,
      -maxStepDeg,
      maxStepDeg,
    );
    const yawErrorDeg = wrap180(this.gimbalTargetYawDeg - this.gimbalYawDeg);
    this.gimbalYawDeg = wrap180(this.gimbalYawDeg + clamp(yawErrorDeg, -maxStepDeg, maxStepDeg));
  }

  private updateBattery(dtS: number): void {
    let currentA = 0.4;
    if (this.armed) currentA = this.landed ? 4 : 16 + 0.6 * this.groundSpeedMps;
    if (this.armed && this.velocityUpMps > 0) currentA += 3 * this.velocityUpMps;
    this.batteryCurrentA = currentA;
    this.batteryConsumedMah += (currentA * dtS * 1000) / 3600;
    const remaining = this.batteryRemainingPct / 100;
    const sagV = 0.01 * Math.max(0, currentA - 0.4);
    this.batteryVoltageV = BATTERY_EMPTY_V + (BATTERY_FULL_V - BATTERY_EMPTY_V) * remaining - sagV;
    if (!this.warnedLowBattery && this.batteryRemainingPct < LOW_BATTERY_PCT) {
      this.warnedLowBattery = true;
      this.say(MavSeverity.CRITICAL, `Battery 1 is low ${this.batteryVoltageV.toFixed(2)}V`);
    }
  }

  describe(): string {
    return `${arduCopterModeName(this.modeNumber)} ${this.armed ? 'armed' : 'disarmed'}`;
  }
}

/** Mission commands that move the vehicle; the others (DO_, CONDITION_) act and pass. */
export function isNavCommand(command: number): boolean {
  return command < MavCmd.NAV_LAST;
}

function commandWords(command: number): string {
  switch (command) {
    case MavCmd.NAV_TAKEOFF:
      return 'Takeoff';
    case MavCmd.NAV_WAYPOINT:
      return 'WP';
    case MavCmd.NAV_LAND:
      return 'Land';
    case MavCmd.NAV_RETURN_TO_LAUNCH:
      return 'RTL';
    case MavCmd.NAV_LOITER_TIME:
      return 'LoitTime';
    case MavCmd.NAV_LOITER_UNLIM:
      return 'LoitUnlim';
    default:
      return MavCmd[command] ?? `CMD ${command}`;
  }
}

function validLatLon(point: LatLon): boolean {
  return (
    Number.isFinite(point.latDeg) &&
    Number.isFinite(point.lonDeg) &&
    Math.abs(point.latDeg) <= 90 &&
    Math.abs(point.lonDeg) <= 180
  );
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

export function wrap180(deg: number): number {
  const wrapped = ((((deg + 180) % 360) + 360) % 360) - 180;
  return wrapped === -180 ? 180 : wrapped;
}

function wrap360(deg: number): number {
  return ((deg % 360) + 360) % 360;
}
