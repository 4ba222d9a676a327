// The simulator's camera draws the world where the station's georeferencing says it is: the
// same pinhole model, pixel convention and flat ground, the bear at its true place and size.
// Needs the bear cut-out from ../shared (URSA_SHARED_DIR).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { northEastOf, offsetNorthEast } from '../../app/core/geodesy';
import { pixelToGround, type CameraPose } from '../../app/core/georef';
import type { CameraModel } from '../../app/core/types';
import { sharedDir } from '../../app/station/paths';
import { BEAR_LENGTH_M, GroundRenderer, type ViewPose } from '../../app/station/sim/render';
import { BEAR_PICTURE, loadBearPicture } from '../../app/station/sim/world';

const HOME = { latDeg: 48.17, lonDeg: -111.95 };
const FARM = { northM: 80, eastM: 300 };
const CAMERA: CameraModel = { horizontalFovDeg: 60, verticalFovDeg: 45 };
const [WIDTH, HEIGHT] = [640, 480];
const picture = path.join(sharedDir(), BEAR_PICTURE);
const noPicture = existsSync(picture) ? false : `${picture} is absent`;

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
  const renderer = new GroundRenderer({
    width: WIDTH,
    height: HEIGHT,
    camera: CAMERA,
    farm: FARM,
    bearSprite: null,
  });
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

test('the bear is drawn at its true position, at its true size', { skip: noPicture }, () => {
  const renderer = new GroundRenderer({
    width: WIDTH,
    height: HEIGHT,
    camera: CAMERA,
    farm: FARM,
    bearSprite: loadBearPicture(),
  });
  // Straight down from 12 m the ground is a map: about 2 cm a pixel.
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

  const metresPerPixel = (2 * view.altitudeAglM * Math.tan(Math.PI / 6)) / WIDTH;
  const lengthM = (box.right - box.left) * metresPerPixel;
  assert.ok(Math.abs(lengthM - BEAR_LENGTH_M) < 0.1, `drawn ${lengthM} m long`);
  const size = renderer.bearSizeM;
  assert.ok(size);
  // The pixels are not square: 60 x 45 deg over 640 x 480.
  const metresPerRow = (2 * view.altitudeAglM * Math.tan((22.5 * Math.PI) / 180)) / HEIGHT;
  const widthM = (box.bottom - box.top) * metresPerRow;
  assert.ok(Math.abs(widthM - size.widthM) < 0.1, `drawn ${widthM} m across, not ${size.widthM}`);

  // The centre of what was drawn georeferences to the bear's true place.
  const fix = pixelToGround(
    stationPose(view, 0),
    CAMERA,
    { x: (box.left + box.right) / 2, y: (box.top + box.bottom) / 2 },
    { width: WIDTH, height: HEIGHT },
  );
  assert.ok(fix.ok);
  const drawn = northEastOf(HOME, fix.position);
  const offM = Math.hypot(drawn.northM - bear.northM, drawn.eastM - bear.eastM);
  assert.ok(offM < 0.1, `drawn ${offM} m from where the bear is`);

  // Walking east under a north-facing camera the bear lies across the frame; walking north,
  // along it.
  const north = changed(ground, renderer.render(view, { ...bear, headingDeg: 0 }));
  assert.ok(box.right - box.left > box.bottom - box.top);
  assert.ok(north.bottom - north.top > north.right - north.left);
  const northLengthM = (north.bottom - north.top) * metresPerRow;
  assert.ok(Math.abs(northLengthM - BEAR_LENGTH_M) < 0.1, `drawn ${northLengthM} m long`);
});

test('seen obliquely, the bear is still where geometry says', { skip: noPicture }, () => {
  const renderer = new GroundRenderer({
    width: WIDTH,
    height: HEIGHT,
    camera: { horizontalFovDeg: 10, verticalFovDeg: 7.5 },
    farm: FARM,
    bearSprite: loadBearPicture(),
  });
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
  assert.ok(box.left < projected.x && projected.x < box.right);
  assert.ok(box.top < projected.y && projected.y < box.bottom);
  // About 69 m away through a 10 deg lens: roughly 1.9 m x 53 px/m wide.
  assert.ok(box.right - box.left > 60 && box.right - box.left < 130, `${box.right - box.left} px`);
});

test('the ground has texture, so a moving camera sees motion', () => {
  const renderer = new GroundRenderer({
    width: WIDTH,
    height: HEIGHT,
    camera: CAMERA,
    farm: FARM,
    bearSprite: null,
  });
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
  const renderer = new GroundRenderer({
    width: WIDTH,
    height: HEIGHT,
    camera: CAMERA,
    farm: FARM,
    bearSprite: null,
  });
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
  const renderer = new GroundRenderer({
    width: WIDTH,
    height: HEIGHT,
    camera: CAMERA,
    farm: FARM,
    bearSprite: null,
  });
  const frame = renderer.render(
    { northM: 0, eastM: 0, altitudeAglM: 30, headingDeg: 0, pitchDeg: 0, rollDeg: 0 },
    null,
  );
  const top = 10 * WIDTH * 3;
  assert.ok(frame[top + 2] > frame[top], 'blue above');
  const bottom = (HEIGHT - 10) * WIDTH * 3;
  assert.ok(frame[bottom + 1] > frame[bottom + 2], 'grass below');

  const make = (width: number, height: number, hfov: number) =>
    new GroundRenderer({
      width,
      height,
      camera: { horizontalFovDeg: hfov, verticalFovDeg: 45 },
      farm: FARM,
      bearSprite: null,
    });
  assert.throws(() => make(641, 480, 60), /must have even sides/);
  assert.throws(() => make(8, 480, 60), /16 or more a side/);
  assert.throws(() => make(640, 480, 0), /horizontal field of view 0 deg is outside/);
});
