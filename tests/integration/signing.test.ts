// MAVLink 2 signing between the station and the simulator in its own process, over real UDP on
// 127.0.0.1, with a relay in the middle that records every frame and can slip in forged ones:
// unsigned, signed with the wrong key, and replayed. Needs dist/station/sim.js.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { common, minimal, MavLinkProtocolV2 } from 'node-mavlink';

import { ARDUCOPTER_MODES } from '../../app/core/ardupilot-modes';
import { build, MavlinkEncoder } from '../../app/station/mavlink/codec';
import {
  frameSigner,
  MemorySigningClock,
  newSigningKey,
  PersistentSigningClock,
  SigningKeyStore,
} from '../../app/station/mavlink/signing';
import { VehicleLink, type VehicleLinkOptions } from '../../app/station/mavlink/vehicle-link';
import { spawnSimulator, type SimulatorProcess } from '../../app/station/sim/spawn';
import { SIM_HOME, waitForState } from '../helpers/sim';

const CONNECT_TIMEOUT_MS = 15_000;
const COMMAND_LONG_ID = common.CommandLong.MSG_ID;

interface Recorded {
  toStation: Buffer[];
  toSim: Buffer[];
}

/** Relays datagrams between the simulator and the station and records them. */
class Relay {
  readonly recorded: Recorded = { toStation: [], toSim: [] };
  private simPort: number | null = null;

  private constructor(
    private readonly stationSide: dgram.Socket,
    private readonly simSide: dgram.Socket,
    private readonly stationPort: number,
  ) {
    simSide.on('message', (chunk, remote) => {
      this.simPort = remote.port;
      this.recorded.toStation.push(chunk);
      stationSide.send(chunk, stationPort, '127.0.0.1');
    });
    stationSide.on('message', (chunk) => {
      this.recorded.toSim.push(chunk);
      if (this.simPort !== null) simSide.send(chunk, this.simPort, '127.0.0.1');
    });
  }

  static async open(stationPort: number): Promise<Relay> {
    const bind = async (): Promise<dgram.Socket> => {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      return socket;
    };
    return new Relay(await bind(), await bind(), stationPort);
  }

  /** The port the simulator should send to. */
  get simFacingPort(): number {
    return this.simSide.address().port;
  }

  /** A frame to the station that seems to come from the vehicle's side. */
  toStation(frame: Buffer): void {
    this.stationSide.send(frame, this.stationPort, '127.0.0.1');
  }

  toSim(frame: Buffer): void {
    if (this.simPort !== null) this.simSide.send(frame, this.simPort, '127.0.0.1');
  }

  async dispose(): Promise<void> {
    await Promise.all(
      [this.stationSide, this.simSide].map(
        (socket) => new Promise<void>((resolve) => socket.close(() => resolve())),
      ),
    );
  }
}

function isSigned(frame: Buffer): boolean {
  return frame[0] === MavLinkProtocolV2.START_BYTE && (frame[2] & 1) === 1;
}

function messageId(frame: Buffer): number {
  return frame.readUIntLE(7, 3);
}

function heartbeat(customMode: number): minimal.Heartbeat {
  return build(minimal.Heartbeat, {
    type: minimal.MavType.QUADROTOR,
    autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
    baseMode: minimal.MavModeFlag.CUSTOM_MODE_ENABLED,
    customMode,
    systemStatus: minimal.MavState.STANDBY,
    mavlinkVersion: 3,
  });
}

