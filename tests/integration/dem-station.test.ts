// A real station process (simulated drone, demo video, the real detector) given an elevation
// model with --dem: each bear's ground position is where the ray from the camera meets that
// terrain, not the flat ground at home altitude, and carries the uncertainty --attitude-error
// asks for. The test works the same answer out itself from the vehicle's reported pose.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';

import { bearingDeg, distanceM } from '../../app/core/geodesy';
import { georeferenceDetection, type CameraPose } from '../../app/core/georef';
import type { OperatorCommand, ServerMessage } from '../../app/core/protocol';
import type { CommandOutcome, GeoDetection, VehicleState } from '../../app/core/types';
import { projectRoot, sharedDir } from '../../app/station/paths';
import { loadGeoTiffTerrain } from '../../app/station/terrain/geotiff';
import { writeGeoTiff } from '../unit/terrain-fixtures';

const CLI = path.join(projectRoot, 'dist', 'station', 'cli.js');
const MODEL = path.join(sharedDir(), 'models', 'yolox-nano-416.onnx');
const TOKEN = 'dem-station-test-operator-token';
const WAIT_MS = 90_000;
// The simulator's default home, and the station's default camera.
const HOME = { latDeg: 48.17, lonDeg: -111.95, altitudeMslM: 1060 };
const CAMERA = { horizontalFovDeg: 60, verticalFovDeg: 45 };
const M_PER_DEG_LAT = 111_320;
const M_PER_DEG_LON = M_PER_DEG_LAT * Math.cos((HOME.latDeg * Math.PI) / 180);

function skipReason(): string | false {
  if (!existsSync(CLI)) return `${CLI} is missing: run "node scripts/build.mjs" first`;
  if (!existsSync(MODEL)) return `no detector model at ${MODEL} (see ../shared/README.md)`;
  return false;
}

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
    width: cells, height: cells, values, epsg: 4326, pixelScale: [sx, sy],
    tiepoint: [0, 0, west, north], noData: '-9999', deflate: true,
  });
}

class Client {
  readonly messages: Array<{ atMs: number; message: ServerMessage }> = [];
  private counter = 0;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) =>
      this.messages.push({ atMs: Date.now(), message: JSON.parse(String(data)) as ServerMessage }));
  }

  static async open(url: string): Promise<Client> {
    const socket = new WebSocket(url);
    const client = new Client(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  async waitFor(what: string, match: (message: ServerMessage) => boolean): Promise<ServerMessage> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = this.messages.find((entry) => match(entry.message));
      if (found) return found.message;
      if (Date.now() > deadline) throw new Error(`no ${what} from the station`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async command(command: OperatorCommand): Promise<CommandOutcome> {
    const requestId = `dem-${++this.counter}`;
    this.socket.send(JSON.stringify({ type: 'command', requestId, command }));
    const result = await this.waitFor(
      `the result of ${command.kind}`,
      (m) => m.type === 'command-result' && m.requestId === requestId,
    );
    return (result as Extract<ServerMessage, { type: 'command-result' }>).outcome;
  }

  close(): void {
    this.socket.close();
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

test(
  'with --dem the bear is placed where the camera ray meets the terrain, with its uncertainty',
  { skip: skipReason(), timeout: 300_000 },
  async (t) => {
    const dem = path.join(workDir, 'bowl.tif');
    writeBowl(dem);
    const terrain = await loadGeoTiffTerrain(dem);
    const child = spawn(
      process.execPath,
      [
        CLI,
        ...['--sim', '--video', 'demo', '--model', MODEL, '--serve', '127.0.0.1:0'],
        ...['--token', TOKEN, '--record', 'off', '--dem', dem, '--attitude-error', '3'],
      ],
      {
        env: {
          ...process.env,
          URSA_DATA_DIR: path.join(workDir, 'data'),
          URSA_CACHE_DIR: path.join(workDir, 'cache'),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    t.after(() => stop(child));
    let serveUrl: string | null = null;
    let groundLine: string | null = null;
    readline.createInterface({ input: child.stderr! }).on('line', (line) => {
      const match = /observers: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
      if (match) serveUrl = match[1];
      if (/ground from GeoTIFF/.test(line)) groundLine = line;
    });
    const deadline = Date.now() + WAIT_MS;
    const served = (): string | null => serveUrl;
    while (!served()) {
      if (child.exitCode !== null) throw new Error(`station exited (${child.exitCode})`);
      if (Date.now() > deadline) throw new Error('the station never served');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(groundLine ?? '', /bowl\.tif \(400x400, EPSG:4326\)/);
    const operator = await Client.open(`${served()!.replace(/^http/, 'ws')}ws?token=${TOKEN}`);
    t.after(() => operator.close());
    await operator.waitFor('hello', (m) => m.type === 'hello');
    const takeoff = await operator.command({ kind: 'arm-takeoff', altitudeM: 20 });
    assert.equal(takeoff.ok, true, takeoff.text);

    // Bear detections with a ground position, once the drone hovers near 20 m.
    const checked: string[] = [];
    while (checked.length < 3) {
      if (Date.now() > deadline + WAIT_MS) {
        const seen = operator.messages.flatMap(({ message }) =>
          message.type === 'detections'
            ? message.detections.map((d) => `${d.className}:${d.groundError ?? 'ground'}`)
            : message.type === 'vehicle'
              ? [`alt ${message.vehicle.position?.altitudeRelM.toFixed(1)}`]
              : []);
        throw new Error(`too few checked (${checked.length}); seen ${seen.slice(-40).join('; ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      const entries = operator.messages;
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
          assert.ok(distanceM(detection.ground, onFlat.ground) > apartM - 1.5,
            'the station did not use flat ground');
          // Nearer the drone than flat ground would put it: the ground rises to meet the ray.
          assert.ok(distanceM(position, detection.ground) < distanceM(position, onFlat.ground));
          const u = detection.uncertainty;
          const expected = onTerrain.uncertainty;
          assert.ok(u && expected, 'the detection carries its uncertainty');
          // The hovering drone holds its pose: 5 % tells --attitude-error 3 from the default
          // 1.5 deg even when the camera looks nearly straight down (13 % apart then).
          assert.ok(Math.abs(u.alongRangeM / expected.alongRangeM - 1) < 0.05,
            `along ${u.alongRangeM} vs ${expected.alongRangeM}`);
          assert.ok(Math.abs(u.crossRangeM / expected.crossRangeM - 1) < 0.05,
            `cross ${u.crossRangeM} vs ${expected.crossRangeM}`);
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
