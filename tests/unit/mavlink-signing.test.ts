import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { common, MavLinkProtocolV2 } from 'node-mavlink';

import { build, MavlinkEncoder, type IncomingFrame } from '../../app/station/mavlink/codec';
import {
  frameSigner,
  MemorySigningClock,
  newSigningKey,
  parseSigningKey,
  PersistentSigningClock,
  readSignature,
  SignatureVerifier,
  signatureMatches,
  signingTimestampFromMs,
  SigningKeyStore,
} from '../../app/station/mavlink/signing';

const POSIX = process.platform !== 'win32';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-signing-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function attitude(): common.Attitude {
  return build(common.Attitude, {
    timeBootMs: 1234,
    roll: 0.1,
    pitch: -0.2,
    yaw: 1.5,
    rollspeed: 0,
    pitchspeed: 0,
    yawspeed: 0,
  });
}

function incoming(bytes: Buffer): IncomingFrame {
  return {
    systemId: bytes[5],
    componentId: bytes[6],
    messageId: bytes.readUIntLE(7, 3),
    bytes,
    signed: (bytes[2] & MavLinkProtocolV2.IFLAG_SIGNED) !== 0,
  };
}

test('timestamps count 10 us steps since 2015-01-01', () => {
  assert.equal(signingTimestampFromMs(Date.UTC(2015, 0, 1)), 0);
  assert.equal(signingTimestampFromMs(Date.UTC(2015, 0, 1) + 1000), 100_000);
  assert.equal(signingTimestampFromMs(Date.UTC(2014, 0, 1)), 0, 'never negative');
});

test('keys are 64 hex digits; anything else is refused with the reason', () => {
  const key = parseSigningKey('00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF');
  assert.equal(key.length, 32);
  assert.throws(() => parseSigningKey('abc'), /64 hexadecimal digits \(32 bytes\), got 3/);
  assert.throws(() => parseSigningKey('zz'.repeat(32)), /hexadecimal digits only/);
  assert.equal(newSigningKey().length, 32);
  assert.notDeepEqual(newSigningKey(), newSigningKey());
});

test('a signed frame carries the flag, link id and timestamp, and checks with its key only', () => {
  const key = newSigningKey();
  const clock = new MemorySigningClock(5_000_000_000, () => Date.UTC(2015, 0, 1));
  const encoder = new MavlinkEncoder(1, 1);
  encoder.setSigner(frameSigner(key, 7, clock));
  const frame = incoming(encoder.encode(attitude()));
  assert.equal(frame.signed, true);
  assert.deepEqual(readSignature(frame), { linkId: 7, timestamp: 5_000_000_001 });
  assert.equal(signatureMatches(frame, key), true);
  assert.equal(signatureMatches(frame, newSigningKey()), false);
  const tampered = Buffer.from(frame.bytes);
  tampered[12] ^= 1;
  assert.equal(signatureMatches(incoming(tampered), key), false);
  encoder.setSigner(null);
  const plain = incoming(encoder.encode(attitude()));
  assert.equal(plain.signed, false);
  assert.equal(readSignature(plain), null);
});

test('the clock never goes back, whatever the wall clock does', () => {
  let nowMs = Date.UTC(2026, 0, 1);
  const clock = new MemorySigningClock(0, () => nowMs);
  const first = clock.next();
  assert.equal(first, signingTimestampFromMs(nowMs));
  assert.equal(clock.next(), first + 1, 'several frames in one 10 us step still go up');
  nowMs -= 3_600_000;
  const afterSetBack = clock.next();
  assert.ok(afterSetBack > first + 1, 'a clock set back an hour does not take it back');
  clock.observe(afterSetBack + 1_000_000);
  assert.equal(clock.next(), afterSetBack + 1_000_001, 'newer timestamps seen move it up');
  clock.observe(5);
  assert.equal(clock.next(), afterSetBack + 1_000_002, 'older ones do not move it down');
});

test('the persisted clock starts after everything used before a restart, even a crash', (t) => {
  const file = path.join(tempDir(t), 'signing-timestamp.json');
  const realMs = Date.UTC(2026, 5, 1);
  const before = PersistentSigningClock.open(file, () => realMs);
  let last = 0;
  for (let i = 0; i < 1000; i++) last = before.next();
  // No dispose, no final write: as after kill -9. The wall clock is now a day behind.
  const after = PersistentSigningClock.open(file, () => realMs - 86_400_000);
  assert.ok(after.next() > last, 'no timestamp is used twice');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { reservedUntil: number };
  assert.ok(saved.reservedUntil > last);

  writeFileSync(file, '{"reservedUntil": "soon"}');
  assert.throws(() => PersistentSigningClock.open(file), /has no valid "reservedUntil" number/);
  writeFileSync(file, 'not json');
  assert.throws(() => PersistentSigningClock.open(file), /signing clock file .* is not JSON/);
});

