// Ground uncertainty from pose errors: small at nadir, growing with range and at shallow angles.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  DEFAULT_POSE_ERRORS,
  georeferenceDetection,
  pixelToGround,
  type CameraPose,
  type PoseErrors,
} from '../../app/core/georef';
import { GridTerrain } from '../../app/core/terrain';
import type { CameraModel, GroundUncertainty } from '../../app/core/types';

const ORIGIN = { latDeg: 48.17, lonDeg: -111.95 };
const IMAGE = { width: 640, height: 512 };
const CENTRE = { x: 320, y: 256 };
const CAMERA: CameraModel = { horizontalFovDeg: 60, verticalFovDeg: 48 };
const rad = (deg: number): number => (deg * Math.PI) / 180;
const ATTITUDE_ONLY: PoseErrors = { attitudeDeg: 1.5, gpsHorizontalM: 0, altitudeM: 0 };

function pose(altitudeAglM: number, pitchDeg: number, headingDeg = 0): CameraPose {
  return {
    position: ORIGIN,
    altitudeAglM,
    altitudeMslM: 1000 + altitudeAglM,
    vehicleAttitude: { rollDeg: 0, pitchDeg: 0, yawDeg: headingDeg },
    gimbal: { pitchDeg, rollDeg: 0, yawDeg: 0, yawFrame: 'vehicle' },
  };
}

function uncertainty(p: CameraPose, errors: PoseErrors, options = {}): GroundUncertainty {
  const fix = pixelToGround(p, CAMERA, CENTRE, IMAGE, { errors, ...options });
  assert.ok(fix.ok, fix.ok ? '' : fix.reason);
  assert.ok(fix.uncertainty);
  return fix.uncertainty;
}

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

test('at nadir the ellipse is a small circle: height times the angle error', () => {
  const u = uncertainty(pose(50, -90), ATTITUDE_ONLY);
  // Tilt either way by 1.5 deg moves the centre 50 tan(1.5) m; turning about the vertical
  // does not move it.
  near(u.alongRangeM, 50 * Math.tan(rad(1.5)), 0.01, 'along');
  near(u.crossRangeM, 50 * Math.tan(rad(1.5)), 0.01, 'cross');
  const withGps = uncertainty(pose(50, -90), DEFAULT_POSE_ERRORS);
  near(withGps.alongRangeM, Math.hypot(50 * Math.tan(rad(1.5)), 1.5), 0.01, 'along with GPS');
});

test('along-range grows with range and faster than cross-range at shallow angles', () => {
  // From 40 m up: flat ground d = h / tan(theta), so d(d)/d(theta) = h / sin^2(theta).
  const steep = uncertainty(pose(40, -60), ATTITUDE_ONLY);
  const shallow = uncertainty(pose(40, -20), ATTITUDE_ONLY);
  const grazing = uncertainty(pose(40, -8), ATTITUDE_ONLY);
  assert.ok(steep.alongRangeM < shallow.alongRangeM, 'along grows');
  assert.ok(shallow.alongRangeM < grazing.alongRangeM, 'along grows further');
  assert.ok(steep.crossRangeM < shallow.crossRangeM, 'cross grows with slant range');
  const ratio = (u: GroundUncertainty): number => u.alongRangeM / u.crossRangeM;
  assert.ok(ratio(steep) < ratio(shallow) && ratio(shallow) < ratio(grazing), 'elongates');

  // Hand numbers for 20 deg down: central difference of h / tan(theta +- 1.5 deg).
  const alongM = (40 / Math.tan(rad(18.5)) - 40 / Math.tan(rad(21.5))) / 2;
  near(shallow.alongRangeM, alongM, 0.01, 'along at 20 deg');
  // Across: turning about the vertical by 1.5 deg moves it d tan(1.5); rolling about the
  // horizontal line of sight moves it h tan(1.5); the two add in quadrature.
  const groundM = 40 / Math.tan(rad(20));
  near(shallow.crossRangeM, Math.hypot(groundM, 40) * Math.tan(rad(1.5)), 0.05, 'cross');
  near(shallow.alongRangeBearingDeg, 0, 1e-6, 'bearing north');
  assert.ok(grazing.alongRangeM > 20, `grazing along ${grazing.alongRangeM}`);
});

