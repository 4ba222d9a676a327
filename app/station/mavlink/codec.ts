// MAVLink framing: v2 frames out (node-mavlink), v1 and v2 frames in, with resync over garbage.
// Framing and checksums are the flight record's (tlog/frame.ts), payloads node-mavlink's.
// Shared by the station's links and the simulator.

import {
  MavLinkProtocolV1,
  MavLinkProtocolV2,
  ardupilotmega,
  common,
  minimal,
  type MavLinkData,
  type MavLinkDataConstructor,
  type MavLinkPacketRegistry,
} from 'node-mavlink';

import { createLogger } from '../../core/log';
import { FrameProbe, Probe, STX_V1, STX_V2, frameHeader, probeFrame } from '../tlog/frame';

const log = createLogger('mavlink');

export const REGISTRY: MavLinkPacketRegistry = {
  ...minimal.REGISTRY,
  ...common.REGISTRY,
  ...ardupilotmega.REGISTRY,
};

/**
 * Every field of a message. node-mavlink's constructors leave enum fields as strings that
 * serialize as 0, so builders must name every field; the compiler checks that none is missed.
 */
export type Fields<T extends MavLinkData> = { [K in keyof T]: T[K] };

export function build<T extends MavLinkData>(ctor: new () => T, fields: Fields<T>): T {
  return Object.assign(new ctor(), fields);
}

/** Appends a MAVLink 2 signature to a frame serialized with the signed flag set. */
export type FrameSigner = (unsignedFrame: Buffer) => Buffer;

/** Serializes messages as MAVLink v2 frames from one system and component. */
export class MavlinkEncoder {
  private readonly protocol: MavLinkProtocolV2;
  /** The signed flag is part of the header, so it must be set before the checksum is made. */
  private readonly signedProtocol: MavLinkProtocolV2;
  private sequence = 0;
  private signer: FrameSigner | null = null;

  constructor(systemId: number, componentId: number) {
    this.protocol = new MavLinkProtocolV2(systemId, componentId);
    this.signedProtocol = new MavLinkProtocolV2(
      systemId,
      componentId,
      MavLinkProtocolV2.IFLAG_SIGNED,
    );
  }

  /** Signs every frame from now on, or stops signing with null. */
  setSigner(signer: FrameSigner | null): void {
    this.signer = signer;
  }

  get signing(): boolean {
    return this.signer !== null;
  }

  encode(message: MavLinkData): Buffer {
    const signer = this.signer;
    const protocol = signer ? this.signedProtocol : this.protocol;
    const frame = protocol.serialize(message, this.sequence);
    this.sequence = (this.sequence + 1) & 0xff;
    return signer ? signer(frame) : frame;
  }
}

/** A frame that passed its checksum, before its payload is decoded. */
export interface IncomingFrame {
  systemId: number;
  componentId: number;
  messageId: number;
  /** The whole frame as received, signature included. */
  bytes: Buffer;
  /** MAVLink 2 with the signed flag set. */
  signed: boolean;
}

/** Decides whether a frame may be used; it sees every valid frame, wanted or not. */
export type FrameGate = (frame: IncomingFrame) => boolean;

export interface ReceivedMessage {
  systemId: number;
  componentId: number;
  messageId: number;
  message: MavLinkData;
  /** True when the frame carried a signature (already checked by the gate, if any). */
  signed: boolean;
}

export interface DecoderStats {
  validFrames: number;
  /** Frames whose checksum did not match: line noise, truncation, or a foreign dialect. */
  badFrames: number;
  /** Well-formed frames of messages this build does not know. */
  unknownFrames: number;
  /** Known frames whose payload could not be decoded. */
  undecodable: number;
  /** Valid frames the gate refused (signing). */
  gated: number;
  /** Bytes that belonged to no frame: noise, foreign protocols, frames with bad checksums. */
  skippedBytes: number;
}

/** Every frame that framed, for link statistics (sequence gaps) and reply addresses. */
export interface FrameInfo {
  systemId: number;
  componentId: number;
  sequence: number;
  messageId: number;
  /**
   * valid: the checksum holds and the gate let it through; unknown: a message id no dialect
   * defines (its checksum cannot be checked); gated: valid but refused by the gate.
   */
  kind: 'valid' | 'unknown' | 'gated';
}

export interface DecoderOptions {
  /** Hears every frame that framed, before its payload is decoded. */
  onFrame?: (frame: FrameInfo) => void;
}

const PROTOCOL_V1 = new MavLinkProtocolV1();
const PROTOCOL_V2 = new MavLinkProtocolV2();
const EMPTY = Buffer.alloc(0);

/**
 * Turns a byte stream (TCP, serial) or a series of datagrams (UDP) into decoded messages. Bad
 * bytes are skipped and counted, never thrown. Works synchronously: when push returns, every
 * whole frame in the chunk has been handled.
 */
export class MavlinkDecoder {
  /** The start of a frame still arriving on a stream: at most one frame long. */
  private pending: Buffer = EMPTY;
  private readonly probe = new FrameProbe();
  private readonly counts: DecoderStats = {
    validFrames: 0,
    badFrames: 0,
    unknownFrames: 0,
    undecodable: 0,
    gated: 0,
    skippedBytes: 0,
  };
  private gate: FrameGate | null = null;
  private readonly onFrame: ((frame: FrameInfo) => void) | null;
  private disposed = false;

