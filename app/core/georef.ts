// Georeferencing: where on the ground a pixel of the drone's camera looks. By default the ground
// is a flat plane at home altitude, which keeps the answer explainable; with an elevation model
// (a user-supplied DEM) the pixel's ray is marched until it passes below the terrain. Each fix
// also says how far off it may be, from the attitude, GPS and altitude errors of the pose.

import { offsetNorthEast } from './geodesy';
import type { Terrain } from './terrain';
import type {
  AttitudeDeg,
  CameraModel,
  Detection,
  GeoDetection,
  GimbalState,
  GroundUncertainty,
  LatLon,
} from './types';

export interface CameraPose {
  position: LatLon;
  /** Height of the camera above the flat ground plane at home altitude. */
  altitudeAglM: number;
  /** Height of the camera above mean sea level: needed only with a terrain model. */
  altitudeMslM?: number;
  vehicleAttitude: AttitudeDeg;
  gimbal: GimbalState;
  /**
   * True (the default) when the gimbal holds pitch against the horizon and roll level, as
   * stabilised gimbals do; false when the camera is fixed to the airframe and moves with it.
   */
  stabilized?: boolean;
}

/** One standard deviation of each error source of a pose. */
export interface PoseErrors {
  /** Pointing error of the camera about each of its three axes (pitch, roll, yaw). */
  attitudeDeg: number;
  /** GPS error of the camera position, per horizontal axis. */
  gpsHorizontalM: number;
  /** Error of the camera's height above the ground. */
  altitudeM: number;
}

/**
 * Consumer gimbals hold about a degree; the compass-derived yaw is the worst of the three.
 * GPS without RTK and a barometer over a flight drift a metre or two.
 */
export const DEFAULT_POSE_ERRORS: PoseErrors = {
  attitudeDeg: 1.5,
  gpsHorizontalM: 1.5,
  altitudeM: 1.5,
};

export interface GeorefOptions {
  /** The ground; flat at altitudeAglM below the camera when absent or null. */
  terrain?: Terrain | null;
  /** Errors to propagate into GroundUncertainty; null for none. Default DEFAULT_POSE_ERRORS. */
  errors?: PoseErrors | null;
}

export type GroundFix =
  | {
      ok: true;
      position: LatLon;
      slantRangeM: number;
      groundRangeM: number;
      /** Height of the ground where the ray met it; absent on the flat-ground model. */
      groundMslM?: number;
      uncertainty?: GroundUncertainty;
    }
  | { ok: false; reason: string };

/**
 * Past this the ground model (and any detection) is not worth trusting: a ray that grazes the
 * horizon would otherwise land kilometres away.
 */
export const MAX_GROUND_RANGE_M = 5000;
/** Bounds the march along a ray over a terrain model (a 0.5 m grid over 5 km is 20,000). */
const MAX_MARCH_STEPS = 20_000;
const MIN_MARCH_STEP_M = 0.25;
const MAX_MARCH_STEP_M = 25;
const METRES_PER_DEG_LAT = 111_320;

export type Vec3 = [number, number, number];
export type Mat3 = [Vec3, Vec3, Vec3];

const toRad = (deg: number): number => (deg * Math.PI) / 180;
const toDeg = (rad: number): number => (rad * 180) / Math.PI;

// Aerospace Z-Y-X rotation from a body frame (x forward, y right, z down) to north-east-down.
export function rotationZyx(yawDeg: number, pitchDeg: number, rollDeg: number): Mat3 {
  const [cy, sy] = [Math.cos(toRad(yawDeg)), Math.sin(toRad(yawDeg))];
  const [cp, sp] = [Math.cos(toRad(pitchDeg)), Math.sin(toRad(pitchDeg))];
  const [cr, sr] = [Math.cos(toRad(rollDeg)), Math.sin(toRad(rollDeg))];
  return [
    [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
    [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
    [-sp, cp * sr, cp * cr],
  ];
}

function multiply(a: Mat3, b: Mat3): Mat3 {
  const row = (i: number): Vec3 =>
    [0, 1, 2].map((j) => a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j]) as Vec3;
  return [row(0), row(1), row(2)];
}

function apply(m: Mat3, v: Vec3): Vec3 {
  return [0, 1, 2].map((i) => m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2]) as Vec3;
}

