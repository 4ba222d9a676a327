// The simulated bear's mind: it ambles toward the farm (food: grain, pet food, chickens), and
// when a flying drone comes within its flight distance it runs away from it until it is well
// clear, then ambles on. Pure and seeded: the same seed walks the same path. Positions are
// metres north and east of the simulator's home, on flat ground.

import { seededRandom } from './lossy';

export interface LocalPointM {
  northM: number;
  eastM: number;
}

export interface BearOptions {
  start: LocalPointM;
  farm: LocalPointM;
  seed: number;
}

/** What the bear notices of the drone: where it is, and whether it is in the air. */
export interface DroneSighting extends LocalPointM {
  altitudeRelM: number;
  flying: boolean;
}

/** An ambling brown bear; foraging at the farm it barely moves. */
export const WALK_SPEED_MPS = 1;
const WALK_SPEED_SPREAD_MPS = 0.25;
const FORAGE_SPEED_MPS = 0.3;
/** A hazed bear lopes off well below its 13 m/s sprint. */
export const RUN_SPEED_MPS = 6;
/** Published flight distances of hazed brown and black bears from people and drones. */
export const FLIGHT_DISTANCE_RANGE_M = { min: 20, max: 45 } as const;
/** It calms down this many flight distances away from the drone. */
export const CALM_AT_FLIGHT_DISTANCES = 2;
/**
 * The bear forages within this of the yard's middle: the demo camera looks at that point and
 * sees only about 10 m of ground across, so a bear roaming the whole yard is mostly out of view.
 */
export const FORAGE_RADIUS_M = 4;
const ACCEL_MPS2 = 3;
const WALK_TURN_RATE_DEG_S = 45;
const RUN_TURN_RATE_DEG_S = 180;
/** How far (one standard deviation) and how slowly the walk strays from the farm's bearing. */
const WANDER_SPREAD_DEG = 25;
const WANDER_TIME_S = 8;
const FLEE_SPREAD_DEG = 10;
const MAX_STEP_S = 0.1;

export class SimBear {
  northM: number;
  eastM: number;
  headingDeg: number;
  speedMps = 0;
  fleeing = false;
  readonly flightDistanceM: number;
  readonly farm: LocalPointM;
  private readonly random: () => number;
  private wanderOffsetDeg = 0;
  private wanderSpeedMps = WALK_SPEED_MPS;
  private fleeOffsetDeg = 0;
  private lastDroneDistanceM: number | null = null;

  constructor(options: BearOptions) {
    for (const [name, value] of Object.entries({
      'bear start north': options.start.northM,
      'bear start east': options.start.eastM,
      'farm north': options.farm.northM,
      'farm east': options.farm.eastM,
      'bear seed': options.seed,
    })) {
      if (!Number.isFinite(value)) throw new Error(`${name} ${value} is not a number`);
    }
    this.random = seededRandom(Math.trunc(options.seed));
    this.northM = options.start.northM;
    this.eastM = options.start.eastM;
    this.farm = { ...options.farm };
    const { min, max } = FLIGHT_DISTANCE_RANGE_M;
    this.flightDistanceM = min + (max - min) * this.random();
    this.headingDeg = this.bearingToFarmDeg();
  }

  /** Distance from the drone to the bear, through the air; null before the first sighting. */
  get droneDistanceM(): number | null {
    return this.lastDroneDistanceM;
  }

  get farmDistanceM(): number {
    return Math.hypot(this.farm.northM - this.northM, this.farm.eastM - this.eastM);
  }

  step(dtS: number, drone: DroneSighting | null): void {
    if (!(dtS > 0)) return;
    const steps = Math.ceil(dtS / MAX_STEP_S);
    for (let i = 0; i < steps; i++) this.stepOnce(dtS / steps, drone);
  }