  /**
   * @param onMessage called for each decoded message
   * @param wanted message ids worth decoding; others are dropped unparsed
   */
  constructor(
    private readonly onMessage: (received: ReceivedMessage) => void,
    private readonly wanted: ReadonlySet<number> | null = null,
    options: DecoderOptions = {},
  ) {
    this.onFrame = options.onFrame ?? null;
  }

  /** A piece of a byte stream: a frame may continue in the next chunk. */
  push(chunk: Buffer): void {
    if (this.disposed || chunk.length === 0) return;
    const bytes = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const used = this.scan(bytes, false);
    this.pending = used < bytes.length ? Buffer.from(bytes.subarray(used)) : EMPTY;
  }

  /**
   * One whole datagram: it holds whole frames, so a frame cut short at its end is noise and
   * nothing of it is kept for the next datagram (a stray one cannot swallow real traffic).
   */
  pushDatagram(datagram: Buffer): void {
    if (this.disposed || datagram.length === 0) return;
    this.scan(datagram, true);
  }

  /** Forgets a frame half received: the stream restarted (a reconnect, a port reopened). */
  reset(): void {
    if (this.pending.length > 0) this.counts.skippedBytes += this.pending.length;
    this.pending = EMPTY;
  }

  /** Every valid frame goes through the gate first; a refused one is counted and dropped. */
  setGate(gate: FrameGate | null): void {
    this.gate = gate;
  }

  get stats(): DecoderStats {
    return { ...this.counts };
  }

  dispose(): void {
    this.disposed = true;
    this.pending = EMPTY;
  }

  /** Handles the whole frames in bytes; returns how many bytes were used up. */
  private scan(bytes: Buffer, datagram: boolean): number {
    const end = bytes.length;
    const probe = this.probe;
    let pos = 0;
    while (pos < end && !this.disposed) {
      const stx = nextStartByte(bytes, pos, end);
      this.counts.skippedBytes += stx - pos;
      pos = stx;
      if (pos >= end) break;
      const result = probeFrame(bytes, pos, end, probe);
      if (result === Probe.NEED_MORE) {
        if (!datagram) return pos;
        // Cut short inside a datagram: noise. Later start bytes may still begin whole frames.
        this.counts.skippedBytes++;
        pos++;
        continue;
      }
      if (result === Probe.FRAME) {
        this.handleFrame(bytes.subarray(pos, pos + probe.length));
        pos += probe.length;
        continue;
      }
      if (result === Probe.UNKNOWN_ID) {
        // Its checksum cannot be checked: take it when a frame (or the end) follows it.
        const after = pos + probe.length;
        if (after === end || bytes[after] === STX_V1 || bytes[after] === STX_V2) {
          this.counts.unknownFrames++;
          this.reportFrame(bytes.subarray(pos, after), 'unknown');
          pos = after;
          continue;
        }
      } else if (result === Probe.BAD_CRC) {
        this.counts.badFrames++;
      }
      this.counts.skippedBytes++;
      pos++;
    }
    return end;
  }

  private reportFrame(frame: Buffer, kind: FrameInfo['kind']): void {
    if (!this.onFrame) return;
    const header = frameHeader(frame);
    try {
      this.onFrame({
        systemId: header.systemId,
        componentId: header.componentId,
        sequence: header.sequence,
        messageId: header.messageId,
        kind,
      });
    } catch (error) {
      log.error(`frame listener failed: ${error instanceof Error ? error.stack : error}`);
    }
  }

  private handleFrame(frame: Buffer): void {
    const v1 = frame[0] === STX_V1;
    const systemId = v1 ? frame[3] : frame[5];
    const componentId = v1 ? frame[4] : frame[6];
    const messageId = this.probe.messageId;
    const signed = !v1 && (frame[2] & MavLinkProtocolV2.IFLAG_SIGNED) !== 0;
    if (this.gate) {
      let pass = false;
      try {
        // A copy: the gate may keep it, and the caller's buffer is reused.
        pass = this.gate({ systemId, componentId, messageId, bytes: Buffer.from(frame), signed });
      } catch (error) {
        log.error(`frame gate failed: ${error instanceof Error ? error.stack : error}`);
      }
      if (!pass) {
        this.counts.gated++;
        this.reportFrame(frame, 'gated');
        return;
      }
    }
    this.counts.validFrames++;
    this.reportFrame(frame, 'valid');
    if (this.wanted && !this.wanted.has(messageId)) return;
    const ctor: MavLinkDataConstructor<MavLinkData> | undefined = REGISTRY[messageId];
    if (!ctor) return;
    let message: MavLinkData;
    try {
      const protocol = v1 ? PROTOCOL_V1 : PROTOCOL_V2;
      message = protocol.data(protocol.payload(frame), ctor);
    } catch (error) {
      this.counts.undecodable++;
      log.debug(`could not decode ${ctor.MSG_NAME}: ${String(error)}`);
      return;
    }
    try {
      this.onMessage({ systemId, componentId, messageId, message, signed });
    } catch (error) {
      log.error(
        `handling ${ctor.MSG_NAME} failed: ${error instanceof Error ? error.stack : error}`,
      );
    }
  }
}

function nextStartByte(bytes: Buffer, from: number, end: number): number {
  let i = from;
  while (i < end && bytes[i] !== STX_V1 && bytes[i] !== STX_V2) i++;
  return i;
}

export function messageName(messageId: number): string {
  return REGISTRY[messageId]?.MSG_NAME ?? `MESSAGE(${messageId})`;
}
