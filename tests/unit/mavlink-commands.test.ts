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

test('a pre-empting command goes out at once; what held or awaited the id is dropped', async () => {
  const { commands, sent } = sender({ attempts: 50, ackTimeoutMs: 200 });
  const rtl = commands.run(setMode(6), VEHICLE);
  const guided = commands.run(setMode(4), VEHICLE);
  assert.equal(sent.length, 1, 'the RTL is on the wire, unanswered; GUIDED waits behind it');
  const brake = commands.run(setMode(17), VEHICLE, { preempt: 'ABORT' });
  // Synchronously: the BRAKE does not wait for the RTL's answer.
  assert.equal(sent.length, 2);
  assert.equal(sent[1]._param2, 17);
  assert.equal(sent[1].confirmation, 0);
  for (const [answer, sends] of [
    [await rtl, 1],
    [await guided, 0],
  ] as const) {
    assert.deepEqual(
      { result: answer.result, reason: answer.reason, sends: answer.sends },
      { result: 'SUPERSEDED', reason: 'superseded by ABORT', sends },
    );
  }
  // The RTL owes an ACK: the first may be its, so the BRAKE goes again and waits for another.
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
  assert.equal(sent.length, 3);
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
  assert.equal((await brake).result, 'ACCEPTED');
  assert.ok(!sent.some((c) => c._param2 === 4), 'the superseded GUIDED never went out');
  commands.dispose();
});

test("a superseded command's late ACK is never taken for the pre-empting one's", async () => {
  const { commands, sent } = sender({ attempts: 50, ackTimeoutMs: 20 });
  const rtl = commands.run(setMode(6), VEHICLE);
  while (sent.length < 3) await sleep(2);
  const brake = commands.run(setMode(17), VEHICLE, { preempt: 'ABORT' });
  const rtlSends = (await rtl).sends;
  let settled = false;
  void brake.then(() => (settled = true));
  // Every copy of the RTL reached the vehicle; their ACKs come late, all ACCEPTED.
  for (let i = 0; i < rtlSends; i++) {
    commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
    await sleep(0);
    assert.equal(settled, false, `ACK ${i + 1} of ${rtlSends} may be the RTL's`);
  }
  // The vehicle refuses BRAKE: this ACK can only be one of the BRAKE's.
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.DENIED), 1);
  assert.equal((await brake).result, 'DENIED');
  commands.dispose();
});

test('a refusal among ACKs that may be stale wins over a later ACCEPTED', async () => {
  const { commands } = sender({ attempts: 50, ackTimeoutMs: 200 });
  void commands.run(setMode(6), VEHICLE);
  const brake = commands.run(setMode(17), VEHICLE, { preempt: 'ABORT' });
  // One of these answers the BRAKE, which of them cannot be told: ACCEPTED would be a guess.
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.DENIED), 1);
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
  assert.equal((await brake).result, 'DENIED');
  commands.dispose();
});

test('pre-emption skips the guard wait for late ACKs and reckons with them', async () => {
  const { commands, sent } = sender({ attempts: 50, ackTimeoutMs: 50 });
  const loiter = commands.run(setMode(5), VEHICLE);
  while (sent.length < 2) await sleep(2);
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
  assert.equal((await loiter).result, 'ACCEPTED');
  const before = sent.length;
  // The LOITER's id waits (up to 5 s) for the late ACK of its other copies; BRAKE does not.
  const brake = commands.run(setMode(17), VEHICLE, { preempt: 'ABORT' });
  assert.equal(sent.length, before + 1);
  assert.equal(sent.at(-1)?._param2, 17);
  let settled = false;
  void brake.then(() => (settled = true));
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
  await sleep(0);
  assert.equal(settled, false, 'the first ACK may be a late LOITER one');
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
  assert.equal((await brake).result, 'ACCEPTED');
  commands.dispose();
});

test('pre-emption with nothing in flight is an ordinary command', async () => {
  const { commands, sent } = sender({ attempts: 50, ackTimeoutMs: 200 });
  const brake = commands.run(setMode(17), VEHICLE, { preempt: 'ABORT' });
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
  const answer = await brake;
  assert.deepEqual(
    { result: answer.result, sends: answer.sends },
    { result: 'ACCEPTED', sends: 1 },
  );
  assert.equal(sent.length, 1);
  // The next command of the id is not held back by anything.
  const next = commands.run(setMode(6), VEHICLE);
  assert.equal(sent.length, 2);
  commands.handleAck(ack(MavCmd.DO_SET_MODE, MavResult.ACCEPTED), 1);
  assert.equal((await next).result, 'ACCEPTED');
  commands.dispose();
});
