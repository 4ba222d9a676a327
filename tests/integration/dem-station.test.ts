// A real station process (simulated drone, demo video, the real detector) given an elevation
// model with --dem: each bear's ground position is where the ray from the camera meets that
// terrain, not the flat ground at home altitude, and carries the uncertainty --attitude-error
// asks for. The test works the same answer out itself from the vehicle's reported pose.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { bearingDeg, distanceM } from '../../app/core/geodesy';
import { georeferenceDetection, type CameraPose } from '../../app/core/georef';
import type { GeoDetection, VehicleState } from '../../app/core/types';
import { loadGeoTiffTerrain } from '../../app/station/terrain/geotiff';
import {
  stationEnv,
  stationMissing,
  StationProcess,
  YOLOX_MODEL as MODEL,
} from '../helpers/station';
import { StationClient, stationWsUrl } from '../helpers/station-client';
import { writeGeoTiff } from '../unit/terrain-fixtures';

const TOKEN = 'dem-station-test-operator-token';
const WAIT_MS = 90_000;
// The simulator's default home, and the station's default camera.
const HOME = { latDeg: 48.17, lonDeg: -111.95, altitudeMslM: 1060 };
const CAMERA = { horizontalFovDeg: 60, verticalFovDeg: 45 };
const M_PER_DEG_LAT = 111_320;
const M_PER_DEG_LON = M_PER_DEG_LAT * Math.cos((HOME.latDeg * Math.PI) / 180);

let workDir: string;
before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-dem-'));
});
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/**
 * A bowl: level within 5 m of home, then rising 0.6 m per metre in every direction, so any
 * ray that lands beyond the level patch lands well short of where flat ground would put it.
 */
function writeBowl(file: string): void {
  const cells = 400;
  const spacingM = 2;
  const sx = spacingM / M_PER_DEG_LON;
  const sy = spacingM / M_PER_DEG_LAT;
  const west = HOME.lonDeg - (cells / 2) * sx;
  const north = HOME.latDeg + (cells / 2) * sy;
  const values = new Float32Array(cells * cells);
  for (let row = 0; row < cells; row += 1) {
    for (let column = 0; column < cells; column += 1) {
      const northM = (north - (row + 0.5) * sy - HOME.latDeg) * M_PER_DEG_LAT;
      const eastM = (west + (column + 0.5) * sx - HOME.lonDeg) * M_PER_DEG_LON;
      values[row * cells + column] =
        HOME.altitudeMslM + 0.6 * Math.max(0, Math.hypot(northM, eastM) - 5);
    }
  }
  writeGeoTiff(file, {
    width: cells,
    height: cells,
    values,
    epsg: 4326,
    pixelScale: [sx, sy],
    tiepoint: [0, 0, west, north],
    noData: '-9999',
    deflate: true,
  });
}

