// The command protocol through a bad radio: the simulator in its own process loses 30% of the
// datagrams each way and delays the rest with jitter, over real UDP on 127.0.0.1. Needs
// dist/station/sim.js (node scripts/build.mjs).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';

import { common, minimal } from 'node-mavlink';

import { ARDUCOPTER_MODES } from '../../app/core/ardupilot-modes';
import { px4CustomMode, PX4_AUTO_SUB_MODES, PX4_MAIN_MODES } from '../../app/core/autopilot-modes';
import type { CommandOutcome } from '../../app/core/types';
import { build, MavlinkDecoder, MavlinkEncoder } from '../../app/station/mavlink/codec';
import { barometerCalibrationCommand } from '../../app/station/mavlink/requests';
import { VehicleLink } from '../../app/station/mavlink/vehicle-link';
import { LOSSY_LINK_OPTIONS, LOSSY_RADIO, startSimLink, waitForState } from '../helpers/sim';

const CONNECT_TIMEOUT_MS = 30_000;

/** Disarmed on the ground ArduCopter takes every mode but FLIP, which needs to be flying. */
const MODE_CYCLE = [
  'LOITER',
  'FLIP',
  'GUIDED',
  'ALT_HOLD',
  'POSHOLD',
  'BRAKE',
  'AUTO',
  'STABILIZE',
  'FLIP',
  'LAND',
];

test('100 commands through 30% loss: each its own answer, none run twice', async (t) => {
  const { link, sim, dispose } = await startSimLink({
    link: LOSSY_LINK_OPTIONS,
    sim: { loss: { ...LOSSY_RADIO, seed: 1001 } },
  });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');

  const modes = Array.from({ length: 50 }, (_, i) => MODE_CYCLE[i % MODE_CYCLE.length]);
  const gimbal = Array.from({ length: 50 }, (_, i) => ({ pitchDeg: -(i + 1), yawDeg: i % 7 }));
  const modeOutcomes: CommandOutcome[] = [];
  const gimbalOutcomes: CommandOutcome[] = [];
  // Two command ids in flight at once, as the station does when it flies and aims together.
  await Promise.all([
    (async () => {
      for (const mode of modes) modeOutcomes.push(await link.setMode(mode));
    })(),
    (async () => {
      for (const { pitchDeg, yawDeg } of gimbal) {
        gimbalOutcomes.push(await link.setGimbal(pitchDeg, yawDeg));
      }
    })(),
  ]);

  modes.forEach((mode, i) => {
    const outcome = modeOutcomes[i];
    if (mode === 'FLIP') {
      assert.equal(outcome.result, 'FAILED', `command ${i}: ${outcome.text}`);
      assert.match(outcome.text, /^Switch to FLIP refused: the vehicle cannot enter FLIP now/);
    } else {
      assert.deepEqual(outcome, {
        ok: true,
        result: 'ACCEPTED',
        text: `Switch to ${mode}: accepted (ACCEPTED)`,
      });
    }
  });
  for (const outcome of gimbalOutcomes) assert.equal(outcome.result, 'ACCEPTED', outcome.text);

  // The vehicle's own record: each command carried out exactly once, in order, with the
  // answer the station reported; copies sent again after a lost ACK were only answered again.
  const commands = sim.events('command');
  const executed = (name: string) => commands.filter((c) => c.command === name && c.executed);
  const modeRuns = executed('DO_SET_MODE');
  assert.deepEqual(
    modeRuns.map((c) => c.params[1]),
    modes.map((mode) => ARDUCOPTER_MODES[mode]),
  );
  assert.deepEqual(
    modeRuns.map((c) => c.result),
    modeOutcomes.map((o) => o.result),
  );
  const gimbalRuns = executed('DO_MOUNT_CONTROL');
  assert.deepEqual(
    gimbalRuns.map((c) => [c.params[0], c.params[2]]),
    gimbal.map((g) => [g.pitchDeg, g.yawDeg]),
  );
  const repeats = commands.filter(
    (c) => !c.executed && (c.command === 'DO_SET_MODE' || c.command === 'DO_MOUNT_CONTROL'),
  );
  assert.ok(repeats.length > 0, 'the lossy radio made the station send some commands again');
  assert.ok(
    repeats.every((c) => c.confirmation > 0),
    'a repeat carries confirmation > 0',
  );
});

