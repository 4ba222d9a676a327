// A bare MAVLink vehicle for link tests: real frames made with node-mavlink (heartbeats, a
// position, COMMAND_ACKs), over whatever carries bytes (a UDP socket, a TCP socket, a pty).

import dgram from 'node:dgram';

import { common, minimal } from 'node-mavlink';

import { setLogSink, type LogLevel } from '../../app/core/log';
import { build, MavlinkDecoder, MavlinkEncoder } from '../../app/station/mavlink/codec';

export const COPTER_GUIDED = 4;

export interface FakeVehicleOptions {
  systemId: number;
  componentId?: number;
  /** Puts one frame on the wire. */
  send: (frame: Buffer) => void;
}

export class FakeVehicle {
  readonly encoder: MavlinkEncoder;
  customMode = 0;
  /** COMMAND_LONGs heard that were meant for this vehicle. */
  readonly commands: common.CommandLong[] = [];
  /** Heartbeats heard from ground stations. */
  gcsHeartbeats = 0;
  private readonly decoder: MavlinkDecoder;
  private timer: NodeJS.Timeout | null = null;
  send: (frame: Buffer) => void;

  constructor(private readonly options: FakeVehicleOptions) {
    this.encoder = new MavlinkEncoder(options.systemId, options.componentId ?? 1);
    this.send = options.send;
    this.decoder = new MavlinkDecoder(({ message }) => {
      if (message instanceof minimal.Heartbeat && message.type === minimal.MavType.GCS) {
        this.gcsHeartbeats++;
      }
      if (message instanceof common.CommandLong && message.targetSystem === options.systemId) {
        this.commands.push(message);
        this.send(this.ack(message.command));
      }
    });
  }

  get systemId(): number {
    return this.options.systemId;
  }

  /** Bytes from the station. */
  hear(chunk: Buffer): void {
    this.decoder.push(chunk);
  }

  heartbeat(customMode = this.customMode): Buffer {
    return this.encoder.encode(
      build(minimal.Heartbeat, {
        type: minimal.MavType.QUADROTOR,
        autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
        baseMode: minimal.MavModeFlag.CUSTOM_MODE_ENABLED,
        customMode,
        systemStatus: minimal.MavState.STANDBY,
        mavlinkVersion: 3,
      }),
    );
  }

  position(fields: { lat: number; lon: number; alt: number; relativeAlt: number }): Buffer {
    return this.encoder.encode(
      build(common.GlobalPositionInt, {
        timeBootMs: 1000,
        ...fields,
        vx: 0,
        vy: 0,
        vz: 0,
        hdg: 0,
      }),
    );
  }

  ack(command: common.MavCmd): Buffer {
    return this.encoder.encode(
      build(common.CommandAck, {
        command,
        result: common.MavResult.ACCEPTED,
        progress: 0,
        resultParam2: 0,
        targetSystem: 255,
        targetComponent: 190,
      }),
    );
  }

  /** Heartbeats every `periodMs` until stop(). */
  start(periodMs: number): void {
    this.stop();
    this.send(this.heartbeat());
    this.timer = setInterval(() => this.send(this.heartbeat()), periodMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  dispose(): void {
    this.stop();
    this.decoder.dispose();
  }
}

export interface UdpPeer {
  socket: dgram.Socket;
  port: number;
  /** Datagrams received, with the port they came from. */
  received: { chunk: Buffer; fromPort: number }[];
  sendTo(port: number, data: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** A UDP socket on 127.0.0.1 that keeps what it hears. */
export async function udpPeer(onMessage?: (chunk: Buffer) => void): Promise<UdpPeer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const received: UdpPeer['received'] = [];
  socket.on('message', (chunk, remote) => {
    received.push({ chunk, fromPort: remote.port });
    onMessage?.(chunk);
  });
  let closed = false;
  return {
    socket,
    port: socket.address().port,
    received,
    // Fake vehicles keep their timers until their own teardown, which may come after ours.
    sendTo: (port, data) =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        socket.send(data, port, '127.0.0.1', () => resolve());
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        socket.close(() => resolve());
      }),
  };
}

/** Collects what the app logs while a test runs; restore() puts the silent sink back. */
export function captureLog(): { lines: { level: LogLevel; text: string }[]; restore(): void } {
  const lines: { level: LogLevel; text: string }[] = [];
  setLogSink((level, scope, message) => lines.push({ level, text: `${scope}: ${message}` }));
  return { lines, restore: () => setLogSink(() => {}) };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it is true; rejects after `timeoutMs` naming `what`. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await delay(20);
  }
}
