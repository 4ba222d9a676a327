// Links that drop and come back: a UDP vehicle that goes silent, a TCP peer that restarts, and
// a serial radio (a socat pseudo-terminal pair) unplugged and plugged back under a new name.
// The station must notice within 3 s and resume within 2 s of the link coming back.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { SerialPort } from 'serialport';

import type { LinkStatus } from '../../app/core/types';
import type { SerialPortInfo } from '../../app/station/mavlink/serial';
import { VehicleLink } from '../../app/station/mavlink/vehicle-link';
import { waitForLink } from '../helpers/sim';
import { delay, FakeVehicle, udpPeer, until } from './link-fake-vehicle';

const NOTICE_MS = 3000;
const RESUME_MS = 2000;
const SETUP_MS = 10_000;

/** Records each link change with the time it happened. */
function watchLink(link: VehicleLink): { status: LinkStatus; atMs: number }[] {
  const changes: { status: LinkStatus; atMs: number }[] = [];
  link.onLinkChange((status) => changes.push({ status, atMs: performance.now() }));
  return changes;
}

test('UDP: a silent vehicle is lost within 3 s and back at its first heartbeat', async (t) => {
  const link = await VehicleLink.open('udpin:127.0.0.1:0', { requestMessageRates: false });
  t.after(() => link.dispose());
  const port = link.localPort!;
  let vehicle: FakeVehicle | null = null;
  const peer = await udpPeer((chunk) => vehicle?.hear(chunk));
  t.after(() => peer.close());
  vehicle = new FakeVehicle({ systemId: 1, send: (frame) => void peer.sendTo(port, frame) });
  t.after(() => vehicle?.dispose());

  vehicle.start(1000);
  await waitForLink(link, 'connected', SETUP_MS);
  await delay(2500);
  // The worst moment to drop: just after a heartbeat.
  vehicle.stop();
  vehicle.send(vehicle.heartbeat());
  const droppedMs = performance.now();
  await waitForLink(link, 'lost', NOTICE_MS);
  const noticedMs = performance.now() - droppedMs;

  await delay(1000);
  const backMs = performance.now();
  vehicle.start(1000);
  await waitForLink(link, 'connected', RESUME_MS);
  const resumedMs = performance.now() - backMs;
  assert.ok(noticedMs <= NOTICE_MS, `lost noticed after ${noticedMs} ms`);
  assert.ok(resumedMs <= RESUME_MS, `resumed after ${resumedMs} ms`);

  // Commands work again at once.
  assert.equal((await link.setMode('LOITER')).result, 'ACCEPTED');
});

test('TCP: a peer that restarts is lost at once and found again within 2 s', async (t) => {
  const sockets = new Set<net.Socket>();
  const vehicles: FakeVehicle[] = [];
  const serve = (): net.Server =>
    net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      const vehicle = new FakeVehicle({ systemId: 1, send: (frame) => void socket.write(frame) });
      vehicles.push(vehicle);
      socket.on('data', (chunk) => vehicle.hear(chunk));
      socket.on('close', () => {
        sockets.delete(socket);
        vehicle.dispose();
      });
      vehicle.start(1000);
    });
  const listen = (server: net.Server, port: number): Promise<void> =>
    new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const stop = (server: net.Server): Promise<void> =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });

  let server = serve();
  await listen(server, 0);
  const { port } = server.address() as net.AddressInfo;
  t.after(() => stop(server));
  const link = await VehicleLink.open(`tcp:127.0.0.1:${port}`, { requestMessageRates: false });
  t.after(() => link.dispose());
  await waitForLink(link, 'connected', SETUP_MS);
  const changes = watchLink(link);

  // The vehicle end restarts: its server is gone for 3 s, then listens again.
  const droppedMs = performance.now();
  await stop(server);
  await waitForLink(link, 'lost', NOTICE_MS);
  assert.ok(performance.now() - droppedMs < 1000, 'a closed connection is noticed at once');
  await delay(3000);
  server = serve();
  await listen(server, port);
  const backMs = performance.now();
  await waitForLink(link, 'connected', RESUME_MS);
  const resumedMs = performance.now() - backMs;
  assert.ok(resumedMs <= RESUME_MS, `resumed after ${resumedMs} ms`);
  assert.deepEqual(
    changes.map((c) => c.status),
    ['lost', 'connected'],
  );
  assert.ok(link.health.carrierUp);
  assert.equal((await link.setMode('LOITER')).result, 'ACCEPTED');
});

/** A socat pseudo-terminal pair: the station's end and the vehicle's end, by link names. */
class PtyPair {
  private readonly child: ChildProcess;