test('the verifier refuses unsigned, wrongly signed and replayed frames, and counts them', () => {
  const key = newSigningKey();
  const clock = new MemorySigningClock();
  const refused: string[] = [];
  const verifier = new SignatureVerifier(
    (systemId) => (systemId === 1 ? [key] : null),
    clock,
    (verdict) => refused.push(verdict),
  );
  const vehicle = new MavlinkEncoder(1, 1);
  vehicle.setSigner(frameSigner(key, 0, new MemorySigningClock()));
  const good = incoming(vehicle.encode(attitude()));
  const newer = incoming(vehicle.encode(attitude()));
  assert.equal(verifier.check(good).verdict, 'accepted');
  assert.equal(verifier.check(newer).verdict, 'accepted');
  assert.equal(verifier.check(good).verdict, 'replayed', 'an older frame of the same stream');
  assert.equal(verifier.check(newer).verdict, 'replayed', 'the same frame twice');

  const unsigned = incoming(new MavlinkEncoder(1, 1).encode(attitude()));
  assert.equal(verifier.check(unsigned).verdict, 'unsigned');
  const forger = new MavlinkEncoder(1, 1);
  forger.setSigner(frameSigner(newSigningKey(), 0, new MemorySigningClock()));
  assert.equal(verifier.check(incoming(forger.encode(attitude()))).verdict, 'badSignature');

  // A stream never seen, a minute or more behind our clock: an old recording played back.
  const old = new MavlinkEncoder(1, 2);
  old.setSigner(frameSigner(key, 0, new MemorySigningClock(0, () => Date.now() - 120_000)));
  assert.equal(verifier.check(incoming(old.encode(attitude()))).verdict, 'replayed');

  // Systems that are not expected to sign pass unchecked and uncounted.
  assert.equal(
    verifier.check(incoming(new MavlinkEncoder(2, 1).encode(attitude()))).verdict,
    'accepted',
  );
  assert.deepEqual(verifier.counts, { accepted: 2, unsigned: 1, badSignature: 1, replayed: 3 });
  assert.deepEqual(refused, ['replayed', 'replayed', 'unsigned', 'badSignature', 'replayed']);
});

test('keys are stored by system id in a file only the user can read', (t) => {
  const dir = path.join(tempDir(t), 'nested', 'ursa');
  const file = path.join(dir, 'signing-keys.json');
  const store = SigningKeyStore.open(file);
  assert.equal(store.get(1), null);
  const key = newSigningKey();
  store.set(1, key);
  store.set(42, newSigningKey());
  if (POSIX) {
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o077, 0, 'the folder made for it is private too');
  }
  const reopened = SigningKeyStore.open(file);
  assert.deepEqual(reopened.get(1), key);
  assert.deepEqual(
    reopened.systemIds().sort((a, b) => a - b),
    [1, 42],
  );
  reopened.delete(42);
  assert.deepEqual(SigningKeyStore.open(file).systemIds(), [1]);
  assert.throws(() => store.set(0, key), /a vehicle system id is 1 to 255, got 0/);
  assert.throws(() => store.set(1, Buffer.alloc(5)), /a signing key must be 32 bytes/);
});

test(
  'a key file that other users can read is refused',
  { skip: !POSIX && 'POSIX file modes' },
  (t) => {
    const file = path.join(tempDir(t), 'signing-keys.json');
    SigningKeyStore.open(file).set(1, newSigningKey());
    chmodSync(file, 0o644);
    assert.throws(
      () => SigningKeyStore.open(file),
      /can be read or changed by other users \(mode 644\).*chmod 600/,
    );
    chmodSync(file, 0o640);
    assert.throws(() => SigningKeyStore.open(file), /mode 640/);
    chmodSync(file, 0o600);
    assert.ok(SigningKeyStore.open(file).get(1));
  },
);

test('a damaged key file is refused with what is wrong in it', (t) => {
  const file = path.join(tempDir(t), 'keys.json');
  const write = (text: string): void => {
    writeFileSync(file, text, { mode: 0o600 });
    chmodSync(file, 0o600);
  };
  write('{');
  assert.throws(() => SigningKeyStore.open(file), /is not JSON/);
  write('{"keys": []}');
  assert.throws(() => SigningKeyStore.open(file), /has no "keys" object/);
  write('{"keys": {"1": {"keyHex": "abcd"}}}');
  assert.throws(() => SigningKeyStore.open(file), /system 1: a signing key must be 64/);
  write('{"keys": {"300": {"keyHex": "' + 'ab'.repeat(32) + '"}}}');
  assert.throws(() => SigningKeyStore.open(file), /"300" is not a system id/);
});