function setModeCommand(modeNumber: number): common.CommandLong {
  return build(common.CommandLong, {
    targetSystem: 1,
    targetComponent: 1,
    command: common.MavCmd.DO_SET_MODE,
    confirmation: 0,
    _param1: 1,
    _param2: modeNumber,
    _param3: 0,
    _param4: 0,
    _param5: 0,
    _param6: 0,
    _param7: 0,
  });
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-signing-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const startedMs = performance.now();
  while (!check()) {
    if (performance.now() - startedMs > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function relayedSimulator(
  t: { after: (fn: () => unknown) => void },
  linkOptions: VehicleLinkOptions,
): Promise<{ link: VehicleLink; sim: SimulatorProcess; relay: Relay }> {
  const link = await VehicleLink.open('udpin:127.0.0.1:0', linkOptions);
  t.after(() => link.dispose());
  const relay = await Relay.open(link.localPort!);
  t.after(() => relay.dispose());
  const sim = await spawnSimulator({
    targetHost: '127.0.0.1',
    targetPort: relay.simFacingPort,
    home: SIM_HOME,
  });
  t.after(() => sim.dispose());
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  return { link, sim, relay };
}

test('signing set up over the link: both sign, both refuse forged frames', async (t) => {
  const dir = tempDir(t);
  const keyStore = SigningKeyStore.open(path.join(dir, 'signing-keys.json'));
  const clock = PersistentSigningClock.open(path.join(dir, 'signing-timestamp.json'));
  const { link, sim, relay } = await relayedSimulator(t, { signing: { keyStore, clock } });
  assert.equal(link.signingStatus.state, 'off');

  const key = newSigningKey();
  const setup = await link.setupSigning(key);
  assert.equal(setup.ok, true, setup.text);
  assert.equal(
    setup.text,
    `Set up signing: the vehicle signs with the new key; key saved in ${keyStore.file} (ACCEPTED)`,
  );
  assert.deepEqual(await sim.waitForEvent('signing', 5000), { event: 'signing', enabled: true });
  assert.equal(link.signingStatus.state, 'on');
  // The key is kept where only this user can read it.
  assert.equal(statSync(keyStore.file).mode & 0o777, 0o600);
  assert.equal(SigningKeyStore.open(keyStore.file).get(1)?.toString('hex'), key.toString('hex'));
  assert.match(readFileSync(keyStore.file, 'utf8'), new RegExp(key.toString('hex')));

  // Signed traffic works both ways.
  const loiter = await link.setMode('LOITER');
  assert.equal(loiter.result, 'ACCEPTED');
  await waitForState(link, (s) => s.modeName === 'LOITER', 5000, 'LOITER');
  // Once each side signs, it signs everything.
  const signedFrom = (frames: Buffer[]): Buffer[] => frames.slice(frames.findIndex(isSigned));
  // Enough of the station's own traffic (its heartbeat comes each second) to judge by.
  await until('three frames to the vehicle since signing began', () => {
    const frames = signedFrom(relay.recorded.toSim);
    return frames.length > 2 && frames.findIndex(isSigned) === 0;
  });
  const toStation = signedFrom(relay.recorded.toStation);
  const toSim = signedFrom(relay.recorded.toSim);
  assert.ok(toStation.length > 5 && toStation.every(isSigned), 'the vehicle signs all it sends');
  assert.ok(toSim.length > 2 && toSim.every(isSigned), 'the station signs all it sends');
  assert.ok(link.signingStatus.counts.accepted > 0);

  // Forged frames toward the station: a heartbeat claiming LAND, unsigned, with a wrong key,
  // and a real frame of the vehicle's sent again.
  const before = link.signingStatus.counts;
  const forger = new MavlinkEncoder(1, 1);
  relay.toStation(forger.encode(heartbeat(ARDUCOPTER_MODES.LAND)));
  await until(
    'the unsigned heartbeat refused',
    () => link.signingStatus.counts.unsigned > before.unsigned,
  );
  forger.setSigner(frameSigner(newSigningKey(), 0, new MemorySigningClock()));
  relay.toStation(forger.encode(heartbeat(ARDUCOPTER_MODES.LAND)));
  await until(
    'the wrongly signed heartbeat refused',
    () => link.signingStatus.counts.badSignature > before.badSignature,
  );
  const oldHeartbeat = relay.recorded.toStation.find((f) => isSigned(f) && messageId(f) === 0)!;
  relay.toStation(oldHeartbeat);
  await until(
    'the replayed heartbeat refused',
    () => link.signingStatus.counts.replayed > before.replayed,
  );
  const after = link.signingStatus.counts;
  assert.deepEqual(
    [
      after.unsigned - before.unsigned,
      after.badSignature - before.badSignature,
      after.replayed - before.replayed,
    ],
    [1, 1, 1],
  );
  assert.equal(link.state.modeName, 'LOITER', 'no forged heartbeat changed the mode');

  // Forged frames toward the vehicle: a command to LAND, unsigned and wrongly signed, and the
  // station's own signed LOITER command sent again after the vehicle has moved to ALT_HOLD.
  assert.equal((await link.setMode('ALT_HOLD')).result, 'ACCEPTED');
  const gcs = new MavlinkEncoder(255, 190);
  relay.toSim(gcs.encode(setModeCommand(ARDUCOPTER_MODES.LAND)));
  await sim.waitForEvent(
    'refused',
    5000,
    (e) => e.reason === 'unsigned' && e.messageId === COMMAND_LONG_ID,
  );
  gcs.setSigner(frameSigner(newSigningKey(), 0, new MemorySigningClock()));
  relay.toSim(gcs.encode(setModeCommand(ARDUCOPTER_MODES.LAND)));
  await sim.waitForEvent('refused', 5000, (e) => e.reason === 'badSignature');
  const oldCommand = relay.recorded.toSim.find(
    (f) =>
      isSigned(f) &&
      messageId(f) === COMMAND_LONG_ID &&
      f.readFloatLE(10 + 4) === ARDUCOPTER_MODES.LOITER,
  )!;
  assert.ok(oldCommand, 'the relay recorded the signed LOITER command');
  relay.toSim(oldCommand);
  const replayed = await sim.waitForEvent('refused', 5000, (e) => e.reason === 'replayed');
  assert.equal(replayed.messageId, COMMAND_LONG_ID);
  assert.deepEqual(
    {
      unsigned: replayed.counts.unsigned >= 1,
      badSignature: replayed.counts.badSignature,
      replayed: replayed.counts.replayed,
    },
    { unsigned: true, badSignature: 1, replayed: 1 },
  );
  const modeRuns = sim
    .events('command')
    .filter((c) => c.command === 'DO_SET_MODE' && c.executed)
    .map((c) => c.params[1]);
  assert.deepEqual(
    modeRuns,
    [ARDUCOPTER_MODES.LOITER, ARDUCOPTER_MODES.ALT_HOLD],
    'no forged command ran',
  );
  await waitForState(link, (s) => s.modeName === 'ALT_HOLD', 5000, 'ALT_HOLD kept');

  // The link goes on, signed.
  assert.equal((await link.setMode('GUIDED')).result, 'ACCEPTED');
});

test('a simulator with a key: refuses a station without it, hears one with it', async (t) => {
  const key = newSigningKey();
  const without = await VehicleLink.open('udpin:127.0.0.1:0', {
    commandAckTimeoutMs: 200,
    commandAttempts: 2,
  });
  t.after(() => without.dispose());
  const sim = await spawnSimulator({
    targetHost: '127.0.0.1',
    targetPort: without.localPort!,
    home: SIM_HOME,
    signingKey: key,
  });
  t.after(() => sim.dispose());
  // A station that holds no key for the vehicle takes its signed frames as they are...
  const state = await waitForState(
    without,
    (s) => s.link === 'connected',
    CONNECT_TIMEOUT_MS,
    'connection',
  );
  assert.equal(state.autopilot, 'ArduPilot');
  // ...but the vehicle refuses everything it sends.
  const refused = await without.setMode('LOITER');
  assert.equal(refused.result, 'TIMEOUT');
  await sim.waitForEvent(
    'refused',
    5000,
    (e) => e.reason === 'unsigned' && e.messageId === COMMAND_LONG_ID,
  );
  await without.dispose();

  const dir = tempDir(t);
  const keyStore = SigningKeyStore.open(path.join(dir, 'keys.json'));
  keyStore.set(1, key);
  const withKey = await VehicleLink.open(`udpout:127.0.0.1:${sim.localPort}`, {
    signing: { keyStore, clock: new MemorySigningClock() },
  });
  t.after(() => withKey.dispose());
  await waitForState(
    withKey,
    (s) => s.link === 'connected',
    CONNECT_TIMEOUT_MS,
    'a signed connection',
  );
  assert.equal(withKey.signingStatus.state, 'on');
  assert.equal((await withKey.setMode('LOITER')).result, 'ACCEPTED');
  await waitForState(withKey, (s) => s.modeName === 'LOITER', 5000, 'LOITER');
  const counts = withKey.signingStatus.counts;
  assert.deepEqual([counts.unsigned, counts.badSignature, counts.replayed], [0, 0, 0]);
});

test('signing off: the vehicle stops signing, the stored key is forgotten', async (t) => {
  const dir = tempDir(t);
  const keyStore = SigningKeyStore.open(path.join(dir, 'keys.json'));
  const { link, sim } = await relayedSimulator(t, {
    signing: { keyStore, clock: new MemorySigningClock() },
  });
  assert.equal((await link.setupSigning()).result, 'ACCEPTED');
  assert.ok(keyStore.get(1));
  const off = await link.disableSigning();
  assert.equal(off.text, 'Turn signing off: the vehicle no longer signs (ACCEPTED)');
  assert.equal(link.signingStatus.state, 'off');
  assert.equal(SigningKeyStore.open(keyStore.file).get(1), null);
  await sim.waitForEvent('signing', 5000, (e) => !e.enabled);
  assert.equal((await link.setMode('LOITER')).result, 'ACCEPTED');
});
