// MAVLink v1 and v2 framing on raw bytes, without decoding payloads: where a frame starts, how
// long it is, whether its checksum holds. Shared by the tlog reader and the live recorder, and
// written for streams that carry garbage: every call does bounded work and never throws on data.

import {
  MSG_ID_MAGIC_NUMBER,
  ardupilotmega,
  asluav,
  common,
  development,
  icarous,
  minimal,
  standard,
  storm32,
  uavionix,
  ualberta,
} from 'mavlink-mappings';

export const STX_V1 = 0xfe;
export const STX_V2 = 0xfd;
const V1_HEADER_BYTES = 6;
const V2_HEADER_BYTES = 10;
const CHECKSUM_BYTES = 2;
const SIGNATURE_BYTES = 13;
const IFLAG_SIGNED = 0x01;
/** The longest frame on the wire: a signed v2 frame with a full payload. */
export const MAX_FRAME_BYTES = V2_HEADER_BYTES + 255 + CHECKSUM_BYTES + SIGNATURE_BYTES;

// CRC_EXTRA by message id, -1 where no dialect we know defines the message. Every id in
// mavlink-mappings is below 65536; larger ids (v2 allows 24 bits) are unknown by definition.
const CRC_EXTRA = new Int16Array(0x10000).fill(-1);
for (const [id, extra] of Object.entries(MSG_ID_MAGIC_NUMBER)) {
  const messageId = Number(id);
  if (messageId >= 0 && messageId < CRC_EXTRA.length) CRC_EXTRA[messageId] = extra;
}

const MESSAGE_NAMES = new Map<number, string>();
for (const dialect of [
  storm32,
  ualberta,
  development,
  asluav,
  icarous,
  uavionix,
  ardupilotmega,
  standard,
  common,
  minimal,
]) {
  for (const [id, ctor] of Object.entries(dialect.REGISTRY)) {
    MESSAGE_NAMES.set(Number(id), ctor.MSG_NAME);
  }
}

export function crcExtra(messageId: number): number | null {
  const extra = messageId < CRC_EXTRA.length ? CRC_EXTRA[messageId] : -1;
  return extra < 0 ? null : extra;
}

/** The message's name in any dialect mavlink-mappings knows, or "MESSAGE(n)". */
export function messageName(messageId: number): string {
  return MESSAGE_NAMES.get(messageId) ?? `MESSAGE(${messageId})`;
}

// X.25 CRC (CRC-16/MCRF4XX) as MAVLink uses it, one table lookup per byte.
const CRC_TABLE = new Uint16Array(256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte;
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  CRC_TABLE[byte] = crc;
}

/** CRC of bytes[start, end), then of `extra` when given. */
export function x25Crc(bytes: Uint8Array, start: number, end: number, extra?: number): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ bytes[i]) & 0xff];
  if (extra !== undefined) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ extra) & 0xff];
  return crc;
}

/** What probeFrame found at a position. */
export const Probe = {
  /** A whole frame whose checksum holds. */
  FRAME: 0,
  /** A whole frame of a message id no dialect defines, so its checksum cannot be checked. */
  UNKNOWN_ID: 1,
  /** It may be a frame, but the bytes so far end before it does. */
  NEED_MORE: 2,
  /** No frame starts here (no start byte, or a v2 header with flags nobody defines). */
  NOT_FRAME: 3,
  /** A whole frame of a known message whose checksum does not hold. */
  BAD_CRC: 4,
} as const;
export type ProbeResult = (typeof Probe)[keyof typeof Probe];

/** Filled by probeFrame; one instance is reused so probing allocates nothing. */
export class FrameProbe {
  length = 0;
  messageId = 0;
}

/** Looks for a frame at bytes[pos], reading nothing at or past `end`. */
export function probeFrame(
  bytes: Uint8Array,
  pos: number,
  end: number,
  out: FrameProbe,
): ProbeResult {
  const available = end - pos;
  if (available < 1) return Probe.NEED_MORE;
  const stx = bytes[pos];
  let headerBytes: number;
  if (stx === STX_V1) headerBytes = V1_HEADER_BYTES;
  else if (stx === STX_V2) headerBytes = V2_HEADER_BYTES;
  else return Probe.NOT_FRAME;
  if (available < 3) return Probe.NEED_MORE;

  const payloadBytes = bytes[pos + 1];
  let length = headerBytes + payloadBytes + CHECKSUM_BYTES;
  if (stx === STX_V2) {
    const incompatFlags = bytes[pos + 2];
    // A flag we do not understand means we cannot frame it, per the v2 spec.
    if ((incompatFlags & ~IFLAG_SIGNED) !== 0) return Probe.NOT_FRAME;
    if (incompatFlags & IFLAG_SIGNED) length += SIGNATURE_BYTES;
  }
  if (available < length) return Probe.NEED_MORE;

  const messageId =
    stx === STX_V1
      ? bytes[pos + 5]
      : bytes[pos + 7] | (bytes[pos + 8] << 8) | (bytes[pos + 9] << 16);
  out.length = length;
  out.messageId = messageId;
  const extra = crcExtra(messageId);
  if (extra === null) return Probe.UNKNOWN_ID;
  const crcAt = pos + headerBytes + payloadBytes;
  const crc = x25Crc(bytes, pos + 1, crcAt, extra);
  return crc === (bytes[crcAt] | (bytes[crcAt + 1] << 8)) ? Probe.FRAME : Probe.BAD_CRC;
}

