// MAVLink 2 message signing: a 32-byte secret shared with the vehicle, a 48-bit timestamp in
// 10 us units since 2015-01-01 that only ever goes up, and a check of everything that comes in
// from a vehicle that signs: unsigned, wrongly signed and replayed frames are refused and counted.
// Shared by the station's links and the simulator.

import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

import { MavLinkPacketSignature, MavLinkProtocolV2 } from 'node-mavlink';

import { createLogger } from '../../core/log';
import { makeFolder } from '../fs-util';
import { userDataDir } from '../paths';
import type { FrameSigner, IncomingFrame } from './codec';

const log = createLogger('signing');

export const SIGNING_KEY_BYTES = 32;
const SIGNATURE_BYTES = MavLinkPacketSignature.SIGNATURE_LENGTH;
/** Signing timestamps count 10 us steps: 100 per millisecond. */
const UNITS_PER_MS = 100;
/** The largest timestamp the 48-bit field holds. */
const MAX_TIMESTAMP = 2 ** 48 - 1;
/**
 * A stream never heard before is refused when its timestamp is this far behind ours (one
 * minute, as pymavlink does), so an old recording cannot be replayed to a fresh listener.
 */
const NEW_STREAM_MAX_LAG = 60_000 * UNITS_PER_MS;
/** The persisted clock reserves this much ahead, so it writes about once a minute. */
const CLOCK_RESERVATION = 60_000 * UNITS_PER_MS;

/** Signing time now, from a wall clock in ms since the epoch. */
export function signingTimestampFromMs(wallClockMs: number): number {
  return Math.max(0, Math.floor((wallClockMs - MavLinkProtocolV2.SIGNATURE_START_TIME) * 100));
}

/** 64 hexadecimal digits to a key; anything else is an Error that says what is wrong. */
export function parseSigningKey(hex: string): Buffer {
  const text = hex.trim();
  if (!/^[0-9a-fA-F]*$/.test(text)) {
    throw new Error('a signing key must be hexadecimal digits only');
  }
  if (text.length !== SIGNING_KEY_BYTES * 2) {
    throw new Error(
      `a signing key must be ${SIGNING_KEY_BYTES * 2} hexadecimal digits ` +
        `(${SIGNING_KEY_BYTES} bytes), got ${text.length}`,
    );
  }
  return Buffer.from(text, 'hex');
}

export function newSigningKey(): Buffer {
  return randomBytes(SIGNING_KEY_BYTES);
}

export function isDisablingKey(key: Buffer): boolean {
  return key.every((byte) => byte === 0);
}

export function checkSigningKey(key: Buffer): Buffer {
  if (!Buffer.isBuffer(key) || key.length !== SIGNING_KEY_BYTES) {
    throw new Error(`a signing key must be ${SIGNING_KEY_BYTES} bytes`);
  }
  return key;
}

/**
 * Appends link id, timestamp and signature to a frame serialized with the signed flag set.
 * node-mavlink's sign() takes milliseconds; several frames go out within one millisecond, so the
 * timestamp is written in its own 10 us units through node-mavlink's signature class.
 */
export function signFrame(frame: Buffer, key: Buffer, linkId: number, timestamp: number): Buffer {
  const signed = Buffer.concat([frame, Buffer.alloc(SIGNATURE_BYTES)]);
  const signature = new MavLinkPacketSignature(signed);
  signature.linkId = linkId & 0xff;
  signature.timestamp = Math.min(MAX_TIMESTAMP, Math.max(0, Math.floor(timestamp)));
  signature.signature = signature.calculate(key);
  return signed;
}

export interface FrameSignature {
  linkId: number;
  timestamp: number;
}

/** The signature block of a signed frame; null for unsigned frames or truncated ones. */
export function readSignature(frame: IncomingFrame): FrameSignature | null {
  if (!frame.signed || frame.bytes.length < SIGNATURE_BYTES + 12) return null;
  const signature = new MavLinkPacketSignature(frame.bytes);
  return { linkId: signature.linkId, timestamp: signature.timestamp };
}

export function signatureMatches(frame: IncomingFrame, key: Buffer): boolean {
  if (!frame.signed || frame.bytes.length < SIGNATURE_BYTES + 12) return false;
  return new MavLinkPacketSignature(frame.bytes).matches(key);
}

/** Where signing timestamps come from: strictly increasing, whatever the wall clock does. */
export interface SigningClock {
  /** A timestamp above every one given or observed before. */
  next(): number;
  /** The newest timestamp given or observed, without taking a new one. */
  current(): number;
  /** A valid timestamp from another system moves our clock up to it (never down). */
  observe(timestamp: number): void;
}

