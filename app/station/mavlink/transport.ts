// Byte carriers for MAVLink: UDP listening (reply to the last sender), UDP to a fixed peer, a
// TCP client that keeps reconnecting, and a flight record replayed (tlog/replay.ts). They move
// bytes and report errors; framing is elsewhere.

import dgram from 'node:dgram';
import net from 'node:net';

import type { Disposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import { TlogReplayTransport } from '../tlog/replay';
import { formatLinkUri, type LinkSpec, type NetworkLinkSpec } from './uri';

const log = createLogger('transport');

const TCP_RETRY_FIRST_MS = 500;
const TCP_RETRY_MAX_MS = 5000;

export interface Transport extends Disposable {
  readonly description: string;
  /** The local port bound (UDP) or connected from (TCP), null while there is none. */
  readonly localPort: number | null;
  /** Sends one frame; drops it quietly while there is nobody to send to. */
  send(frame: Buffer): void;
  dispose(): Promise<void>;
}

export type DataHandler = (chunk: Buffer) => void;

export async function openTransport(spec: LinkSpec, onData: DataHandler): Promise<Transport> {
  switch (spec.kind) {
    case 'udpin':
    case 'udpout':
      return UdpTransport.open(spec, onData);
    case 'tcp':
      return new TcpClientTransport(spec, onData);
    case 'tlog':
      return TlogReplayTransport.open(spec, onData);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

interface Peer {
  address: string;
  port: number;
}

class UdpTransport implements Transport {
  readonly description: string;
  private peer: Peer | null;
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly spec: NetworkLinkSpec,
  ) {
    this.description = formatLinkUri(spec);
    this.peer = spec.kind === 'udpout' ? { address: spec.host, port: spec.port } : null;
  }

  static async open(spec: NetworkLinkSpec, onData: DataHandler): Promise<UdpTransport> {
    const type = net.isIPv6(spec.host) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: false });
    const transport = new UdpTransport(socket, spec);
    // udpin binds where it was told; udpout binds any port, on loopback when the peer is local.
    const bindAddress =
      spec.kind === 'udpin' ? spec.host : isLoopback(spec.host) ? loopbackFor(type) : undefined;
    const bindPort = spec.kind === 'udpin' ? spec.port : 0;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        socket.close();
        reject(new Error(`cannot open ${transport.description}: ${error.message}`));
      };
      socket.once('error', onError);
      socket.bind(bindPort, bindAddress, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    socket.on('error', (error) => log.warn(`${transport.description}: ${error.message}`));
    socket.on('message', (chunk, remote) => {
      if (spec.kind === 'udpin') transport.peer = { address: remote.address, port: remote.port };
      onData(chunk);
    });
    log.info(`${transport.description} open on local port ${transport.localPort}`);
    return transport;
  }

  get localPort(): number | null {
    if (this.closed) return null;
    try {
      return this.socket.address().port;
    } catch {
      return null;
    }
  }

  send(frame: Buffer): void {
    const peer = this.peer;
    if (this.closed || !peer) return;
    this.socket.send(frame, peer.port, peer.address, (error) => {
      if (error && !this.closed) log.warn(`${this.description}: send failed: ${error.message}`);
    });
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    log.debug(`${this.spec.kind} socket closed`);
  }
}

function loopbackFor(type: 'udp4' | 'udp6'): string {
  return type === 'udp6' ? '::1' : '127.0.0.1';
}

class TcpClientTransport implements Transport {
  readonly description: string;
  private socket: net.Socket | null = null;
  private connected = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs = TCP_RETRY_FIRST_MS;
  private reportedFailure = false;
  private disposed = false;

  constructor(
    private readonly spec: NetworkLinkSpec,
    private readonly onData: DataHandler,
  ) {
    this.description = formatLinkUri(spec);
    this.connect();
  }

  get localPort(): number | null {
    return this.connected ? (this.socket?.localPort ?? null) : null;
  }

  send(frame: Buffer): void {
    if (this.connected && this.socket) this.socket.write(frame);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.socket?.destroy();
    this.socket = null;
    this.connected = false;
  }

  private connect(): void {
    const socket = net.createConnection({ host: this.spec.host, port: this.spec.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.connected = true;
      this.retryDelayMs = TCP_RETRY_FIRST_MS;
      this.reportedFailure = false;
      log.info(`${this.description} connected`);
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => {
      // One line per outage, not one per retry.
      if (!this.reportedFailure) {
        log.warn(`${this.description}: ${error.message}; retrying`);
        this.reportedFailure = true;
      }
    });
    socket.on('close', () => {
      if (this.connected) log.warn(`${this.description} disconnected; reconnecting`);
      this.connected = false;
      if (this.socket === socket) this.socket = null;
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.disposed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.disposed) this.connect();
    }, this.retryDelayMs);
    this.retryDelayMs = Math.min(TCP_RETRY_MAX_MS, this.retryDelayMs * 2);
  }
}
