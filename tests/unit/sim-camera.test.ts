// The simulator's camera draws the world where the station's georeferencing says it is: the
// same pinhole model, pixel convention and flat ground; the bear upright, its feet at its true
// place, its true size at its range.
// Needs the bear cut-out from ../shared (URSA_SHARED_DIR).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { northEastOf, offsetNorthEast } from '../../app/core/geodesy';
import { pixelToGround, type CameraPose } from '../../app/core/georef';
import type { CameraModel } from '../../app/core/types';
import { sharedDir } from '../../app/station/paths';
import {
  BEAR_LENGTH_M,
  GroundRenderer,
  type SceneOptions,
  type ViewPose,
} from '../../app/station/sim/render';
import { BEAR_PICTURE, loadBearPicture } from '../../app/station/sim/world';

const HOME = { latDeg: 48.17, lonDeg: -111.95 };
const FARM = { northM: 80, eastM: 300 };
const CAMERA: CameraModel = { horizontalFovDeg: 60, verticalFovDeg: 45 };
const [WIDTH, HEIGHT] = [640, 480];
const picture = path.join(sharedDir(), BEAR_PICTURE);
const noPicture = existsSync(picture) ? false : `${picture} is absent`;

/** The renderer of these tests: the default lens and frame, the farm, no bear unless given. */
function makeRenderer(options: Partial<SceneOptions> = {}): GroundRenderer {
  return new GroundRenderer({
    width: WIDTH,
    height: HEIGHT,
    camera: CAMERA,
    farm: FARM,
    bearSprite: null,
    ...options,
  });
}

/** The station's view of the same camera: the vehicle's yaw plus the gimbal's, as MAVLink says. */
function stationPose(view: ViewPose, vehicleYawDeg: number): CameraPose {
  return {
    position: offsetNorthEast(HOME, view.northM, view.eastM),
    altitudeAglM: view.altitudeAglM,
    vehicleAttitude: { rollDeg: 2, pitchDeg: -3, yawDeg: vehicleYawDeg },
    gimbal: {
      pitchDeg: view.pitchDeg,
      rollDeg: 0,
      yawDeg: view.headingDeg - vehicleYawDeg,
      yawFrame: 'vehicle',
    },
  };
}

/**
 * How far the bottom middle of a drawn box (the bear's feet), georeferenced as the station
 * does, lands from where the bear really is.
 */
function feetOffM(
  view: ViewPose,
  vehicleYawDeg: number,
  camera: CameraModel,
  box: { left: number; right: number; bottom: number },
  bear: { northM: number; eastM: number },
): number {
  const fix = pixelToGround(
    stationPose(view, vehicleYawDeg),
    camera,
    { x: (box.left + box.right) / 2, y: box.bottom },
    { width: WIDTH, height: HEIGHT },
  );
  assert.ok(fix.ok);
  const drawn = northEastOf(HOME, fix.position);
  return Math.hypot(drawn.northM - bear.northM, drawn.eastM - bear.eastM);
}

/** Pixels that differ between two frames, and their bounding box. */
function changed(a: Uint8Array, b: Uint8Array) {
  let [left, top, right, bottom, count] = [WIDTH, HEIGHT, -1, -1, 0];
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3;
      const difference =
        Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]);
      if (difference < 24) continue;
      count++;
      left = Math.min(left, x);
      right = Math.max(right, x + 1);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y + 1);
    }
  }
  return { count, left, top, right, bottom };
}

test('a ground point projects where georeferencing puts that pixel back', () => {
  const renderer = makeRenderer();
  const poses: Array<{ view: ViewPose; vehicleYawDeg: number }> = [
    {
      view: { northM: 5, eastM: -3, altitudeAglM: 40, headingDeg: 30, pitchDeg: -60, rollDeg: 0 },
      vehicleYawDeg: 10,
    },
    {
      view: { northM: 0, eastM: 0, altitudeAglM: 55, headingDeg: 250, pitchDeg: -45, rollDeg: 0 },
      vehicleYawDeg: 250,
    },
    {
      view: { northM: -20, eastM: 7, altitudeAglM: 30, headingDeg: 90, pitchDeg: -90, rollDeg: 0 },
      vehicleYawDeg: 0,
    },
  ];
  for (const { view, vehicleYawDeg } of poses) {
    const pose = stationPose(view, vehicleYawDeg);
    for (const [x, y] of [
      [320, 240],
      [10, 15],
      [600, 470],
      [123.5, 321.25],
    ]) {
      const fix = pixelToGround(pose, CAMERA, { x, y }, { width: WIDTH, height: HEIGHT });
      assert.ok(fix.ok, `pixel ${x},${y} reaches the ground`);
      const point = northEastOf(HOME, fix.position);
      const back = renderer.project(view, point);
      assert.ok(back, `ground point of pixel ${x},${y} is in view`);
      const offPx = Math.hypot(back.x - x, back.y - y);
      assert.ok(offPx < 0.05, `${x},${y} comes back as ${back.x},${back.y}`);
    }
  }
});