test('commands get through a radio that also blacks out for 1.5 s every 4 s', async (t) => {
  const { link, sim, dispose } = await startSimLink({
    link: { ...LOSSY_LINK_OPTIONS, commandAckTimeoutMs: 400 },
    sim: {
      loss: { lossProbability: 0.3, latencyMs: 100, jitterMs: 50, dropEveryS: 4, dropForS: 1.5 },
    },
  });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  const pitches = Array.from({ length: 8 }, (_, i) => -5 * (i + 1));
  const startedMs = performance.now();
  for (const pitchDeg of pitches) {
    const outcome = await link.setGimbal(pitchDeg, 0);
    assert.equal(outcome.result, 'ACCEPTED', outcome.text);
  }
  // Only a run that lasted past the first outage proves anything about outages.
  while (performance.now() - startedMs < 6000) {
    const pitchDeg = -60 - pitches.length;
    pitches.push(pitchDeg);
    assert.equal((await link.setGimbal(pitchDeg, 0)).result, 'ACCEPTED');
  }
  const runs = sim.events('command').filter((c) => c.command === 'DO_MOUNT_CONTROL' && c.executed);
  assert.deepEqual(
    runs.map((c) => c.params[0]),
    pitches,
  );
});

test('a long command answers IN_PROGRESS with progress, then its result', async (t) => {
  const { link, sim, dispose } = await startSimLink({ link: { commandAckTimeoutMs: 300 } });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  const progress: Array<number | null> = [];
  const outcome = await link.runCommand(barometerCalibrationCommand(), {
    onProgress: ({ progressPct }) => progress.push(progressPct),
  });
  assert.deepEqual(outcome, {
    ok: true,
    result: 'ACCEPTED',
    text: 'Calibrate the barometer: accepted (ACCEPTED)',
  });
  assert.ok(progress.length >= 2, `progress reports: ${progress.join(', ')}`);
  assert.deepEqual(
    progress,
    [...progress].sort((a, b) => (a ?? 0) - (b ?? 0)),
    'progress only goes up',
  );
  const runs = sim.events('command').filter((c) => c.command === 'PREFLIGHT_CALIBRATION');
  assert.equal(runs.filter((c) => c.executed).length, 1, 'the station did not resend it');
  assert.equal(runs.length, 1);
});

test('on connect the station asks for its telemetry with SET_MESSAGE_INTERVAL', async (t) => {
  const { link, sim, dispose } = await startSimLink();
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  await sim.waitForEvent('rate', 10_000, (e) => e.messageId === common.MissionCurrent.MSG_ID);
  const rates = sim.events('rate');
  assert.ok(rates.every((r) => r.via === 'SET_MESSAGE_INTERVAL'));
  const byId = new Map(rates.map((r) => [r.messageId, r.intervalMs]));
  assert.equal(byId.get(common.GlobalPositionInt.MSG_ID), 100);
  assert.equal(byId.get(common.Attitude.MSG_ID), 100);
  assert.equal(byId.get(common.SysStatus.MSG_ID), 500);
  assert.equal(byId.get(common.MissionCurrent.MSG_ID), 1000);

  const again = await link.requestMessageRates();
  assert.equal(again.ok, true);
  assert.equal(again.method, 'SET_MESSAGE_INTERVAL');
  assert.deepEqual(again.refused, []);
});

test('an ArduPilot without SET_MESSAGE_INTERVAL gets REQUEST_DATA_STREAM', async (t) => {
  const { link, sim, dispose } = await startSimLink({ sim: { messageIntervals: false } });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  const position = await sim.waitForEvent(
    'rate',
    10_000,
    (e) => e.messageId === common.GlobalPositionInt.MSG_ID,
  );
  assert.deepEqual(position, {
    event: 'rate',
    messageId: common.GlobalPositionInt.MSG_ID,
    intervalMs: 100,
    via: 'REQUEST_DATA_STREAM',
  });
  const outcome = await link.requestMessageRates();
  assert.equal(outcome.method, 'REQUEST_DATA_STREAM');
  await waitForState(link, (s) => s.position !== null, 10_000, 'position after the fallback');
});

/** A bare vehicle on 127.0.0.1 that speaks through a callback; it answers what the test says. */
async function bareVehicle(
  t: { after: (fn: () => unknown) => void },
  heartbeat: () => minimal.Heartbeat,
  onCommand: (command: common.CommandLong, reply: (message: common.CommandAck) => void) => void,
): Promise<{ link: VehicleLink; sendHeartbeat: () => void }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const encoder = new MavlinkEncoder(1, 1);
  let peer: { port: number } | null = null;
  const send = (message: Parameters<MavlinkEncoder['encode']>[0]): void => {
    if (peer) socket.send(encoder.encode(message), peer.port, '127.0.0.1');
  };
  const decoder = new MavlinkDecoder(({ message }) => {
    if (message instanceof common.CommandLong) onCommand(message, send);
  });
  t.after(() => decoder.dispose());
  socket.on('message', (chunk, remote) => {
    peer = { port: remote.port };
    decoder.push(chunk);
  });
  const link = await VehicleLink.open(`udpout:127.0.0.1:${socket.address().port}`, {
    commandAckTimeoutMs: 300,
    commandAttempts: 3,
    requestMessageRates: false,
  });
  t.after(() => link.dispose());
  await new Promise<void>((resolve) => {
    const wait = setInterval(() => {
      if (peer) {
        clearInterval(wait);
        resolve();
      }
    }, 10);
  });
  const sendHeartbeat = (): void => send(heartbeat());
  sendHeartbeat();
  return { link, sendHeartbeat };
}

