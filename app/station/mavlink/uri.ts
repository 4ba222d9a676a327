// Link URIs in the style of MAVProxy and QGroundControl: udpin:HOST:PORT listens and replies
// to whoever spoke last, udpout:HOST:PORT sends to a fixed address, tcp:HOST:PORT connects,
// tlog:FILE?speed=4 replays a flight record as if it were live.

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

export type NetworkLinkKind = 'udpin' | 'udpout' | 'tcp';
export type LinkKind = NetworkLinkKind | 'tlog';

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

export type LinkSpec = NetworkLinkSpec | TlogLinkSpec;

const KINDS: readonly NetworkLinkKind[] = ['udpin', 'udpout', 'tcp'];
const USAGE = 'use udpin:HOST:PORT, udpout:HOST:PORT, tcp:HOST:PORT or tlog:FILE?speed=N';
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

export function formatLinkUri(spec: LinkSpec): string {
  if (spec.kind === 'tlog') return `tlog:${spec.path}?speed=${spec.speed}`;
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return `${spec.kind}:${host}:${spec.port}`;
}