test('the bear stands upright, its feet on its true ground point', { skip: noPicture }, () => {
  const renderer = makeRenderer({ bearSprite: loadBearPicture() });
  // Straight down from 12 m, looking north: the photo stays upright in the image all the same,
  // as the detector was trained on animals seen from the side.
  const view: ViewPose = {
    northM: 0,
    eastM: 0,
    altitudeAglM: 12,
    headingDeg: 0,
    pitchDeg: -90,
    rollDeg: 0,
  };
  const bear = { northM: 2, eastM: -1.5, headingDeg: 90 };
  const ground = renderer.render(view, null);
  const withBear = renderer.render(view, bear);
  const box = changed(ground, withBear);
  assert.ok(box.count > 1000, `${box.count} bear pixels`);

  // Its feet (the bottom centre of what was drawn) are where the ground point projects.
  const feet = renderer.project(view, bear);
  assert.ok(feet);
  assert.ok(Math.abs((box.left + box.right) / 2 - feet.x) < 1.5, `feet at x ${feet.x}`);
  assert.ok(Math.abs(box.bottom - feet.y) < 1.5, `feet at y ${feet.y}, box bottom ${box.bottom}`);
  // 1.9 m long at its slant range, through the same pinhole.
  const slantM = Math.hypot(bear.northM, bear.eastM, view.altitudeAglM);
  const pxPerMX = WIDTH / 2 / Math.tan(Math.PI / 6) / slantM;
  const pxPerMY = HEIGHT / 2 / Math.tan((22.5 * Math.PI) / 180) / slantM;
  const lengthM = (box.right - box.left) / pxPerMX;
  assert.ok(Math.abs(lengthM - BEAR_LENGTH_M) < 0.05, `drawn ${lengthM} m long`);
  const size = renderer.bearSizeM;
  assert.ok(size && size.heightM > 1 && size.heightM < 2, `bear ${size?.heightM} m high`);
  const heightM = (box.bottom - box.top) / pxPerMY;
  assert.ok(Math.abs(heightM - size.heightM) < 0.05, `drawn ${heightM} m high`);
  const screen = renderer.bearOnScreen(view, bear);
  assert.ok(screen && !screen.mirrored, 'walking right across the screen: the photo as it is');
  assert.ok(Math.abs(screen.slantRangeM - slantM) < 1e-9);

  // The bottom centre georeferences to the bear's true place, as the station assumes.
  const offM = feetOffM(view, 0, CAMERA, box, bear);
  assert.ok(offM < 0.05, `drawn ${offM} m from where the bear is`);

  // Walking west it faces left: the same pixels mirrored about its feet.
  const west = renderer.render(view, { ...bear, headingDeg: 270 });
  assert.ok(renderer.bearOnScreen(view, { ...bear, headingDeg: 270 })?.mirrored);
  const westBox = changed(ground, west);
  assert.ok(Math.abs(westBox.left - box.left) <= 1 && Math.abs(westBox.right - box.right) <= 1);
  let differenceSum = 0;
  let mirroredDifferenceSum = 0;
  let compared = 0;
  for (let y = box.top; y < box.bottom; y++) {
    for (let x = box.left; x < box.right; x++) {
      const mirrorX = Math.round(2 * feet.x - 1 - x);
      const i = (y * WIDTH + x) * 3;
      const j = (y * WIDTH + mirrorX) * 3;
      // Only the bear's own pixels: the grass around it is not mirrored.
      if (Math.abs(withBear[i] - ground[i]) < 24 || Math.abs(west[j] - ground[j]) < 24) continue;
      compared++;
      differenceSum += Math.abs(withBear[i] - west[i]);
      mirroredDifferenceSum += Math.abs(withBear[i] - west[j]);
    }
  }
  assert.ok(compared > 1000, `${compared} bear pixels compared`);
  const mirroredMean = mirroredDifferenceSum / compared;
  const plainMean = differenceSum / compared;
  assert.ok(mirroredMean < 0.5 * plainMean, `mirrored ${mirroredMean}, as it is ${plainMean}`);

  // Walking toward or away from the camera it still shows its side, at the same size.
  const away = changed(ground, renderer.render(view, { ...bear, headingDeg: 0 }));
  assert.ok(Math.abs(away.right - away.left - (box.right - box.left)) <= 1);
  assert.ok(Math.abs(away.bottom - away.top - (box.bottom - box.top)) <= 1);
});