/** Rodrigues: `v` turned by `angleDeg` about the unit vector `axis`. */
function rotateAbout(v: Vec3, axis: Vec3, angleDeg: number): Vec3 {
  const c = Math.cos(toRad(angleDeg));
  const s = Math.sin(toRad(angleDeg));
  const dot = axis[0] * v[0] + axis[1] * v[1] + axis[2] * v[2];
  const cross: Vec3 = [
    axis[1] * v[2] - axis[2] * v[1],
    axis[2] * v[0] - axis[0] * v[2],
    axis[0] * v[1] - axis[1] * v[0],
  ];
  return [0, 1, 2].map((i) => v[i] * c + cross[i] * s + axis[i] * dot * (1 - c)) as Vec3;
}

/** Where the camera points in the horizontal plane, degrees from north. */
function cameraHeadingDeg(pose: CameraPose): number {
  const { vehicleAttitude: vehicle, gimbal } = pose;
  return gimbal.yawFrame === 'earth' ? gimbal.yawDeg : vehicle.yawDeg + gimbal.yawDeg;
}

/** Camera frame (x along the optical axis, y image-right, z image-down) to north-east-down. */
function cameraToNed(pose: CameraPose): Mat3 {
  const { vehicleAttitude: vehicle, gimbal } = pose;
  const stabilized = pose.stabilized ?? true;
  if (stabilized) return rotationZyx(cameraHeadingDeg(pose), gimbal.pitchDeg, 0);
  // An earth-frame yaw on a fixed mount is still a heading: turn it into a mount angle.
  const mountYawDeg = gimbal.yawFrame === 'earth' ? gimbal.yawDeg - vehicle.yawDeg : gimbal.yawDeg;
  return multiply(
    rotationZyx(vehicle.yawDeg, vehicle.pitchDeg, vehicle.rollDeg),
    rotationZyx(mountYawDeg, gimbal.pitchDeg, gimbal.rollDeg),
  );
}

function firstBadNumber(values: Record<string, number>): string | null {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return `${name} is not a number`;
  }
  return null;
}

function checkInputs(
  pose: CameraPose,
  camera: CameraModel,
  pixel: { x: number; y: number },
  image: { width: number; height: number },
): string | null {
  const bad = firstBadNumber({
    'camera latitude': pose.position.latDeg,
    'camera longitude': pose.position.lonDeg,
    'camera altitude above ground': pose.altitudeAglM,
    'vehicle roll': pose.vehicleAttitude.rollDeg,
    'vehicle pitch': pose.vehicleAttitude.pitchDeg,
    'vehicle yaw': pose.vehicleAttitude.yawDeg,
    'gimbal roll': pose.gimbal.rollDeg,
    'gimbal pitch': pose.gimbal.pitchDeg,
    'gimbal yaw': pose.gimbal.yawDeg,
    'pixel x': pixel.x,
    'pixel y': pixel.y,
    'image width': image.width,
    'image height': image.height,
    'horizontal field of view': camera.horizontalFovDeg,
    'vertical field of view': camera.verticalFovDeg,
  });
  if (bad) return bad;
  if (image.width <= 0 || image.height <= 0) {
    return `image size ${image.width}x${image.height} is not positive`;
  }
  for (const [name, fovDeg] of [
    ['horizontal', camera.horizontalFovDeg],
    ['vertical', camera.verticalFovDeg],
  ] as const) {
    if (!(fovDeg > 0 && fovDeg < 180)) {
      return `${name} field of view ${fovDeg} deg is outside 0-180 deg`;
    }
  }
  if (pose.altitudeAglM <= 0) {
    return `camera altitude ${pose.altitudeAglM} m is at or below the ground`;
  }
  return null;
}