  private stepOnce(dtS: number, drone: DroneSighting | null): void {
    this.notice(drone);
    let wantHeadingDeg: number;
    let wantSpeedMps: number;
    let turnRateDegS: number;
    if (this.fleeing && drone) {
      this.fleeOffsetDeg = this.drift(this.fleeOffsetDeg, FLEE_SPREAD_DEG, 2, dtS);
      const awayDeg = toDeg(Math.atan2(this.eastM - drone.eastM, this.northM - drone.northM));
      wantHeadingDeg = awayDeg + this.fleeOffsetDeg;
      wantSpeedMps = RUN_SPEED_MPS;
      turnRateDegS = RUN_TURN_RATE_DEG_S;
    } else {
      const foraging = this.farmDistanceM < FORAGE_RADIUS_M;
      // Foraging it noses about in every direction; the farm's pull brings it back in.
      const spreadDeg = foraging ? 4 * WANDER_SPREAD_DEG : WANDER_SPREAD_DEG;
      this.wanderOffsetDeg = this.drift(this.wanderOffsetDeg, spreadDeg, WANDER_TIME_S, dtS);
      // Out of the foraging patch it turns back at once rather than wandering off for seconds.
      if (!foraging) {
        const maxOffsetDeg = 2 * WANDER_SPREAD_DEG;
        this.wanderOffsetDeg = clamp(this.wanderOffsetDeg, -maxOffsetDeg, maxOffsetDeg);
      }
      this.wanderSpeedMps =
        WALK_SPEED_MPS +
        this.drift(this.wanderSpeedMps - WALK_SPEED_MPS, WALK_SPEED_SPREAD_MPS, WANDER_TIME_S, dtS);
      wantHeadingDeg = this.bearingToFarmDeg() + this.wanderOffsetDeg;
      // Just out of the patch it turns back at foraging pace instead of striding further out.
      const nearPatch = this.farmDistanceM < 2 * FORAGE_RADIUS_M;
      wantSpeedMps = nearPatch ? FORAGE_SPEED_MPS : clamp(this.wanderSpeedMps, 0.5, 1.5);
      turnRateDegS = WALK_TURN_RATE_DEG_S;
    }
    const maxTurnDeg = turnRateDegS * dtS;
    const turnDeg = clamp(wrap180(wantHeadingDeg - this.headingDeg), -maxTurnDeg, maxTurnDeg);
    this.headingDeg = wrap360(this.headingDeg + turnDeg);
    this.speedMps += clamp(wantSpeedMps - this.speedMps, -ACCEL_MPS2 * dtS, ACCEL_MPS2 * dtS);
    const headingRad = toRad(this.headingDeg);
    this.northM += Math.cos(headingRad) * this.speedMps * dtS;
    this.eastM += Math.sin(headingRad) * this.speedMps * dtS;
  }

  /** Starts fleeing inside the flight distance, stops well beyond it. */
  private notice(drone: DroneSighting | null): void {
    if (!drone) {
      this.lastDroneDistanceM = null;
      this.fleeing = false;
      return;
    }
    const distanceM = Math.hypot(
      drone.northM - this.northM,
      drone.eastM - this.eastM,
      Math.max(0, drone.altitudeRelM),
    );
    this.lastDroneDistanceM = distanceM;
    if (!this.fleeing && drone.flying && distanceM < this.flightDistanceM) {
      this.fleeing = true;
      this.fleeOffsetDeg = 0;
    } else if (this.fleeing && distanceM > CALM_AT_FLIGHT_DISTANCES * this.flightDistanceM) {
      this.fleeing = false;
      this.wanderOffsetDeg = 0;
    }
  }

  /** An Ornstein-Uhlenbeck step: random, but pulled back to 0 over `timeS`. */
  private drift(value: number, spread: number, timeS: number, dtS: number): number {
    const pull = Math.min(1, dtS / timeS);
    return value - value * pull + spread * Math.sqrt(2 * pull) * this.gaussian();
  }

  private gaussian(): number {
    const u = Math.max(1e-12, this.random());
    const v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  private bearingToFarmDeg(): number {
    return wrap360(toDeg(Math.atan2(this.farm.eastM - this.eastM, this.farm.northM - this.northM)));
  }
}

const toRad = (deg: number): number => (deg * Math.PI) / 180;
const toDeg = (rad: number): number => (rad * 180) / Math.PI;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function wrap180(deg: number): number {
  return ((((deg + 180) % 360) + 360) % 360) - 180;
}

function wrap360(deg: number): number {
  return ((deg % 360) + 360) % 360;
}
