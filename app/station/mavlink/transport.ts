// Byte carriers for MAVLink: UDP listening (replies go to the vehicles heard), UDP to a fixed
// peer, a TCP client and a serial port that keep reconnecting, and a flight record replayed
// (tlog/replay.ts). They move bytes and report errors; framing is elsewhere.

import dgram from 'node:dgram';
import net from 'node:net';

import type { Disposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import { TlogReplayTransport } from '../tlog/replay';
import { RateLimitedWarning } from './rate-limit';
import { SerialTransport, type SerialPortLister } from './serial';
import { formatLinkUri, type LinkSpec, type NetworkLinkSpec } from './uri';

const log = createLogger('transport');

const TCP_RETRY_FIRST_MS = 250;
/** A peer that comes back is found within this long; a local connect attempt costs nothing. */
const TCP_RETRY_MAX_MS = 1000;
/** Send failures that repeat with every heartbeat are said once, then once a minute. */
const SEND_WARNING_INTERVAL_MS = 60_000;
/** udpin replies to each vehicle heard within this long, not to stale senders. */
const UDP_PEER_TTL_MS = 30_000;
/** At most this many vehicle addresses are kept on one udpin link; the oldest goes first. */
const UDP_MAX_PEERS = 16;

export interface Transport extends Disposable {
  readonly description: string;
  /** The local port bound (UDP) or connected from (TCP), null while there is none. */
  readonly localPort: number | null;
  /** Sends one frame; drops it quietly while there is nobody to send to. */
  send(frame: Buffer): void;
  dispose(): Promise<void>;
}

export type DataHandler = (chunk: Buffer) => void;

export interface TransportEvents {
  /**
   * A datagram (UDP, replay) or a piece of a byte stream (TCP, serial). On udpin, return true
   * when the datagram came from a vehicle (it held a valid frame that is not our own): only
   * then do replies go to its sender.
   */
  onData(chunk: Buffer): boolean | void;
  /** The byte stream (re)started: what arrived before belongs to no frame that will finish. */
  onOpen?(): void;
  /** The carrier went away (TCP closed, serial port gone); it is being sought again. */
  onClose?(reason: string): void;
}

export interface TransportOptions {
  /** Name lookup for udpout (tests stand in for DNS). */
  lookup?: dgram.SocketOptions['lookup'];
  /** Serial ports present now (tests stand in for USB). */
  listSerialPorts?: SerialPortLister;
}

export async function openTransport(
  spec: LinkSpec,
  events: TransportEvents,
  options: TransportOptions = {},
): Promise<Transport> {
  switch (spec.kind) {
    case 'udpin':
    case 'udpout':
      return UdpTransport.open(spec, events, options);
    case 'tcp':
      return new TcpClientTransport(spec, events);
    case 'serial':
      return SerialTransport.open(spec, events, options.listSerialPorts);
    case 'tlog':
      return TlogReplayTransport.open(spec, (chunk) => void events.onData(chunk));
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}

interface Peer {
  address: string;
  port: number;
  heardMs: number;
}

class UdpTransport implements Transport {
  readonly description: string;
  /** udpout: the one fixed peer; udpin: every vehicle address heard, newest last. */
  private readonly peers = new Map<string, Peer>();
  private readonly sendWarning: RateLimitedWarning;
  private sendFailing = false;
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly spec: NetworkLinkSpec,
  ) {
    this.description = formatLinkUri(spec);
    this.sendWarning = new RateLimitedWarning(log, SEND_WARNING_INTERVAL_MS);
    if (spec.kind === 'udpout') {
      this.peers.set('out', { address: spec.host, port: spec.port, heardMs: Infinity });
    }
  }

  static async open(
    spec: NetworkLinkSpec,
    events: TransportEvents,
    options: TransportOptions,
  ): Promise<UdpTransport> {
    const type = net.isIPv6(spec.host) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: false, lookup: options.lookup });
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
    socket.on('error', (error) =>
      transport.sendWarning.report(`${transport.description}: ${error.message}`),
    );
    socket.on('message', (chunk, remote) => {
      const fromVehicle = events.onData(chunk) === true;
      // Any sender may reach a listening port: only proven vehicles get our replies.
      if (spec.kind === 'udpin' && fromVehicle) transport.heard(remote.address, remote.port);
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

  /** Where replies go now: the fixed peer, or the vehicles heard lately. */
  get replyAddresses(): string[] {
    return this.livePeers().map((peer) => `${peer.address}:${peer.port}`);
  }

  send(frame: Buffer): void {
    if (this.closed) return;
    for (const peer of this.livePeers()) {
      this.socket.send(frame, peer.port, peer.address, (error) => {
        if (this.closed) return;
        if (error) {
          this.sendFailing = true;
          this.sendWarning.report(`${this.description}: send failed: ${error.message}`);
        } else if (this.sendFailing) {
          this.sendFailing = false;
          this.sendWarning.reset();
          log.info(`${this.description}: sending works again`);
        }
      });
    }
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

  private heard(address: string, port: number): void {
    const key = `${address}:${port}`;
    const isNew = !this.peers.has(key);
    // Re-inserted so the map stays in order of last hearing.
    this.peers.delete(key);
    this.peers.set(key, { address, port, heardMs: performance.now() });
    if (isNew) log.info(`${this.description}: replying to the vehicle at ${key}`);
    while (this.peers.size > UDP_MAX_PEERS) {
      const oldest = this.peers.keys().next().value as string;
      this.peers.delete(oldest);
    }
  }

  private livePeers(): Peer[] {
    const now = performance.now();
    const peers = [...this.peers.values()];
    const live = peers.filter((peer) => now - peer.heardMs <= UDP_PEER_TTL_MS);
    // A vehicle silent for a while still gets our heartbeat: it may be the only one.
    if (live.length === 0 && peers.length > 0) return [peers[peers.length - 1]];
    return live;
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
    private readonly events: TransportEvents,
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
      if (this.socket !== socket) return;
      this.connected = true;
      this.retryDelayMs = TCP_RETRY_FIRST_MS;
      this.reportedFailure = false;
      log.info(`${this.description} connected`);
      this.events.onOpen?.();
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.events.onData(chunk);
    });
    socket.on('error', (error) => {
      // One line per outage, not one per retry.
      if (!this.reportedFailure) {
        log.warn(`${this.description}: ${error.message}; retrying`);
        this.reportedFailure = true;
      }
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      const wasConnected = this.connected;
      this.connected = false;
      this.socket = null;
      if (wasConnected && !this.disposed) {
        log.warn(`${this.description} disconnected; reconnecting`);
        this.events.onClose?.('the TCP connection closed');
      }
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