function ack(command: common.MavCmd, result: common.MavResult): common.CommandAck {
  return build(common.CommandAck, {
    command,
    result,
    progress: 0,
    resultParam2: 0,
    targetSystem: 255,
    targetComponent: 190,
  });
}

test('late duplicate ACKs and ACKs for other commands answer nothing', async (t) => {
  const modesAsked: number[] = [];
  const { link } = await bareVehicle(
    t,
    () =>
      build(minimal.Heartbeat, {
        type: minimal.MavType.QUADROTOR,
        autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
        baseMode: minimal.MavModeFlag.CUSTOM_MODE_ENABLED,
        customMode: 0,
        systemStatus: minimal.MavState.STANDBY,
        mavlinkVersion: 3,
      }),
    (command, reply) => {
      if (command.command !== common.MavCmd.DO_SET_MODE) return;
      modesAsked.push(command._param2);
      // The first command (LOITER) is answered only on its second copy, and twice, late;
      // an ACK for another command comes first. The second (FLIP) fails.
      if (command._param2 === ARDUCOPTER_MODES.LOITER) {
        if (command.confirmation === 0) return;
        reply(ack(common.MavCmd.COMPONENT_ARM_DISARM, common.MavResult.DENIED));
        reply(ack(common.MavCmd.DO_SET_MODE, common.MavResult.ACCEPTED));
        setTimeout(() => reply(ack(common.MavCmd.DO_SET_MODE, common.MavResult.ACCEPTED)), 150);
      } else {
        setTimeout(() => reply(ack(common.MavCmd.DO_SET_MODE, common.MavResult.FAILED)), 200);
      }
    },
  );
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'the fake vehicle');
  const [loiter, flip] = await Promise.all([link.setMode('LOITER'), link.setMode('FLIP')]);
  assert.equal(loiter.result, 'ACCEPTED');
  assert.equal(flip.result, 'FAILED', 'the late ACCEPTED of LOITER did not answer FLIP');
  assert.deepEqual(modesAsked, [
    ARDUCOPTER_MODES.LOITER,
    ARDUCOPTER_MODES.LOITER,
    ARDUCOPTER_MODES.FLIP,
  ]);
});

test('a PX4 vehicle: named PX4, modes by main and sub mode, set the PX4 way', async (t) => {
  let customMode = px4CustomMode({ mainMode: PX4_MAIN_MODES.POSCTL, subMode: 0 });
  const asked: number[][] = [];
  const { link, sendHeartbeat } = await bareVehicle(
    t,
    () =>
      build(minimal.Heartbeat, {
        type: minimal.MavType.QUADROTOR,
        autopilot: minimal.MavAutopilot.PX4,
        baseMode: minimal.MavModeFlag.CUSTOM_MODE_ENABLED,
        customMode,
        systemStatus: minimal.MavState.STANDBY,
        mavlinkVersion: 3,
      }),
    (command, reply) => {
      if (command.command !== common.MavCmd.DO_SET_MODE) return;
      asked.push([command._param1, command._param2, command._param3]);
      customMode = px4CustomMode({ mainMode: command._param2, subMode: command._param3 });
      reply(ack(common.MavCmd.DO_SET_MODE, common.MavResult.ACCEPTED));
      sendHeartbeat();
    },
  );
  const first = await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'PX4');
  assert.equal(first.autopilot, 'PX4');
  assert.equal(first.modeName, 'POSCTL');

  assert.equal((await link.setMode('AUTO.MISSION')).result, 'ACCEPTED');
  await waitForState(link, (s) => s.modeName === 'AUTO.MISSION', 5000, 'AUTO.MISSION');
  const rtl = await link.setMode('RTL');
  assert.equal(rtl.text, 'Switch to AUTO.RTL: accepted (ACCEPTED)');
  await waitForState(link, (s) => s.modeName === 'AUTO.RTL', 5000, 'AUTO.RTL');
  assert.deepEqual(asked, [
    [1, PX4_MAIN_MODES.AUTO, PX4_AUTO_SUB_MODES.MISSION],
    [1, PX4_MAIN_MODES.AUTO, PX4_AUTO_SUB_MODES.RTL],
  ]);
  await assert.rejects(link.setMode('SMART_RTL'), /unknown PX4 flight mode "SMART_RTL"/);
});
