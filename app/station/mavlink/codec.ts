// MAVLink framing on top of node-mavlink: v2 frames out, v1 and v2 frames in, with resync
// over garbage. Shared by the station's links and the simulator.

import {
  MavLinkPacketParser,
  MavLinkPacketSplitter,
  MavLinkProtocolV2,
  ardupilotmega,
  common,
  minimal,
  type MavLinkData,
  type MavLinkDataConstructor,
  type MavLinkPacket,
  type MavLinkPacketRegistry,
} from 'node-mavlink';

import { createLogger } from '../../core/log';

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
}

/**
 * Turns a byte stream (TCP) or a series of datagrams (UDP) into decoded messages. Bad bytes
 * are skipped and counted, never thrown.
 */
export class MavlinkDecoder {
  private readonly splitter: MavLinkPacketSplitter;
  private readonly parser = new MavLinkPacketParser();
  private undecodable = 0;
  private gated = 0;
  private gate: FrameGate | null = null;
  private disposed = false;

  /**
   * @param onMessage called for each decoded message
   * @param wanted message ids worth decoding; others are dropped unparsed
   */
  constructor(
    private readonly onMessage: (received: ReceivedMessage) => void,
    private readonly wanted: ReadonlySet<number> | null = null,
  ) {
    this.splitter = new MavLinkPacketSplitter({}, { onCrcError: () => {} });
    this.splitter.on('error', (error: Error) => log.warn(`frame splitter: ${error.message}`));
    this.parser.on('error', (error: Error) => log.warn(`frame parser: ${error.message}`));
    this.splitter.pipe(this.parser);
    this.parser.on('data', (packet: MavLinkPacket) => this.handlePacket(packet));
  }

  push(chunk: Buffer): void {
    if (this.disposed) return;
    this.splitter.write(chunk);
  }

  /** Every valid frame goes through the gate first; a refused one is counted and dropped. */
  setGate(gate: FrameGate | null): void {
    this.gate = gate;
  }

  get stats(): DecoderStats {
    return {
      validFrames: this.splitter.validPackages,
      badFrames: this.splitter.invalidPackages,
      unknownFrames: this.splitter.unknownPackagesCount,
      undecodable: this.undecodable,
      gated: this.gated,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.splitter.unpipe(this.parser);
    this.splitter.destroy();
    this.parser.destroy();
  }

  private handlePacket(packet: MavLinkPacket): void {
    const messageId = packet.header.msgid;
    const signed = packet.signature !== null;
    if (this.gate) {
      const frame: IncomingFrame = {
        systemId: packet.header.sysid,
        componentId: packet.header.compid,
        messageId,
        bytes: packet.buffer,
        signed,
      };
      let pass = false;
      try {
        pass = this.gate(frame);
      } catch (error) {
        log.error(`frame gate failed: ${error instanceof Error ? error.stack : error}`);
      }
      if (!pass) {
        this.gated++;
        return;
      }
    }
    if (this.wanted && !this.wanted.has(messageId)) return;
    const ctor: MavLinkDataConstructor<MavLinkData> | undefined = REGISTRY[messageId];
    if (!ctor) return;
    let message: MavLinkData;
    try {
      message = packet.protocol.data(packet.payload, ctor);
    } catch (error) {
      this.undecodable++;
      log.debug(`could not decode ${ctor.MSG_NAME}: ${String(error)}`);
      return;
    }
    try {
      this.onMessage({
        systemId: packet.header.sysid,
        componentId: packet.header.compid,
        messageId,
        message,
        signed,
      });
    } catch (error) {
      log.error(
        `handling ${ctor.MSG_NAME} failed: ${error instanceof Error ? error.stack : error}`,
      );
    }
  }
}

export function messageName(messageId: number): string {
  return REGISTRY[messageId]?.MSG_NAME ?? `MESSAGE(${messageId})`;
}