/** The unit ray through a pixel, north-east-down. */
function pixelRay(
  pose: CameraPose,
  camera: CameraModel,
  pixel: { x: number; y: number },
  image: { width: number; height: number },
): Vec3 {
  const right =
    ((pixel.x - image.width / 2) / (image.width / 2)) *
    Math.tan(toRad(camera.horizontalFovDeg / 2));
  const down =
    ((pixel.y - image.height / 2) / (image.height / 2)) *
    Math.tan(toRad(camera.verticalFovDeg / 2));
  const ray = apply(cameraToNed(pose), [1, right, down]);
  const length = Math.hypot(...ray);
  return [ray[0] / length, ray[1] / length, ray[2] / length];
}

interface RayHit {
  northM: number;
  eastM: number;
  slantRangeM: number;
  groundMslM?: number;
}

type RayResult = ({ ok: true } & RayHit) | { ok: false; reason: string };

/** Where a unit ray from the camera meets flat ground `heightM` below it. */
function meetFlat(ray: Vec3, heightM: number): RayResult {
  // The ray is a unit vector: a tolerance so that a ray exactly on the horizon, give or take
  // rounding, counts as on it.
  if (ray[2] <= 1e-9) {
    return { ok: false, reason: 'ray at or above the horizon: it never meets the ground' };
  }
  const slantRangeM = heightM / ray[2];
  const northM = ray[0] * slantRangeM;
  const eastM = ray[1] * slantRangeM;
  const groundRangeM = Math.hypot(northM, eastM);
  if (groundRangeM > MAX_GROUND_RANGE_M) {
    return {
      ok: false,
      reason:
        `ray meets the ground ${Math.round(groundRangeM)} m away, beyond the ` +
        `${MAX_GROUND_RANGE_M} m the flat-ground model is trusted for (too near the horizon)`,
    };
  }
  return { ok: true, northM, eastM, slantRangeM };
}

/**
 * Marches a unit ray from the camera over a terrain model until it passes below the ground,
 * then bisects the last step. Rays may leave the model or cross holes in it: a crossing that
 * cannot be bracketed by two heights on the model is refused rather than guessed.
 */
function meetTerrain(origin: LatLon, cameraMslM: number, ray: Vec3, terrain: Terrain): RayResult {
  const metresPerDegLon = METRES_PER_DEG_LAT * Math.cos(toRad(origin.latDeg));
  // The local plane is good to centimetres over the 5 km a ray may run.
  const heightAbove = (slantM: number): number | null => {
    const ground = terrain.elevationMslM({
      latDeg: origin.latDeg + (ray[0] * slantM) / METRES_PER_DEG_LAT,
      lonDeg: origin.lonDeg + (ray[1] * slantM) / metresPerDegLon,
    });
    return ground === null ? null : cameraMslM - ray[2] * slantM - ground;
  };
  const horizontal = Math.hypot(ray[0], ray[1]);
  const maxSlantM = horizontal > 1e-6 ? MAX_GROUND_RANGE_M / horizontal : 2 * MAX_GROUND_RANGE_M;
  const stepM = Math.max(
    Math.min(Math.max(terrain.resolutionM / 2, MIN_MARCH_STEP_M), MAX_MARCH_STEP_M),
    maxSlantM / MAX_MARCH_STEPS,
  );

  const start = heightAbove(0);
  if (start !== null && start <= 0) {
    return {
      ok: false,
      reason:
        `camera is ${(-start).toFixed(1)} m below the ground of the terrain model ` +
        `(${terrain.description}): check the altitude or the model`,
    };
  }
  let previousM = 0;
  let previous = start;
  let everOnModel = start !== null;
  for (let slantM = stepM; slantM <= maxSlantM + 1e-9; slantM += stepM) {
    const height = heightAbove(slantM);
    if (height === null) {
      previous = null;
      continue;
    }
    if (height <= 0) {
      if (previous === null) {
        return {
          ok: false,
          reason: everOnModel
            ? `ray meets the ground in a hole (no data) in the terrain model ` +
              `about ${Math.round(slantM * horizontal)} m out`
            : `ray meets the terrain model already below ground at its edge, ` +
              `${Math.round(slantM * horizontal)} m out: the model does not cover the camera`,
        };
      }
      let lowM = previousM;
      let low = previous;
      let highM = slantM;
      let high = height;
      for (let i = 0; i < 40 && highM - lowM > 1e-3; i += 1) {
        const midM = (lowM + highM) / 2;
        const mid = heightAbove(midM);
        if (mid === null) break;
        if (mid > 0) [lowM, low] = [midM, mid];
        else [highM, high] = [midM, mid];
      }
      // The last bracket is shorter than a grid cell: a straight line is good to millimetres.
      const hitM = low - high > 0 ? lowM + ((highM - lowM) * low) / (low - high) : highM;
      return {
        ok: true,
        northM: ray[0] * hitM,
        eastM: ray[1] * hitM,
        slantRangeM: hitM,
        groundMslM: cameraMslM - ray[2] * hitM,
      };
    }
    previousM = slantM;
    previous = height;
    everOnModel = true;
  }
  if (!everOnModel) {
    return { ok: false, reason: `the terrain model (${terrain.description}) has no data here` };
  }
  if (previous === null) {
    return {
      ok: false,
      reason: 'ray leaves the terrain model (or its data) before it meets the ground',
    };
  }
  return {
    ok: false,
    reason:
      ray[2] <= 0
        ? `ray at or above the horizon meets no terrain within ${MAX_GROUND_RANGE_M} m`
        : `ray does not meet the terrain within ${MAX_GROUND_RANGE_M} m (too near the horizon)`,
  };
}