  private constructor(
    readonly stationEnd: string,
    readonly vehicleEnd: string,
  ) {
    this.child = spawn(
      'socat',
      ['-d', '-d', `pty,raw,echo=0,link=${stationEnd}`, `pty,raw,echo=0,link=${vehicleEnd}`],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
  }

  static async open(stationEnd: string, vehicleEnd: string): Promise<PtyPair> {
    const pair = new PtyPair(stationEnd, vehicleEnd);
    await until(
      () => existsSync(stationEnd) && existsSync(vehicleEnd),
      SETUP_MS,
      `socat to make ${stationEnd}`,
    );
    return pair;
  }

  /** Pulls the plug: socat ends and removes both names. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const ended = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await ended;
  }
}

/** A vehicle on the far end of a pty: heartbeats at 1 Hz, answers commands. */
async function ptyVehicle(file: string): Promise<{ vehicle: FakeVehicle; close(): Promise<void> }> {
  const port = new SerialPort({ path: file, baudRate: 57600, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((error) => (error ? reject(error) : resolve())),
  );
  port.on('error', () => {});
  const vehicle = new FakeVehicle({ systemId: 1, send: (frame) => void port.write(frame) });
  port.on('data', (chunk: Buffer) => vehicle.hear(chunk));
  vehicle.start(1000);
  return {
    vehicle,
    close: async () => {
      vehicle.dispose();
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    },
  };
}

function tempDir(t: { after: (fn: () => unknown) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-serial-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('serial: a radio unplugged and back under a new name is found again by a glob', async (t) => {
  const dir = tempDir(t);
  const first = await PtyPair.open(path.join(dir, 'radio-1'), path.join(dir, 'vehicle-1'));
  t.after(() => first.close());
  const firstVehicle = await ptyVehicle(first.vehicleEnd);
  t.after(() => firstVehicle.close());

  const link = await VehicleLink.open(`serial:${dir}/radio-*:57600`, {
    requestMessageRates: false,
  });
  t.after(() => link.dispose());
  await waitForLink(link, 'connected', SETUP_MS);
  await until(() => firstVehicle.vehicle.gcsHeartbeats >= 1, SETUP_MS, 'the station heartbeat');
  assert.equal((await link.setMode('LOITER')).result, 'ACCEPTED');

  const unpluggedMs = performance.now();
  await firstVehicle.close();
  await first.close();
  await waitForLink(link, 'lost', NOTICE_MS);
  assert.ok(performance.now() - unpluggedMs < NOTICE_MS);
  assert.equal(link.health.carrierUp, false);

  const second = await PtyPair.open(path.join(dir, 'radio-2'), path.join(dir, 'vehicle-2'));
  t.after(() => second.close());
  const backMs = performance.now();
  const secondVehicle = await ptyVehicle(second.vehicleEnd);
  t.after(() => secondVehicle.close());
  await waitForLink(link, 'connected', RESUME_MS);
  assert.ok(performance.now() - backMs <= RESUME_MS);
  assert.equal((await link.setMode('GUIDED')).result, 'ACCEPTED');
  assert.ok(secondVehicle.vehicle.commands.length >= 1, 'commands go out on the new port');
});

test('serial: the adapter is found by its USB serial number, not by a name it lost', async (t) => {
  const dir = tempDir(t);
  const radio1 = path.join(dir, 'radio-1');
  const radio2 = path.join(dir, 'radio-2');
  // What a USB lister would say now; a pty has no serial number of its own.
  let ports: SerialPortInfo[] = [
    { path: radio1, serialNumber: 'URSA-RADIO-7', vendorId: '0403', productId: '6015' },
  ];
  const first = await PtyPair.open(radio1, path.join(dir, 'vehicle-1'));
  t.after(() => first.close());
  const firstVehicle = await ptyVehicle(first.vehicleEnd);
  t.after(() => firstVehicle.close());

  const link = await VehicleLink.open(`serial:${radio1}:57600`, {
    requestMessageRates: false,
    transport: { listSerialPorts: async () => ports },
  });
  t.after(() => link.dispose());
  await waitForLink(link, 'connected', SETUP_MS);

  await firstVehicle.close();
  await first.close();
  await waitForLink(link, 'lost', NOTICE_MS);

  // Plugged back: the radio is radio-2 now, and radio-1 is another adapter with no vehicle.
  ports = [
    { path: radio1, serialNumber: 'SOMETHING-ELSE', vendorId: '1a86', productId: '7523' },
    { path: radio2, serialNumber: 'URSA-RADIO-7', vendorId: '0403', productId: '6015' },
  ];
  const decoy = await PtyPair.open(radio1, path.join(dir, 'nobody'));
  t.after(() => decoy.close());
  const second = await PtyPair.open(radio2, path.join(dir, 'vehicle-2'));
  t.after(() => second.close());
  const backMs = performance.now();
  const secondVehicle = await ptyVehicle(second.vehicleEnd);
  t.after(() => secondVehicle.close());
  await waitForLink(link, 'connected', RESUME_MS);
  assert.ok(performance.now() - backMs <= RESUME_MS);
  assert.equal((await link.setMode('LOITER')).result, 'ACCEPTED');
  assert.ok(secondVehicle.vehicle.commands.length >= 1);
});
