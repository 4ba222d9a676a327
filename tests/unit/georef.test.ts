import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bearingDeg, distanceM, northEastOf } from '../../app/core/geodesy';
import {
  MAX_GROUND_RANGE_M,
  georeferenceDetection,
  pixelToGround,
  type CameraPose,
} from '../../app/core/georef';
import type { CameraModel, Detection, GimbalState } from '../../app/core/types';

const CONRAD = { latDeg: 48.17, lonDeg: -111.95 };
const IMAGE = { width: 640, height: 512 };
const CENTRE = { x: 320, y: 256 };
const CAMERA_90: CameraModel = { horizontalFovDeg: 90, verticalFovDeg: 90 };
const CAMERA_60: CameraModel = { horizontalFovDeg: 60, verticalFovDeg: 60 };
const rad = (deg: number): number => (deg * Math.PI) / 180;

function pose(options: {
  altitudeAglM?: number;
  yawDeg?: number;
  pitchDeg?: number;
  rollDeg?: number;
  gimbal?: Partial<GimbalState>;
  stabilized?: boolean;
}): CameraPose {
  return {
    position: CONRAD,
    altitudeAglM: options.altitudeAglM ?? 30,
    vehicleAttitude: {
      yawDeg: options.yawDeg ?? 0,
      pitchDeg: options.pitchDeg ?? 0,
      rollDeg: options.rollDeg ?? 0,
    },
    gimbal: { pitchDeg: -45, rollDeg: 0, yawDeg: 0, yawFrame: 'vehicle', ...options.gimbal },
    ...(options.stabilized === undefined ? {} : { stabilized: options.stabilized }),
  };
}

function ground(
  p: CameraPose,
  pixel = CENTRE,
  camera = CAMERA_90,
): { northM: number; eastM: number; slantRangeM: number; groundRangeM: number } {
  const fix = pixelToGround(p, camera, pixel, IMAGE);
  assert.ok(fix.ok, `expected a ground position, got: ${fix.ok ? '' : fix.reason}`);
  return { ...northEastOf(p.position, fix.position), ...fix };
}

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

test('a camera pointing straight down sees the point directly below at the image centre', () => {
  const p = pose({ altitudeAglM: 50, gimbal: { pitchDeg: -90 } });
  const fix = pixelToGround(p, CAMERA_60, CENTRE, IMAGE);
  assert.ok(fix.ok);
  near(distanceM(CONRAD, fix.position), 0, 1e-6, 'distance from below the drone');
  near(fix.slantRangeM, 50, 1e-9, 'slant range');
  near(fix.groundRangeM, 0, 1e-9, 'ground range');
});

test('45 degrees down from 30 m, the image centre is 30 m ahead along the heading', () => {
  const fix = pixelToGround(pose({ altitudeAglM: 30 }), CAMERA_60, CENTRE, IMAGE);
  assert.ok(fix.ok);
  near(distanceM(CONRAD, fix.position), 30, 1e-6, 'distance');
  near(bearingDeg(CONRAD, fix.position), 0, 1e-6, 'bearing');
  near(fix.groundRangeM, 30, 1e-9, 'ground range');
  near(fix.slantRangeM, 30 * Math.SQRT2, 1e-9, 'slant range');
});

test('heading 90 puts the image centre east, however the heading is made up', () => {
  const cases: CameraPose[] = [
    pose({ yawDeg: 90 }),
    pose({ yawDeg: 30, gimbal: { yawDeg: 60, yawFrame: 'vehicle' } }),
    pose({ yawDeg: 200, gimbal: { yawDeg: 90, yawFrame: 'earth' } }),
    pose({ yawDeg: 200, gimbal: { yawDeg: 90, yawFrame: 'earth' }, stabilized: false }),
  ];
  for (const p of cases) {
    const fix = pixelToGround(p, CAMERA_60, CENTRE, IMAGE);
    assert.ok(fix.ok);
    near(bearingDeg(CONRAD, fix.position), 90, 1e-6, `bearing for ${JSON.stringify(p)}`);
    near(distanceM(CONRAD, fix.position), 30, 1e-6, 'distance');
  }
});