test('seen obliquely, the feet are where geometry says', { skip: noPicture }, () => {
  const camera = { horizontalFovDeg: 8, verticalFovDeg: 6 };
  const renderer = makeRenderer({ camera, bearSprite: loadBearPicture() });
  const view: ViewPose = {
    northM: 0,
    eastM: 0,
    altitudeAglM: 45,
    headingDeg: 20,
    pitchDeg: -50,
    rollDeg: 0,
  };
  // Where the optical axis meets the ground.
  const groundRangeM = 45 / Math.tan((50 * Math.PI) / 180);
  const bear = {
    northM: groundRangeM * Math.cos((20 * Math.PI) / 180),
    eastM: groundRangeM * Math.sin((20 * Math.PI) / 180),
    headingDeg: 120,
  };
  const box = changed(renderer.render(view, null), renderer.render(view, bear));
  const projected = renderer.project(view, bear);
  assert.ok(projected);
  assert.ok(Math.abs(projected.x - 320) < 1 && Math.abs(projected.y - 240) < 1, 'in the centre');
  assert.ok(Math.abs((box.left + box.right) / 2 - projected.x) < 1.5, 'centred on its feet');
  assert.ok(Math.abs(box.bottom - projected.y) < 1.5, 'standing on its feet');
  // About 58.7 m away through an 8 deg lens: 1.9 m x 77.7 px/m, about 148 px long.
  const slantM = 45 / Math.sin((50 * Math.PI) / 180);
  const expectedPx = ((WIDTH / 2 / Math.tan((4 * Math.PI) / 180)) * BEAR_LENGTH_M) / slantM;
  const lengthPx = box.right - box.left;
  assert.ok(Math.abs(lengthPx - expectedPx) < 2, `${lengthPx} px long, not ${expectedPx}`);

  const offM = feetOffM(view, 20, camera, box, bear);
  assert.ok(offM < 0.1, `its box's bottom centre lands ${offM} m from the bear`);
});

test('the ground has texture, so a moving camera sees motion', () => {
  const renderer = makeRenderer();
  const view: ViewPose = {
    northM: 0,
    eastM: 0,
    altitudeAglM: 30,
    headingDeg: 0,
    pitchDeg: -60,
    rollDeg: 0,
  };
  const a = renderer.render(view, null);
  const b = renderer.render({ ...view, northM: 1 }, null);
  let sum = 0;
  let sumSquares = 0;
  let moved = 0;
  for (let i = 0; i < a.length; i += 3) {
    const grey = (a[i] + a[i + 1] + a[i + 2]) / 3;
    sum += grey;
    sumSquares += grey * grey;
    moved += Math.abs(a[i + 1] - b[i + 1]);
  }
  const n = a.length / 3;
  const spread = Math.sqrt(sumSquares / n - (sum / n) ** 2);
  assert.ok(spread > 4, `brightness spread ${spread}`);
  assert.ok(moved / n > 2, `mean change ${moved / n} after 1 m`);
});

test('the farm yard shows its silo and barn from above', () => {
  const renderer = makeRenderer();
  const frame = renderer.render(
    { ...FARM, altitudeAglM: 80, headingDeg: 0, pitchDeg: -90, rollDeg: 0 },
    null,
  );
  let metal = 0;
  let roof = 0;
  for (let i = 0; i < frame.length; i += 3) {
    const [r, g, b] = [frame[i], frame[i + 1], frame[i + 2]];
    if (Math.abs(r - g) < 12 && Math.abs(g - b) < 12 && r > 150) metal++;
    if (r > 100 && g < 60 && b < 60) roof++;
  }
  assert.ok(metal > 500, `${metal} silo pixels`);
  assert.ok(roof > 2000, `${roof} barn roof pixels`);
});

test('above the horizon is sky; bad frame sizes and fields of view are refused', () => {
  const renderer = makeRenderer();
  const frame = renderer.render(
    { northM: 0, eastM: 0, altitudeAglM: 30, headingDeg: 0, pitchDeg: 0, rollDeg: 0 },
    null,
  );
  const top = 10 * WIDTH * 3;
  assert.ok(frame[top + 2] > frame[top], 'blue above');
  const bottom = (HEIGHT - 10) * WIDTH * 3;
  assert.ok(frame[bottom + 1] > frame[bottom + 2], 'grass below');

  const make = (width: number, height: number, hfov: number) =>
    makeRenderer({ width, height, camera: { horizontalFovDeg: hfov, verticalFovDeg: 45 } });
  assert.throws(() => make(641, 480, 60), /must have even sides/);
  assert.throws(() => make(8, 480, 60), /16 or more a side/);
  assert.throws(() => make(640, 480, 0), /horizontal field of view 0 deg is outside/);
});