test(
  'with --dem the bear is placed where the camera ray meets the terrain, with its uncertainty',
  { skip: stationMissing([MODEL]), timeout: 300_000 },
  async (t) => {
    const dem = path.join(workDir, 'bowl.tif');
    writeBowl(dem);
    const terrain = await loadGeoTiffTerrain(dem);
    const station = StationProcess.start(
      [
        ...['--sim', '--video', 'demo', '--model', MODEL, '--serve', '127.0.0.1:0'],
        ...['--token', TOKEN, '--record', 'off', '--dem', dem, '--attitude-error', '3'],
      ],
      stationEnv(workDir),
    );
    t.after(() => station.stop());
    let groundLine: string | null = null;
    station.onLogLine((line) => {
      if (/ground from GeoTIFF/.test(line)) groundLine = line;
    });
    const deadline = Date.now() + WAIT_MS;
    const served = await station.serveUrl(WAIT_MS);
    assert.match(groundLine ?? '', /bowl\.tif \(400x400, EPSG:4326\)/);
    const operator = await StationClient.open(stationWsUrl(served, TOKEN), { waitMs: WAIT_MS });
    t.after(() => operator.close());
    await operator.waitFor('hello', (m) => m.type === 'hello');
    const takeoff = await operator.command({ kind: 'arm-takeoff', altitudeM: 20 });
    assert.equal(takeoff.ok, true, takeoff.text);

    // Bear detections with a ground position, once the drone hovers near 20 m.
    const checked: string[] = [];
    while (checked.length < 3) {
      if (Date.now() > deadline + WAIT_MS) {
        const seen = operator.received.flatMap(({ message }) =>
          message.type === 'detections'
            ? message.detections.map((d) => `${d.className}:${d.groundError ?? 'ground'}`)
            : message.type === 'vehicle'
              ? [`alt ${message.vehicle.position?.altitudeRelM.toFixed(1)}`]
              : [],
        );
        throw new Error(`too few checked (${checked.length}); seen ${seen.slice(-40).join('; ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      const entries = operator.received;
      for (let i = 0; i < entries.length && checked.length < 3; i += 1) {
        const { message } = entries[i];
        if (message.type !== 'detections') continue;
        // The newest vehicle state before the frame: the drone hovers, so it is the pose.
        const vehicleEntry = entries
          .slice(0, i)
          .reverse()
          .find((e) => e.message.type === 'vehicle' && e.atMs <= message.frameTimeMs + 300);
        if (!vehicleEntry) continue;
        const vehicle = (vehicleEntry.message as { vehicle: VehicleState }).vehicle;
        const position = vehicle.position;
        if (!position || !vehicle.attitude || Math.abs(position.altitudeRelM - 20) > 1) continue;
        for (const detection of message.detections as GeoDetection[]) {
          if (detection.className !== 'bear' || !detection.ground) continue;
          const key = `${message.frameId}/${detection.box.join(',')}`;
          if (checked.includes(key)) continue;
          const pose: CameraPose = {
            position,
            altitudeAglM: position.altitudeRelM,
            altitudeMslM: HOME.altitudeMslM + position.altitudeRelM,
            vehicleAttitude: vehicle.attitude,
            gimbal: vehicle.gimbal ?? { pitchDeg: -90, rollDeg: 0, yawDeg: 0, yawFrame: 'vehicle' },
          };
          const errors = { attitudeDeg: 3, gpsHorizontalM: 1.5, altitudeM: 1.5 };
          const onTerrain = georeferenceDetection(detection, pose, CAMERA, { terrain, errors });
          const onFlat = georeferenceDetection(detection, pose, CAMERA, { errors });
          if (!onTerrain.ground || !onFlat.ground) continue;
          const apartM = distanceM(onTerrain.ground, onFlat.ground);
          // Only boxes whose ray lands on the slope tell terrain from flat ground.
          if (apartM < 3) continue;
          const offM = distanceM(detection.ground, onTerrain.ground);
          assert.ok(offM < 1.5, `station ${offM.toFixed(2)} m from the terrain answer`);
          assert.ok(
            distanceM(detection.ground, onFlat.ground) > apartM - 1.5,
            'the station did not use flat ground',
          );
          // Nearer the drone than flat ground would put it: the ground rises to meet the ray.
          assert.ok(distanceM(position, detection.ground) < distanceM(position, onFlat.ground));
          const u = detection.uncertainty;
          const expected = onTerrain.uncertainty;
          assert.ok(u && expected, 'the detection carries its uncertainty');
          // The hovering drone holds its pose: 5 % tells --attitude-error 3 from the default
          // 1.5 deg even when the camera looks nearly straight down (13 % apart then).
          assert.ok(
            Math.abs(u.alongRangeM / expected.alongRangeM - 1) < 0.05,
            `along ${u.alongRangeM} vs ${expected.alongRangeM}`,
          );
          assert.ok(
            Math.abs(u.crossRangeM / expected.crossRangeM - 1) < 0.05,
            `cross ${u.crossRangeM} vs ${expected.crossRangeM}`,
          );
          const towardDeg = bearingDeg(position, detection.ground);
          const axisOffDeg = Math.abs(((u.alongRangeBearingDeg - towardDeg + 540) % 360) - 180);
          assert.ok(axisOffDeg < 20, `along-range axis ${axisOffDeg} deg off the line of sight`);
          checked.push(key);
          t.diagnostic(
            `frame ${message.frameId}: terrain answer ${apartM.toFixed(1)} m from the flat ` +
              `one, station within ${offM.toFixed(2)} m of it; uncertainty ` +
              `${u.alongRangeM.toFixed(1)} x ${u.crossRangeM.toFixed(1)} m`,
          );
        }
      }
    }
  },
);