export interface FrameHeader {
  version: 1 | 2;
  sequence: number;
  systemId: number;
  componentId: number;
  messageId: number;
  signed: boolean;
  /** A view of the payload as sent; v2 drops trailing zero bytes, readers pad them back. */
  payload: Uint8Array;
}

/** The header of a frame probeFrame accepted. */
export function frameHeader(frame: Uint8Array): FrameHeader {
  if (frame[0] === STX_V1) {
    return {
      version: 1,
      sequence: frame[2],
      systemId: frame[3],
      componentId: frame[4],
      messageId: frame[5],
      signed: false,
      payload: frame.subarray(V1_HEADER_BYTES, V1_HEADER_BYTES + frame[1]),
    };
  }
  return {
    version: 2,
    sequence: frame[4],
    systemId: frame[5],
    componentId: frame[6],
    messageId: frame[7] | (frame[8] << 8) | (frame[9] << 16),
    signed: (frame[2] & IFLAG_SIGNED) !== 0,
    payload: frame.subarray(V2_HEADER_BYTES, V2_HEADER_BYTES + frame[1]),
  };
}

export interface FrameScannerStats {
  frames: number;
  /** Bytes that belonged to no frame: noise, foreign protocols, frames with bad checksums. */
  bytesSkipped: number;
  crcErrors: number;
  /** Frames of message ids no dialect defines, passed on as they are. */
  unknownIds: number;
}

export interface FrameScannerOptions {
  /**
   * Each chunk is a whole datagram (UDP): a frame never continues into the next one, so an
   * unfinished frame at a chunk's end is noise, not something to wait for.
   */
  datagrams?: boolean;
}

/**
 * Splits a live byte stream into whole MAVLink frames as they crossed the wire, with resync
 * over noise. Frames of unknown messages pass when the next byte starts a frame (or the data
 * ends there), since their checksum cannot be checked.
 */
export class MavlinkFrameScanner {
  private pending: Uint8Array = new Uint8Array(0);
  private readonly probe = new FrameProbe();
  private readonly datagrams: boolean;
  private readonly counts: FrameScannerStats = {
    frames: 0,
    bytesSkipped: 0,
    crcErrors: 0,
    unknownIds: 0,
  };

  constructor(
    private readonly onFrame: (frame: Uint8Array) => void,
    options: FrameScannerOptions = {},
  ) {
    this.datagrams = options.datagrams ?? false;
  }

  get stats(): FrameScannerStats {
    return { ...this.counts };
  }

  /** Frames are views into a buffer the scanner never writes again; copy to keep them long. */
  push(chunk: Uint8Array): void {
    const bytes = this.pending.length > 0 ? concat(this.pending, chunk) : chunk;
    const end = bytes.length;
    const probe = this.probe;
    let pos = 0;
    while (pos < end) {
      const stx = nextStartByte(bytes, pos, end);
      this.counts.bytesSkipped += stx - pos;
      pos = stx;
      if (pos >= end) break;
      const result = probeFrame(bytes, pos, end, probe);
      if (result === Probe.NEED_MORE && !this.datagrams) break;
      let accept = result === Probe.FRAME;
      if (result === Probe.UNKNOWN_ID) {
        const after = pos + probe.length;
        accept = after === end || bytes[after] === STX_V1 || bytes[after] === STX_V2;
        if (accept) this.counts.unknownIds++;
      } else if (result === Probe.BAD_CRC) {
        this.counts.crcErrors++;
      }
      if (!accept) {
        this.counts.bytesSkipped++;
        pos++;
        continue;
      }
      this.counts.frames++;
      const frame = bytes.subarray(pos, pos + probe.length);
      pos += probe.length;
      this.onFrame(frame);
    }
    // What is left is the start of a frame still arriving: at most one frame long.
    this.pending = pos < end ? bytes.slice(pos) : new Uint8Array(0);
  }
}

function nextStartByte(bytes: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && bytes[i] !== STX_V1 && bytes[i] !== STX_V2) i++;
  return i;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** One frame as it crossed a link, for the flight record. */
export interface RawFrame {
  direction: 'in' | 'out';
  frame: Uint8Array;
  /** Microseconds since the UNIX epoch when it was received or sent. */
  timeUs: number;
}