interface RayContext {
  pose: CameraPose;
  terrain: Terrain | null;
}

function castRay(context: RayContext, ray: Vec3, heightOffsetM = 0): RayResult {
  const { pose, terrain } = context;
  if (!terrain) return meetFlat(ray, pose.altitudeAglM + heightOffsetM);
  if (pose.altitudeMslM === undefined || !Number.isFinite(pose.altitudeMslM)) {
    return { ok: false, reason: 'camera altitude above sea level is unknown: needed with terrain' };
  }
  return meetTerrain(pose.position, pose.altitudeMslM + heightOffsetM, ray, terrain);
}

/**
 * The 1-sigma ellipse of a ground fix: each angle error turns the ray by one sigma either way
 * and the two landing points, halved, give that error's displacement (so the far side of a
 * shallow ray, which moves more, counts fully); altitude likewise; GPS error adds a circle.
 */
function propagateErrors(
  context: RayContext,
  ray: Vec3,
  hit: RayHit,
  errors: PoseErrors,
): GroundUncertainty {
  const headingRad = toRad(cameraHeadingDeg(context.pose));
  const down: Vec3 = [0, 0, 1];
  const forward: Vec3 = [Math.cos(headingRad), Math.sin(headingRad), 0];
  const right: Vec3 = [-Math.sin(headingRad), Math.cos(headingRad), 0];
  const horizontal = Math.hypot(ray[0], ray[1]);
  const lineOfSight: [number, number] =
    horizontal > 1e-9 ? [ray[0] / horizontal, ray[1] / horizontal] : [forward[0], forward[1]];

  const displacement = (plus: RayResult, minus: RayResult): [number, number] => {
    const shift = (r: RayResult): [number, number] | null =>
      r.ok ? [r.northM - hit.northM, r.eastM - hit.eastM] : null;
    const a = shift(plus);
    const b = shift(minus);
    if (a && b) return [(a[0] - b[0]) / 2, (a[1] - b[1]) / 2];
    if (a || b) return (a ?? b) as [number, number];
    // Both ways off the ground: the error reaches as far as the model is trusted.
    return [lineOfSight[0] * MAX_GROUND_RANGE_M, lineOfSight[1] * MAX_GROUND_RANGE_M];
  };
  const columns: Array<[number, number]> = [];
  if (errors.attitudeDeg > 0) {
    for (const axis of [right, forward, down]) {
      columns.push(
        displacement(
          castRay(context, rotateAbout(ray, axis, errors.attitudeDeg)),
          castRay(context, rotateAbout(ray, axis, -errors.attitudeDeg)),
        ),
      );
    }
  }
  if (errors.altitudeM > 0) {
    columns.push(
      displacement(
        castRay(context, ray, errors.altitudeM),
        castRay(context, ray, -errors.altitudeM),
      ),
    );
  }
  const gps2 = errors.gpsHorizontalM ** 2;
  let nn = gps2;
  let ne = 0;
  let ee = gps2;
  for (const [n, e] of columns) {
    nn += n * n;
    ne += n * e;
    ee += e * e;
  }
  const mean = (nn + ee) / 2;
  const spread = Math.hypot((nn - ee) / 2, ne);
  const majorM = Math.sqrt(mean + spread);
  const minorM = Math.sqrt(Math.max(0, mean - spread));
  // Bearing of the major axis, clockwise from north.
  const majorRad = 0.5 * Math.atan2(2 * ne, nn - ee);
  const major: [number, number] = [Math.cos(majorRad), Math.sin(majorRad)];
  const alignment = major[0] * lineOfSight[0] + major[1] * lineOfSight[1];
  const majorIsAlong = Math.abs(alignment) >= Math.SQRT1_2;
  // Point the along-range axis away from the camera, as the line of sight goes.
  let alongRad = majorIsAlong ? majorRad : majorRad + Math.PI / 2;
  if (Math.cos(alongRad) * lineOfSight[0] + Math.sin(alongRad) * lineOfSight[1] < 0) {
    alongRad += Math.PI;
  }
  const bearingDeg = ((toDeg(alongRad) % 360) + 360) % 360;
  return {
    alongRangeM: majorIsAlong ? majorM : minorM,
    crossRangeM: majorIsAlong ? minorM : majorM,
    alongRangeBearingDeg: bearingDeg,
  };
}

