// Georeferencing: where on the ground a pixel of the drone's camera looks. The ground is a flat
// plane at home altitude; over the few hundred metres a thermal camera can see a bear, the
// terrain error dominates anyway, and flat ground keeps the answer explainable.

import { offsetNorthEast } from './geodesy';
import type {
  AttitudeDeg,
  CameraModel,
  Detection,
  GeoDetection,
  GimbalState,
  LatLon,
} from './types';

export interface CameraPose {
  position: LatLon;
  /** Height of the camera above the flat ground plane at home altitude. */
  altitudeAglM: number;
  vehicleAttitude: AttitudeDeg;
  gimbal: GimbalState;
  /**
   * True (the default) when the gimbal holds pitch against the horizon and roll level, as
   * stabilised gimbals do; false when the camera is fixed to the airframe and moves with it.
   */
  stabilized?: boolean;
}

export type GroundFix =
  | { ok: true; position: LatLon; slantRangeM: number; groundRangeM: number }
  | { ok: false; reason: string };

/**
 * Past this the flat-ground model (and any detection) is not worth trusting: a ray that
 * grazes the horizon would otherwise land kilometres away.
 */
export const MAX_GROUND_RANGE_M = 5000;

type Vec3 = [number, number, number];
type Mat3 = [Vec3, Vec3, Vec3];

const toRad = (deg: number): number => (deg * Math.PI) / 180;

// Aerospace Z-Y-X rotation from a body frame (x forward, y right, z down) to north-east-down.
function rotationZyx(yawDeg: number, pitchDeg: number, rollDeg: number): Mat3 {
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
  const row = (i: number): Vec3 => [0, 1, 2].map((j) =>
    a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j]) as Vec3;
  return [row(0), row(1), row(2)];
}

function apply(m: Mat3, v: Vec3): Vec3 {
  return [0, 1, 2].map((i) => m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2]) as Vec3;
}

/** Camera frame (x along the optical axis, y image-right, z image-down) to north-east-down. */
function cameraToNed(pose: CameraPose): Mat3 {
  const { vehicleAttitude: vehicle, gimbal } = pose;
  const stabilized = pose.stabilized ?? true;
  if (stabilized) {
    const headingDeg = gimbal.yawFrame === 'earth' ? gimbal.yawDeg : vehicle.yawDeg + gimbal.yawDeg;
    return rotationZyx(headingDeg, gimbal.pitchDeg, 0);
  }
  // An earth-frame yaw on a fixed mount is still a heading: turn it into a mount angle.
  const mountYawDeg =
    gimbal.yawFrame === 'earth' ? gimbal.yawDeg - vehicle.yawDeg : gimbal.yawDeg;
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

/**
 * Where the ray through `pixel` meets the ground. Pixel coordinates are continuous: (0, 0) is
 * the top-left corner of the image, (width, height) the bottom-right one.
 */
export function pixelToGround(
  pose: CameraPose,
  camera: CameraModel,
  pixel: { x: number; y: number },
  image: { width: number; height: number },
): GroundFix {
  const bad = checkInputs(pose, camera, pixel, image);
  if (bad) return { ok: false, reason: bad };

  const right = ((pixel.x - image.width / 2) / (image.width / 2)) *
    Math.tan(toRad(camera.horizontalFovDeg / 2));
  const down = ((pixel.y - image.height / 2) / (image.height / 2)) *
    Math.tan(toRad(camera.verticalFovDeg / 2));
  const [northRay, eastRay, downRay] = apply(cameraToNed(pose), [1, right, down]);
  const rayLength = Math.hypot(northRay, eastRay, downRay);

  // Relative tolerance so that a ray exactly on the horizon, give or take rounding, counts
  // as on it.
  if (downRay <= 1e-9 * rayLength) {
    return { ok: false, reason: 'ray at or above the horizon: it never meets the ground' };
  }
  const scale = pose.altitudeAglM / downRay;
  const northM = northRay * scale;
  const eastM = eastRay * scale;
  const groundRangeM = Math.hypot(northM, eastM);
  if (groundRangeM > MAX_GROUND_RANGE_M) {
    return {
      ok: false,
      reason:
        `ray meets the ground ${Math.round(groundRangeM)} m away, beyond the ` +
        `${MAX_GROUND_RANGE_M} m the flat-ground model is trusted for (too near the horizon)`,
    };
  }
  return {
    ok: true,
    position: offsetNorthEast(pose.position, northM, eastM),
    slantRangeM: rayLength * scale,
    groundRangeM,
  };
}

/** Places a detection at the bottom-centre of its box: where an animal stands on the ground. */
export function georeferenceDetection(
  d: Detection,
  pose: CameraPose,
  camera: CameraModel,
): GeoDetection {
  const [left, top, width, height] = d.box;
  const fix = pixelToGround(
    pose,
    camera,
    { x: left + width / 2, y: top + height },
    { width: d.imageWidth, height: d.imageHeight },
  );
  return fix.ok
    ? { ...d, ground: fix.position, groundError: null }
    : { ...d, ground: null, groundError: fix.reason };
}