/** A signing clock in memory: for the simulator and for tests. */
export class MemorySigningClock implements SigningClock {
  protected last: number;

  constructor(
    start = 0,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.last = Math.max(start, 0);
  }

  next(): number {
    this.last = Math.max(this.last + 1, signingTimestampFromMs(this.nowMs()));
    this.afterAdvance();
    return this.last;
  }

  current(): number {
    return Math.max(this.last, signingTimestampFromMs(this.nowMs()));
  }

  observe(timestamp: number): void {
    if (timestamp > this.last) {
      this.last = timestamp;
      this.afterAdvance();
    }
  }

  protected afterAdvance(): void {}
}

/**
 * A signing clock that survives restarts. It writes to its file a timestamp a minute ahead of
 * the last one used, and starts after that mark, so a crash or a clock set back can never make
 * it reuse a timestamp; it writes about once a minute.
 */
export class PersistentSigningClock extends MemorySigningClock {
  private reservedUntil: number;

  private constructor(
    private readonly file: string,
    reservedUntil: number,
    nowMs: () => number,
  ) {
    super(reservedUntil, nowMs);
    this.reservedUntil = reservedUntil;
  }

  static open(
    file = path.join(userDataDir(), 'signing-timestamp.json'),
    nowMs: () => number = Date.now,
  ): PersistentSigningClock {
    let reservedUntil = 0;
    if (existsSync(file)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new Error(`signing clock file ${file} is not JSON: ${String(error)}`);
      }
      const value = (parsed as { reservedUntil?: unknown } | null)?.reservedUntil;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new Error(`signing clock file ${file} has no valid "reservedUntil" number`);
      }
      reservedUntil = value;
    }
    const clock = new PersistentSigningClock(file, reservedUntil, nowMs);
    clock.reserve();
    return clock;
  }

  protected override afterAdvance(): void {
    if (this.last >= this.reservedUntil) this.reserve();
  }

  private reserve(): void {
    this.reservedUntil = Math.max(this.last, this.current()) + CLOCK_RESERVATION;
    try {
      writeFilePrivate(this.file, `${JSON.stringify({ reservedUntil: this.reservedUntil })}\n`);
    } catch (error) {
      // Signing goes on; only a restart with the wall clock set back could then be refused.
      log.warn(`could not save the signing clock to ${this.file}: ${String(error)}`);
    }
  }
}

/** Signs frames with one key on one link id, taking timestamps from a clock. */
export function frameSigner(key: Buffer, linkId: number, clock: SigningClock): FrameSigner {
  checkSigningKey(key);
  return (frame) => signFrame(frame, key, linkId, clock.next());
}

export type SigningVerdict = 'accepted' | 'unsigned' | 'badSignature' | 'replayed';

export interface SigningCounts {
  /** Signed frames from signing systems that passed every check. */
  accepted: number;
  unsigned: number;
  badSignature: number;
  replayed: number;
}

/**
 * Checks frames from systems that sign. `keysFor` gives the keys a system may sign with, or
 * null when the system is not expected to sign (its frames then pass unchecked).
 */
export class SignatureVerifier {
  private readonly streams = new Map<string, number>();
  private readonly tally: SigningCounts = {
    accepted: 0,
    unsigned: 0,
    badSignature: 0,
    replayed: 0,
  };

  constructor(
    private readonly keysFor: (systemId: number) => readonly Buffer[] | null,
    private readonly clock: SigningClock,
    private readonly onRefused: (verdict: SigningVerdict, frame: IncomingFrame) => void = () => {},
  ) {}

  get counts(): SigningCounts {
    return { ...this.tally };
  }

  /** Which key signed the frame (null when unchecked), after a successful check. */
  check(frame: IncomingFrame): { verdict: SigningVerdict; key: Buffer | null } {
    const keys = this.keysFor(frame.systemId);
    if (keys === null || keys.length === 0) return { verdict: 'accepted', key: null };
    const verdict = ((): SigningVerdict | Buffer => {
      const signature = readSignature(frame);
      if (!signature) return 'unsigned';
      const key = keys.find((candidate) => signatureMatches(frame, candidate));
      if (!key) return 'badSignature';
      const stream = `${frame.systemId}/${frame.componentId}/${signature.linkId}`;
      const last = this.streams.get(stream);
      if (last === undefined) {
        if (signature.timestamp + NEW_STREAM_MAX_LAG < this.clock.current()) return 'replayed';
      } else if (signature.timestamp <= last) {
        return 'replayed';
      }
      this.streams.set(stream, signature.timestamp);
      this.clock.observe(signature.timestamp);
      return key;
    })();
    if (Buffer.isBuffer(verdict)) {
      this.tally.accepted++;
      return { verdict: 'accepted', key: verdict };
    }
    this.tally[verdict as Exclude<SigningVerdict, 'accepted'>]++;
    this.onRefused(verdict, frame);
    return { verdict, key: null };
  }

