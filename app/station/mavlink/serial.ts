// A serial link: a telemetry radio or a USB cable. A radio that is unplugged and plugged back
// often comes back under another /dev name, so the port is sought again at once: by the
// USB identity (serial number, vendor and product id) given in the URI or learnt on the first
// open, then by the paths and globs the URI names.

import { promises as fs } from 'node:fs';
import path from 'node:path';

import { createLogger } from '../../core/log';
import { RateLimitedWarning } from './rate-limit';
import type { Transport, TransportEvents } from './transport';
import { formatLinkUri, type SerialLinkSpec, type UsbIdentity } from './uri';

const log = createLogger('serial');

/** How often a missing port is looked for: a radio plugged back is in use within moments. */
const SEARCH_INTERVAL_MS = 250;
/** Listing USB ports may start a process (udevadm): at most this often. */
const LIST_INTERVAL_MS = 1000;
const ERROR_WARNING_INTERVAL_MS = 60_000;

/** One port as the system lists it (serialport's list() gives these fields). */
export interface SerialPortInfo {
  path: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

export type SerialPortLister = () => Promise<SerialPortInfo[]>;

/** The subset of serialport's SerialPort this link uses. */
interface Port {
  readonly isOpen: boolean;
  open(callback: (error: Error | null) => void): void;
  write(data: Buffer): boolean;
  close(callback?: (error: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close', listener: (error?: Error | null) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  removeAllListeners(): this;
}

type SerialModule = typeof import('serialport');

let serialModule: Promise<SerialModule> | null = null;

/** Loaded on first use, so a machine without the native binding only loses serial links. */
function loadSerialPort(): Promise<SerialModule> {
  serialModule ??= import('serialport').catch((error: unknown) => {
    serialModule = null;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`serial links need the serialport package, which did not load: ${reason}`);
  });
  return serialModule;
}

export async function listSystemSerialPorts(): Promise<SerialPortInfo[]> {
  const { SerialPort } = await loadSerialPort();
  return SerialPort.list();
}

/** Lowercase hex without 0x, or null: listers differ in how they write USB ids. */
function normalizeUsbId(value: string | undefined): string | null {
  if (!value) return null;
  const hex = value.toLowerCase().replace(/^0x/, '');
  return /^[0-9a-f]{1,4}$/.test(hex) ? hex.padStart(4, '0') : null;
}

function hasIdentity(identity: UsbIdentity): boolean {
  return (
    identity.serialNumber !== null || identity.vendorId !== null || identity.productId !== null
  );
}

/** True when the port is the adapter `identity` describes (null fields match anything). */
export function matchesIdentity(port: SerialPortInfo, identity: UsbIdentity): boolean {
  if (!hasIdentity(identity)) return false;
  if (identity.serialNumber !== null && port.serialNumber !== identity.serialNumber) return false;
  if (identity.vendorId !== null && normalizeUsbId(port.vendorId) !== identity.vendorId) {
    return false;
  }
  if (identity.productId !== null && normalizeUsbId(port.productId) !== identity.productId) {
    return false;
  }
  return true;
}

/** The identity a listed port shows, or null when it has none (a pty, a built-in UART). */
function identityOf(port: SerialPortInfo): UsbIdentity | null {
  const identity: UsbIdentity = {
    serialNumber: port.serialNumber?.trim() || null,
    vendorId: normalizeUsbId(port.vendorId),
    productId: normalizeUsbId(port.productId),
  };
  return hasIdentity(identity) ? identity : null;
}

function isGlob(pattern: string): boolean {
  return /[*?]/.test(path.basename(pattern));
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** Paths that exist now for one URI entry: itself, or what its glob matches, sorted. */
async function expandPath(entry: string): Promise<string[]> {
  if (!isGlob(entry)) {
    return (await exists(entry)) ? [entry] : [];
  }
  const dir = path.dirname(entry);
  const match = globToRegExp(path.basename(entry));
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names
    .filter((name) => match.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

async function exists(file: string): Promise<boolean> {
  // Windows port names (COM3) are not files; let the open say whether they exist.
  if (!file.includes('/')) return true;
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

async function realPath(file: string): Promise<string> {
  return fs.realpath(file).catch(() => file);
}

/**
 * Where to look for the adapter now, best first: ports with its USB identity, then the
 * paths the URI names, skipping any that belong to another adapter.
 */
export async function serialCandidates(
  spec: SerialLinkSpec,
  learnt: UsbIdentity | null,
  ports: SerialPortInfo[],
): Promise<string[]> {
  const identity: UsbIdentity = {
    serialNumber: spec.serialNumber ?? learnt?.serialNumber ?? null,
    vendorId: spec.vendorId ?? learnt?.vendorId ?? null,
    productId: spec.productId ?? learnt?.productId ?? null,
  };
  const candidates: string[] = [];
  const add = (file: string): void => {
    if (!candidates.includes(file)) candidates.push(file);
  };
  for (const port of ports) if (matchesIdentity(port, identity)) add(port.path);

  const listed = new Map<string, SerialPortInfo>();
  for (const port of ports) listed.set(await realPath(port.path), port);
  for (const entry of spec.paths) {
    for (const file of await expandPath(entry)) {
      const port = listed.get(await realPath(file));
      // Another adapter under the old name: not ours, whatever the path says.
      if (port && hasIdentity(identity) && identityOf(port) && !matchesIdentity(port, identity)) {
        continue;
      }
      add(file);
    }
  }
  return candidates;
}

export class SerialTransport implements Transport {
  readonly description: string;
  readonly localPort = null;
  private port: Port | null = null;
  private openPath: string | null = null;
  private learnt: UsbIdentity | null = null;
  private searchTimer: NodeJS.Timeout | null = null;
  private searching = false;
  private reportedMissing = false;
  private listed: { ports: SerialPortInfo[]; atMs: number } | null = null;
  private readonly errors: RateLimitedWarning;
  private disposed = false;

  private constructor(
    private readonly spec: SerialLinkSpec,
    private readonly events: TransportEvents,
    private readonly lister: SerialPortLister,
  ) {
    this.description = formatLinkUri(spec);
    this.errors = new RateLimitedWarning(log, ERROR_WARNING_INTERVAL_MS);
  }

  /** Starts looking for the port at once; an absent one is looked for until it comes. */
  static async open(
    spec: SerialLinkSpec,
    events: TransportEvents,
    lister: SerialPortLister = listSystemSerialPorts,
  ): Promise<SerialTransport> {
    await loadSerialPort();
    const transport = new SerialTransport(spec, events, lister);
    await transport.search();
    return transport;
  }

  /** The device open now, null while the adapter is away. */
  get devicePath(): string | null {
    return this.openPath;
  }

  /** The adapter's USB identity as learnt on the first open (null for a pty or a UART). */
  get usbIdentity(): UsbIdentity | null {
    return this.learnt;
  }

  send(frame: Buffer): void {
    const port = this.port;
    if (!port || !port.isOpen || this.disposed) return;
    port.write(frame);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.searchTimer) clearTimeout(this.searchTimer);
    this.searchTimer = null;
    const port = this.port;
    this.port = null;
    this.openPath = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    port?.removeAllListeners();
  }

  private scheduleSearch(): void {
    if (this.disposed || this.searchTimer) return;
    this.searchTimer = setTimeout(() => {
      this.searchTimer = null;
      void this.search();
    }, SEARCH_INTERVAL_MS);
  }

  private async search(): Promise<void> {
    if (this.disposed || this.port || this.searching) return;
    this.searching = true;
    try {
      const ports = await this.listPorts();
      const candidates = await serialCandidates(this.spec, this.learnt, ports);
      for (const candidate of candidates) {
        if (this.disposed) return;
        if (await this.tryOpen(candidate, ports)) return;
      }
      if (!this.reportedMissing) {
        log.warn(`${this.description}: no such serial port now; looking for it`);
        this.reportedMissing = true;
      }
    } finally {
      this.searching = false;
      if (!this.port) this.scheduleSearch();
    }
  }

  private async listPorts(): Promise<SerialPortInfo[]> {
    const nowMs = performance.now();
    if (this.listed && nowMs - this.listed.atMs < LIST_INTERVAL_MS) return this.listed.ports;
    const ports = await this.lister().catch((error: unknown) => {
      this.errors.report(`${this.description}: cannot list serial ports: ${String(error)}`);
      return [] as SerialPortInfo[];
    });
    this.listed = { ports, atMs: nowMs };
    return ports;
  }

  private async tryOpen(file: string, ports: SerialPortInfo[]): Promise<boolean> {
    const { SerialPort } = await loadSerialPort();
    let port: Port;
    try {
      port = new SerialPort({ path: file, baudRate: this.spec.baudRate, autoOpen: false });
    } catch (error) {
      this.errors.report(`${this.description}: cannot use ${file}: ${String(error)}`);
      return false;
    }
    const opened = await new Promise<Error | null>((resolve) => port.open(resolve));
    if (opened) {
      this.errors.report(`${this.description}: cannot open ${file}: ${opened.message}`);
      port.removeAllListeners();
      return false;
    }
    if (this.disposed) {
      port.close();
      return false;
    }
    this.port = port;
    this.openPath = file;
    this.reportedMissing = false;
    this.errors.reset();
    await this.learnIdentity(file, ports);
    log.info(`${this.description}: open on ${file} at ${this.spec.baudRate} baud`);
    port.on('data', (chunk: Buffer) => {
      if (this.port === port) this.events.onData(chunk);
    });
    port.on('error', (error: Error) => this.errors.report(`${this.description}: ${error.message}`));
    port.on('close', (error?: Error | null) => this.lost(port, error ?? null));
    this.events.onOpen?.();
    return true;
  }

  /** Remembers the USB identity the first time, so the adapter is found under a new name. */
  private async learnIdentity(file: string, ports: SerialPortInfo[]): Promise<void> {
    if (this.learnt) return;
    const real = await realPath(file);
    for (const port of ports) {
      if (port.path !== file && (await realPath(port.path)) !== real) continue;
      this.learnt = identityOf(port);
      if (this.learnt) {
        const { serialNumber, vendorId, productId } = this.learnt;
        log.info(
          `${this.description}: adapter serial ${serialNumber ?? '?'} ` +
            `usb ${vendorId ?? '?'}:${productId ?? '?'}; it will be found again by these`,
        );
      }
      return;
    }
  }

  private lost(port: Port, error: Error | null): void {
    if (this.port !== port || this.disposed) return;
    const was = this.openPath;
    this.port = null;
    this.openPath = null;
    // What was listed while it was plugged in says nothing of where it will come back.
    this.listed = null;
    port.removeAllListeners();
    const why = error ? `: ${error.message}` : '';
    log.warn(`${this.description}: ${was} went away${why}; looking for it again`);
    this.events.onClose?.(`the serial port ${was} went away`);
    this.scheduleSearch();
  }
}