test('the along-range axis points along the line of sight', () => {
  for (const headingDeg of [0, 45, 90, 200, 315]) {
    const u = uncertainty(pose(40, -30, headingDeg), DEFAULT_POSE_ERRORS);
    near(u.alongRangeBearingDeg, headingDeg, 1e-6, `bearing for heading ${headingDeg}`);
    assert.ok(u.alongRangeM > u.crossRangeM);
  }
});

test('altitude error moves the point along range in proportion to range over height', () => {
  const altitudeOnly: PoseErrors = { attitudeDeg: 0, gpsHorizontalM: 0, altitudeM: 2 };
  const u = uncertainty(pose(40, -30), altitudeOnly);
  near(u.alongRangeM, 2 / Math.tan(rad(30)), 1e-6, 'along');
  near(u.crossRangeM, 0, 1e-6, 'cross');
  const nadir = uncertainty(pose(40, -90), altitudeOnly);
  near(nadir.alongRangeM, 0, 1e-6, 'nadir along');
});

test('ground that rises away from the camera shrinks the along-range error', () => {
  const cells = 300;
  const spacingM = 2;
  const values = new Float32Array(cells * cells);
  const mPerDegLon = 111_320 * Math.cos(rad(ORIGIN.latDeg));
  for (let row = 0; row < cells; row += 1) {
    // Rows go south; the slope rises 0.5 m per metre northward.
    const northM = (cells / 2 - row - 0.5) * spacingM;
    values.fill(1000 + 0.5 * northM, row * cells, (row + 1) * cells);
  }
  const terrain = new GridTerrain(
    {
      width: cells,
      height: cells,
      values,
      crs: 'EPSG:4326',
      noData: null,
      originX: ORIGIN.lonDeg - (cells / 2) * (spacingM / mPerDegLon),
      originY: ORIGIN.latDeg + (cells / 2) * (spacingM / 111_320),
      pixelSizeX: spacingM / mPerDegLon,
      pixelSizeY: spacingM / 111_320,
    },
    'rising slope',
  );
  const flat = uncertainty(pose(40, -25), ATTITUDE_ONLY);
  const onSlope = uncertainty(pose(40, -25), ATTITUDE_ONLY, { terrain });
  assert.ok(
    onSlope.alongRangeM < flat.alongRangeM / 2,
    `slope ${onSlope.alongRangeM} vs flat ${flat.alongRangeM}`,
  );
});

test('detections carry the default uncertainty; bad errors are refused with a reason', () => {
  const detection = {
    frameId: 1,
    frameTimeMs: 0,
    classId: 21,
    className: 'bear',
    score: 0.9,
    box: [300, 200, 40, 56] as [number, number, number, number],
    imageWidth: 640,
    imageHeight: 512,
  };
  const geo = georeferenceDetection(detection, pose(40, -45), CAMERA);
  assert.ok(geo.uncertainty);
  assert.ok(geo.uncertainty.alongRangeM > 1 && geo.uncertainty.alongRangeM < 10);
  const none = georeferenceDetection(detection, pose(40, -45), CAMERA, { errors: null });
  assert.equal(none.uncertainty, null);
  const refused = pixelToGround(pose(40, -45), CAMERA, CENTRE, IMAGE, {
    errors: { attitudeDeg: Number.NaN, gpsHorizontalM: 1, altitudeM: 1 },
  });
  assert.match(refused.ok ? '' : refused.reason, /attitudeDeg must be a number/);
});

test('a ray whose error cone reaches the horizon gets a one-sided, large uncertainty', () => {
  // 1 deg below the horizon from 30 m lands 1.7 km out; 1.5 deg more up never lands.
  const u = uncertainty(pose(30, -1), ATTITUDE_ONLY);
  assert.ok(u.alongRangeM > 1000, `along ${u.alongRangeM}`);
  assert.ok(Number.isFinite(u.alongRangeM));
});