  /** Forget the streams of a system, for example when its key changes. */
  forget(systemId: number): void {
    for (const stream of [...this.streams.keys()]) {
      if (stream.startsWith(`${systemId}/`)) this.streams.delete(stream);
    }
  }
}

interface KeyFileContents {
  version: 1;
  /** By vehicle system id. */
  keys: Record<string, { keyHex: string; savedAt: string }>;
}

/**
 * Signing keys by vehicle system id, in a JSON file only the user may read (mode 0600). A key
 * file that others can read is refused: the key would no longer be a secret.
 */
export class SigningKeyStore {
  private contents: KeyFileContents;

  private constructor(
    readonly file: string,
    contents: KeyFileContents,
  ) {
    this.contents = contents;
  }

  static open(file = path.join(userDataDir(), 'signing-keys.json')): SigningKeyStore {
    if (!existsSync(file)) return new SigningKeyStore(file, { version: 1, keys: {} });
    checkPrivate(file);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`signing key file ${file} is not JSON: ${String(error)}`);
    }
    return new SigningKeyStore(file, validateKeyFile(file, parsed));
  }

  get(systemId: number): Buffer | null {
    const entry = this.contents.keys[String(systemId)];
    return entry ? Buffer.from(entry.keyHex, 'hex') : null;
  }

  systemIds(): number[] {
    return Object.keys(this.contents.keys).map(Number);
  }

  set(systemId: number, key: Buffer): void {
    checkSystemId(systemId);
    checkSigningKey(key);
    const keys = {
      ...this.contents.keys,
      [String(systemId)]: { keyHex: key.toString('hex'), savedAt: new Date().toISOString() },
    };
    this.save({ version: 1, keys });
  }

  delete(systemId: number): void {
    const keys = { ...this.contents.keys };
    delete keys[String(systemId)];
    this.save({ version: 1, keys });
  }

  private save(contents: KeyFileContents): void {
    writeFilePrivate(this.file, `${JSON.stringify(contents, null, 2)}\n`);
    this.contents = contents;
  }
}

function checkSystemId(systemId: number): void {
  if (!Number.isInteger(systemId) || systemId < 1 || systemId > 255) {
    throw new Error(`a vehicle system id is 1 to 255, got ${systemId}`);
  }
}

function validateKeyFile(file: string, parsed: unknown): KeyFileContents {
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
    throw new Error(`signing key file ${file} has no "keys" object`);
  }
  const result: KeyFileContents = { version: 1, keys: {} };
  for (const [id, entry] of Object.entries(keys)) {
    const keyHex = (entry as { keyHex?: unknown } | null)?.keyHex;
    const savedAt = (entry as { savedAt?: unknown } | null)?.savedAt;
    if (!/^\d+$/.test(id) || Number(id) < 1 || Number(id) > 255) {
      throw new Error(`signing key file ${file}: "${id}" is not a system id (1 to 255)`);
    }
    if (typeof keyHex !== 'string') {
      throw new Error(`signing key file ${file}: system ${id} has no "keyHex" string`);
    }
    try {
      parseSigningKey(keyHex);
    } catch (error) {
      throw new Error(`signing key file ${file}, system ${id}: ${(error as Error).message}`);
    }
    result.keys[id] = { keyHex, savedAt: typeof savedAt === 'string' ? savedAt : '' };
  }
  return result;
}

/** Refuses a file that group or others may read or write, or that another user owns. */
function checkPrivate(file: string): void {
  if (process.platform === 'win32') return;
  const stat = statSync(file);
  const open = stat.mode & 0o077;
  if (open !== 0) {
    const mode = (stat.mode & 0o777).toString(8);
    throw new Error(
      `signing key file ${file} can be read or changed by other users (mode ${mode}); ` +
        `the keys in it may no longer be secret. Make it private with: chmod 600 ${file}`,
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new Error(`signing key file ${file} belongs to another user (uid ${stat.uid})`);
  }
}

/** Writes through a private temporary file and a rename, so a crash leaves old or new. */
function writeFilePrivate(file: string, text: string): void {
  makeFolder(path.dirname(file), 0o700);
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // The mode given to open is masked by the umask; set it outright.
  if (process.platform !== 'win32') chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
