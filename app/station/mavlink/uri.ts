// Link URIs in the style of MAVProxy and QGroundControl: udpin:HOST:PORT listens and replies
// to the vehicles it hears, udpout:HOST:PORT sends to a fixed address, tcp:HOST:PORT connects,
// serial:DEVICE:BAUD opens a radio or a cable, tlog:FILE?speed=4 replays a flight record as if
// it were live.

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

export type NetworkLinkKind = 'udpin' | 'udpout' | 'tcp';
export type LinkKind = NetworkLinkKind | 'serial' | 'tlog';

export interface NetworkLinkSpec {
  kind: NetworkLinkKind;
  /** Address to bind (udpin) or to reach (udpout, tcp); IPv6 without brackets. */
  host: string;
  port: number;
}

export interface TlogLinkSpec {
  kind: 'tlog';
  /** The recording, as an absolute path. */
  path: string;
  /** Log seconds per real second. */
  speed: number;
}

/** A USB serial adapter's identity, as the system lists it; null fields match anything. */
export interface UsbIdentity {
  serialNumber: string | null;
  /** Four lowercase hex digits. */
  vendorId: string | null;
  productId: string | null;
}

export interface SerialLinkSpec extends UsbIdentity {
  kind: 'serial';
  /**
   * Devices to try in order: paths, or globs with * and ? in the last part
   * (/dev/serial/by-id/usb-FTDI*). Empty: find the adapter by its USB identity alone.
   */
  paths: string[];
  baudRate: number;
}

export type LinkSpec = NetworkLinkSpec | SerialLinkSpec | TlogLinkSpec;

const KINDS: readonly NetworkLinkKind[] = ['udpin', 'udpout', 'tcp'];
const USAGE =
  'use udpin:HOST:PORT, udpout:HOST:PORT, tcp:HOST:PORT, serial:DEVICE:BAUD or tlog:FILE?speed=N';
const SERIAL_USAGE =
  'serial:DEVICE[:BAUD][?serial=S&vid=V&pid=P], serial:auto?vid=V&pid=P or serial:auto?serial=S';
export const DEFAULT_SERIAL_BAUD = 57600;
const MAX_SERIAL_BAUD = 12_000_000;
export const MAX_REPLAY_SPEED = 100;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

export function parseLinkUri(uri: string): LinkSpec {
  const fail = (what: string): never => {
    throw new Error(`link URI "${uri}": ${what}`);
  };
  const text = uri.trim();
  const colon = text.indexOf(':');
  if (colon < 0) fail(`no scheme (${USAGE})`);

  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme === 'tlog') return parseTlogUri(text.slice(colon + 1), fail);
  if (scheme === 'serial') return parseSerialUri(text.slice(colon + 1), fail);
  if (!(KINDS as readonly string[]).includes(scheme)) {
    fail(`unknown scheme "${text.slice(0, colon)}" (${USAGE})`);
  }
  const kind = scheme as NetworkLinkKind;
  const rest = text.slice(colon + 1).replace(/^\/\//, '');

  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) fail('an IPv6 host opened with "[" has no "]"');
    host = rest.slice(1, close);
    if (rest[close + 1] !== ':') fail(`no port after the host (${USAGE})`);
    portText = rest.slice(close + 2);
    if (!IPV6.test(host) || !host.includes(':')) fail(`"${host}" is not an IPv6 address`);
  } else {
    const lastColon = rest.lastIndexOf(':');
    if (lastColon < 0) fail(`no port (${USAGE})`);
    host = rest.slice(0, lastColon);
    portText = rest.slice(lastColon + 1);
    if (host === '') fail(`missing host (${USAGE})`);
    if (host.includes(':')) fail(`IPv6 hosts go in brackets, like ${kind}:[::1]:14550`);
    if (!HOSTNAME.test(host)) fail(`"${host}" is not a host name or address`);
  }

  if (!/^\d+$/.test(portText)) fail(`port "${portText}" is not a number`);
  const port = Number(portText);
  if (port > 65535) fail(`port ${port} is above 65535`);
  if (port === 0 && kind !== 'udpin')
    fail(`port 0 only makes sense for udpin (${kind} needs a peer)`);
  return { kind, host, port };
}

