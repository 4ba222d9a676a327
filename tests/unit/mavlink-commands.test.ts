import assert from 'node:assert/strict';
import { test } from 'node:test';

import { common, type MavLinkData } from 'node-mavlink';

import { build } from '../../app/station/mavlink/codec';
import { CommandSender, type CommandRequest } from '../../app/station/mavlink/commands';
import { commandOutcome, mavResultName } from '../../app/station/mavlink/outcome';

const VEHICLE = { systemId: 1, componentId: 1 };
const { MavCmd, MavResult } = common;

function setMode(mode: number): CommandRequest {
  return { kind: 'long', command: MavCmd.DO_SET_MODE, params: [1, mode, 0, 0, 0, 0, 0] };
}

function ack(
  command: common.MavCmd,
  result: common.MavResult,
  fields: Partial<common.CommandAck> = {},
): common.CommandAck {
  return build(common.CommandAck, {
    command,
    result,
    progress: 0,
    resultParam2: 0,
    targetSystem: 255,
    targetComponent: 190,
    ...fields,
  });
}

function sender(
  options: { attempts?: number; inProgressTimeoutMs?: number; ackTimeoutMs?: number } = {},
): {
  commands: CommandSender;
  sent: common.CommandLong[];
} {
  const sent: common.CommandLong[] = [];
  const commands = new CommandSender({
    send: (message: MavLinkData) => {
      if (message instanceof common.CommandLong) sent.push(message);
    },
    ownSystemId: 255,
    ownComponentId: 190,
    ackTimeoutMs: options.ackTimeoutMs ?? 40,
    attempts: options.attempts ?? 3,
    inProgressTimeoutMs: options.inProgressTimeoutMs ?? 200,
    duplicateGuardMs: 5000,
  });
  return { commands, sent };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('every MAV_RESULT has words for the operator', () => {
  for (let code = 0; code <= 9; code++) {
    const name = mavResultName(code);
    assert.doesNotMatch(name, /^RESULT\(/, `MAV_RESULT ${code} has a name`);
    const outcome = commandOutcome('Arm', name);
    assert.doesNotMatch(outcome.text, /does not know/, `${name}: ${outcome.text}`);
    assert.equal(outcome.ok, name === 'ACCEPTED');
    assert.ok(outcome.text.startsWith('Arm'));
    assert.ok(outcome.text.endsWith(`(${name})`));
  }
  assert.equal(
    commandOutcome('Arm', 'TEMPORARILY_REJECTED').text,
    'Arm refused: the vehicle is busy or not ready; try again shortly (TEMPORARILY_REJECTED)',
  );
  assert.equal(
    commandOutcome('Arm', 'CANCELLED').text,
    'Arm: cancelled by the vehicle (CANCELLED)',
  );
  assert.equal(
    commandOutcome('Arm', 'RESULT(42)').text,
    'Arm refused: the vehicle gave an answer the station does not know (RESULT(42))',
  );
});

test('a command is sent again, counting confirmations, until its ACK', async () => {
  const { commands, sent } = sender({ attempts: 50 });
  const answer = commands.run(setMode(5), VEHICLE);
  await sleep(100);
  // ACKs from another system, to another ground station, or for another command change nothing.
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 2);
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED, { targetSystem: 254 }), 1);
  commands.handleAck(ack(MavCmd.COMPONENT_ARM_DISARM, MavResult.DENIED), 1);
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.DENIED, { resultParam2: 3 }), 1);
  const result = await answer;
  assert.equal(result.result, 'DENIED');
  assert.equal(result.resultParam2, 3);
  assert.ok(result.sends >= 2);
  assert.deepEqual(
    sent.map((c) => c.confirmation),
    Array.from({ length: result.sends }, (_, i) => i),
  );
  assert.deepEqual(commands.stats, { acks: 4, duplicateAcks: 0, strayAcks: 3 });
  commands.dispose();
});

test('no ACK at all: TIMEOUT after the last try', async () => {
  const { commands, sent } = sender({ attempts: 3 });
  const result = await commands.run(setMode(5), VEHICLE);
  assert.deepEqual(
    { result: result.result, reason: result.reason, sends: result.sends },
    { result: 'TIMEOUT', reason: null, sends: 3 },
  );
  assert.equal(sent.length, 3);
  commands.dispose();
});

test('IN_PROGRESS stops the resends, reports progress, and waits for the result', async () => {
  const { commands, sent } = sender({ inProgressTimeoutMs: 1000 });
  const progress: Array<number | null> = [];
  const answer = commands.run(setMode(5), VEHICLE, {
    onProgress: (p) => progress.push(p.progressPct),
  });
  await sleep(5);
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.IN_PROGRESS, { progress: 10 }), 1);
  await sleep(100);
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.IN_PROGRESS, { progress: 255 }), 1);
  await sleep(100);
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.IN_PROGRESS, { progress: 60 }), 1);
  await sleep(100);
  assert.equal(sent.length, 1, 'a command in progress is not sent again');
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
  const result = await answer;
  assert.equal(result.result, 'ACCEPTED');
  assert.equal(result.progressPct, 60);
  assert.deepEqual(progress, [10, null, 60]);

  const silent = commands.run(setMode(6), VEHICLE);
  await sleep(5);
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.IN_PROGRESS, { progress: 40 }), 1);
  const stuck = await silent;
  assert.equal(stuck.result, 'TIMEOUT');
  assert.equal(
    stuck.reason,
    'the vehicle started it (last at 40 %) but never said it had finished',
  );
  commands.dispose();
});

test('a command sent twice: the next of its id waits for the late ACK', async () => {
  const { commands, sent } = sender({ attempts: 50, ackTimeoutMs: 200 });
  const first = commands.run(setMode(5), VEHICLE);
  const second = commands.run(setMode(17), VEHICLE);
  while (sent.length < 2) await sleep(2);
  // Both copies of the first reached the vehicle: two ACCEPTED, the second one late.
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
  assert.equal((await first).result, 'ACCEPTED');
  const sentBeforeLateAck = sent.length;
  await sleep(20);
  assert.equal(sent.length, sentBeforeLateAck, 'the second command waits');
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
  await sleep(5);
  assert.equal(sent.at(-1)?._param2, 17, 'the late ACK released the second command');
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.FAILED), 1);
  assert.equal((await second).result, 'FAILED');
  assert.equal(commands.stats.duplicateAcks, 1);
  commands.dispose();
});

test('disposing settles what is waiting, and refuses what comes after', async () => {
  const { commands } = sender({ attempts: 100 });
  const waiting = commands.run(setMode(5), VEHICLE);
  await sleep(5);
  commands.dispose();
  assert.deepEqual(
    { result: (await waiting).result, reason: (await waiting).reason },
    { result: 'TIMEOUT', reason: 'the link was closed before the vehicle answered' },
  );
  assert.equal((await commands.run(setMode(5), VEHICLE)).reason, 'the link is closed');
});