function checkErrors(errors: PoseErrors): string | null {
  for (const [name, value] of Object.entries(errors)) {
    if (!(Number.isFinite(value) && value >= 0)) {
      return `pose error ${name} must be a number of at least 0, not ${String(value)}`;
    }
  }
  return errors.attitudeDeg < 45 ? null : `pose error attitudeDeg ${errors.attitudeDeg} >= 45`;
}

/**
 * Where the ray through `pixel` meets the ground. Pixel coordinates are continuous: (0, 0) is
 * the top-left corner of the image, (width, height) the bottom-right one. The uncertainty is
 * worked out only when `options.errors` is given.
 */
export function pixelToGround(
  pose: CameraPose,
  camera: CameraModel,
  pixel: { x: number; y: number },
  image: { width: number; height: number },
  options: GeorefOptions = {},
): GroundFix {
  const bad =
    checkInputs(pose, camera, pixel, image) ??
    (options.errors ? checkErrors(options.errors) : null);
  if (bad) return { ok: false, reason: bad };

  const context: RayContext = { pose, terrain: options.terrain ?? null };
  const ray = pixelRay(pose, camera, pixel, image);
  const hit = castRay(context, ray);
  if (!hit.ok) return hit;
  const fix: GroundFix = {
    ok: true,
    position: offsetNorthEast(pose.position, hit.northM, hit.eastM),
    slantRangeM: hit.slantRangeM,
    groundRangeM: Math.hypot(hit.northM, hit.eastM),
  };
  if (hit.groundMslM !== undefined) fix.groundMslM = hit.groundMslM;
  if (options.errors) fix.uncertainty = propagateErrors(context, ray, hit, options.errors);
  return fix;
}

/**
 * Places a detection at the bottom-centre of its box: where an animal stands on the ground.
 * It carries an uncertainty from DEFAULT_POSE_ERRORS unless `options.errors` says otherwise.
 */
export function georeferenceDetection(
  d: Detection,
  pose: CameraPose,
  camera: CameraModel,
  options: GeorefOptions = {},
): GeoDetection {
  const [left, top, width, height] = d.box;
  const errors = options.errors === undefined ? DEFAULT_POSE_ERRORS : options.errors;
  const fix = pixelToGround(
    pose,
    camera,
    { x: left + width / 2, y: top + height },
    { width: d.imageWidth, height: d.imageHeight },
    { terrain: options.terrain ?? null, errors },
  );
  return fix.ok
    ? { ...d, ground: fix.position, groundError: null, uncertainty: fix.uncertainty ?? null }
    : { ...d, ground: null, groundError: fix.reason, uncertainty: null };
}