/** tlog:FILE or tlog:FILE?speed=N, the file relative to the working folder or absolute. */
function parseTlogUri(rest: string, fail: (what: string) => never): TlogLinkSpec {
  const query = rest.lastIndexOf('?');
  const file = (query < 0 ? rest : rest.slice(0, query)).replace(/^\/\/(?=\/)/, '');
  let speed = 1;
  for (const pair of query < 0 ? [] : rest.slice(query + 1).split('&')) {
    const [name, value = ''] = pair.split('=');
    if (name !== 'speed') fail(`unknown option "${name}" (tlog links take ?speed=N)`);
    speed = Number(value);
    if (value === '' || !Number.isFinite(speed) || speed <= 0 || speed > MAX_REPLAY_SPEED) {
      fail(`speed "${value}" must be a number above 0 and at most ${MAX_REPLAY_SPEED}`);
    }
  }
  if (file === '') fail('no file (use tlog:FILE?speed=N)');
  const absolute = path.resolve(file);
  if (!existsSync(absolute)) fail(`no file at ${absolute}`);
  if (!statSync(absolute).isFile()) fail(`${absolute} is not a file`);
  return { kind: 'tlog', path: absolute, speed };
}

/**
 * serial:/dev/ttyUSB0:57600, serial:/dev/ttyUSB0,/dev/ttyACM0:115200, serial:/dev/x/radio-*,
 * serial:auto?vid=0403&pid=6015, serial:/dev/ttyUSB0:57600?serial=A10KXYZ.
 */
function parseSerialUri(rest: string, fail: (what: string) => never): SerialLinkSpec {
  // A ? that starts "name=" opens the options; any other ? is a glob in the device name.
  const query = rest.search(/\?\w+=/);
  const body = query < 0 ? rest : rest.slice(0, query);
  const identity: UsbIdentity = { serialNumber: null, vendorId: null, productId: null };
  for (const pair of query < 0 ? [] : rest.slice(query + 1).split('&')) {
    const equals = pair.indexOf('=');
    const name = equals < 0 ? pair : pair.slice(0, equals);
    const value = equals < 0 ? '' : decodeURIComponent(pair.slice(equals + 1));
    if (name === 'serial') {
      if (!/^[\x21-\x7e]{1,128}$/.test(value))
        fail(`serial number "${value}" is not printable text`);
      identity.serialNumber = value;
    } else if (name === 'vid' || name === 'pid') {
      const hex = value.toLowerCase().replace(/^0x/, '');
      if (!/^[0-9a-f]{1,4}$/.test(hex)) fail(`${name} "${value}" is not a hex USB id like 0403`);
      identity[name === 'vid' ? 'vendorId' : 'productId'] = hex.padStart(4, '0');
    } else {
      fail(`unknown option "${name}" (${SERIAL_USAGE})`);
    }
  }

  let device = body;
  let baudRate = DEFAULT_SERIAL_BAUD;
  const baud = /:(\d+)$/.exec(body);
  if (baud) {
    device = body.slice(0, baud.index);
    baudRate = Number(baud[1]);
    if (baudRate < 50 || baudRate > MAX_SERIAL_BAUD) {
      fail(`baud rate ${baudRate} is not from 50 to ${MAX_SERIAL_BAUD}`);
    }
  } else if (/:[^/\\]*$/.test(body)) {
    fail(`baud rate "${body.slice(body.lastIndexOf(':') + 1)}" is not a number`);
  }
  if (device === '') fail(`no device (${SERIAL_USAGE})`);
  const paths = device === 'auto' ? [] : device.split(',');
  if (paths.some((p) => p.trim() === '' || p !== p.trim())) {
    fail(`an empty or padded device name in "${device}"`);
  }
  if (paths.length === 0 && !identity.serialNumber && !identity.vendorId && !identity.productId) {
    fail(`serial:auto needs ?serial=, ?vid= or ?pid= to know the adapter (${SERIAL_USAGE})`);
  }
  return { kind: 'serial', paths, baudRate, ...identity };
}

export function formatLinkUri(spec: LinkSpec): string {
  if (spec.kind === 'tlog') return `tlog:${spec.path}?speed=${spec.speed}`;
  if (spec.kind === 'serial') {
    const options = [
      spec.serialNumber !== null ? `serial=${encodeURIComponent(spec.serialNumber)}` : null,
      spec.vendorId !== null ? `vid=${spec.vendorId}` : null,
      spec.productId !== null ? `pid=${spec.productId}` : null,
    ].filter((option) => option !== null);
    const device = spec.paths.length > 0 ? spec.paths.join(',') : 'auto';
    return `serial:${device}:${spec.baudRate}${options.length > 0 ? `?${options.join('&')}` : ''}`;
  }
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return `${spec.kind}:${host}:${spec.port}`;
}