test('the top edge of a 45-deg-down camera with a 90-deg vertical FOV is the horizon', () => {
  const fix = pixelToGround(pose({}), CAMERA_90, { x: 320, y: 0 }, IMAGE);
  assert.equal(fix.ok, false);
  assert.match(fix.ok ? '' : fix.reason, /at or above the horizon/);

  const above = pixelToGround(pose({}), CAMERA_90, { x: 320, y: -10 }, IMAGE);
  assert.equal(above.ok, false);
  const level = pixelToGround(pose({ gimbal: { pitchDeg: 0 } }), CAMERA_60, CENTRE, IMAGE);
  assert.equal(level.ok, false);
  const up = pixelToGround(pose({ gimbal: { pitchDeg: 10 } }), CAMERA_60, CENTRE, IMAGE);
  assert.match(up.ok ? '' : up.reason, /horizon/);
});

test('a ray grazing the horizon is refused rather than placed kilometres away', () => {
  // 0.1 deg below the horizon from 30 m meets the ground about 17 km out.
  const p = pose({ gimbal: { pitchDeg: -0.1 } });
  const fix = pixelToGround(p, CAMERA_60, CENTRE, IMAGE);
  assert.equal(fix.ok, false);
  assert.match(fix.ok ? '' : fix.reason, new RegExp(`beyond the ${MAX_GROUND_RANGE_M} m`));
});

test('the bottom row of the image is nearer than the centre', () => {
  // 45 down with a 60-deg vertical FOV: the bottom edge looks 75 deg down.
  const bottom = ground(pose({}), { x: 320, y: 512 }, CAMERA_60);
  const centre = ground(pose({}), CENTRE, CAMERA_60);
  near(bottom.northM, 30 / Math.tan(rad(75)), 1e-6, 'bottom row north');
  near(bottom.eastM, 0, 1e-6, 'bottom row east');
  assert.ok(bottom.groundRangeM < centre.groundRangeM);

  // With a 90-deg vertical FOV the bottom edge looks straight down.
  const straightDown = ground(pose({}), { x: 320, y: 512 }, CAMERA_90);
  near(straightDown.groundRangeM, 0, 1e-6, 'bottom edge ground range');
  near(straightDown.slantRangeM, 30, 1e-6, 'bottom edge slant range');
});

test('the left half of the image maps to the left of the heading', () => {
  // Heading north, 45 down, left edge of a 90-deg horizontal FOV: camera ray (1, -1, 0)
  // pitched down 45 deg is (cos 45, -1, sin 45) north-east-down.
  const left = ground(pose({}), { x: 0, y: 256 }, CAMERA_90);
  near(left.northM, 30, 1e-6, 'north');
  near(left.eastM, -30 / Math.sin(rad(45)), 1e-6, 'east');
  near(left.slantRangeM, Math.hypot(30, left.groundRangeM), 1e-6, 'slant range');

  const right = ground(pose({}), { x: 480, y: 256 }, CAMERA_90);
  assert.ok(right.eastM > 0);

  // Facing east, "left" is north.
  const eastward = ground(pose({ yawDeg: 90 }), { x: 100, y: 256 }, CAMERA_90);
  assert.ok(eastward.northM > 0, `north ${eastward.northM}`);
  assert.ok(eastward.eastM > 0);
});

test('vehicle roll and pitch matter only when the gimbal is not stabilised', () => {
  const level = ground(pose({}));
  const rolledStabilised = ground(pose({ rollDeg: 20, pitchDeg: -8 }));
  near(rolledStabilised.northM, level.northM, 1e-9, 'north');
  near(rolledStabilised.eastM, level.eastM, 1e-9, 'east');

  // Camera fixed looking straight down; right wing down 10 deg turns the belly to the left.
  const rolled = ground(
    pose({ rollDeg: 10, gimbal: { pitchDeg: -90 }, stabilized: false, altitudeAglM: 40 }),
  );
  near(rolled.northM, 0, 1e-6, 'north when rolled');
  near(rolled.eastM, -40 * Math.tan(rad(10)), 1e-6, 'east when rolled');

  // Nose 10 deg down with the camera mounted 45 deg down: the camera looks 55 deg down.
  const pitched = ground(pose({ pitchDeg: -10, stabilized: false }));
  near(pitched.northM, 30 / Math.tan(rad(55)), 1e-6, 'north when pitched');
  near(pitched.eastM, 0, 1e-6, 'east when pitched');

  // Mount yaw 90 (camera to the right) on a vehicle heading north, rolled right wing down
  // 10 deg: the camera now looks 45 + 10 deg down, toward the east.
  const sideways = ground(pose({ rollDeg: 10, gimbal: { yawDeg: 90 }, stabilized: false }));
  near(sideways.northM, 0, 1e-6, 'north, sideways mount');
  near(sideways.eastM, 30 / Math.tan(rad(55)), 1e-6, 'east, sideways mount');
});

test('bad poses and camera models give a reason instead of a position', () => {
  const cases: Array<[CameraPose, CameraModel, RegExp]> = [
    [pose({ altitudeAglM: 0 }), CAMERA_60, /altitude 0 m is at or below the ground/],
    [pose({ altitudeAglM: -5 }), CAMERA_60, /at or below the ground/],
    [pose({ altitudeAglM: Number.NaN }), CAMERA_60, /altitude above ground is not a number/],
    [pose({ gimbal: { pitchDeg: Number.NaN } }), CAMERA_60, /gimbal pitch is not a number/],
    [pose({}), { horizontalFovDeg: 0, verticalFovDeg: 40 }, /horizontal field of view 0/],
    [pose({}), { horizontalFovDeg: 60, verticalFovDeg: 180 }, /vertical field of view 180/],
  ];
  for (const [p, camera, reason] of cases) {
    const fix = pixelToGround(p, camera, CENTRE, IMAGE);
    assert.equal(fix.ok, false);
    assert.match(fix.ok ? '' : fix.reason, reason);
  }
  const noImage = pixelToGround(pose({}), CAMERA_60, CENTRE, { width: 0, height: 512 });
  assert.match(noImage.ok ? '' : noImage.reason, /image size 0x512 is not positive/);
});

function detection(box: [number, number, number, number]): Detection {
  return {
    frameId: 7,
    frameTimeMs: 1_700_000_000_000,
    classId: 21,
    className: 'bear',
    score: 0.9,
    box,
    imageWidth: 640,
    imageHeight: 512,
  };
}

test('a detection is placed at the bottom-centre of its box', () => {
  // Box whose bottom-centre is the image centre: the spot 30 m ahead.
  const d = detection([300, 200, 40, 56]);
  const geo = georeferenceDetection(d, pose({}), CAMERA_60);
  assert.equal(geo.groundError, null);
  assert.ok(geo.ground);
  near(distanceM(CONRAD, geo.ground), 30, 1e-6, 'distance');
  near(bearingDeg(CONRAD, geo.ground), 0, 1e-6, 'bearing');
  assert.deepEqual(
    { ...geo, ground: undefined, groundError: undefined, uncertainty: undefined },
    {
      ...d,
      ground: undefined,
      groundError: undefined,
      uncertainty: undefined,
    },
  );

  // A box reaching the bottom edge of a 90-deg FOV camera 45 deg down stands below the drone.
  const below = georeferenceDetection(detection([300, 400, 40, 112]), pose({}), CAMERA_90);
  assert.ok(below.ground);
  near(distanceM(CONRAD, below.ground), 0, 1e-6, 'distance below');
});

test('a detection above the horizon keeps its box and says why it has no ground position', () => {
  const geo = georeferenceDetection(detection([300, -60, 40, 50]), pose({}), CAMERA_90);
  assert.equal(geo.ground, null);
  assert.match(geo.groundError ?? '', /at or above the horizon/);
  assert.deepEqual(geo.box, [300, -60, 40, 50]);
});
