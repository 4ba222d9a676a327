// Link URIs in the style of MAVProxy and QGroundControl: udpin:HOST:PORT listens and replies
// to whoever spoke last, udpout:HOST:PORT sends to a fixed address, tcp:HOST:PORT connects.

export type LinkKind = 'udpin' | 'udpout' | 'tcp';

export interface LinkSpec {
  kind: LinkKind;
  /** Address to bind (udpin) or to reach (udpout, tcp); IPv6 without brackets. */
  host: string;
  port: number;
}

const KINDS: readonly LinkKind[] = ['udpin', 'udpout', 'tcp'];
const USAGE = 'use udpin:HOST:PORT, udpout:HOST:PORT or tcp:HOST:PORT';
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
  if (!(KINDS as readonly string[]).includes(scheme)) {
    fail(`unknown scheme "${text.slice(0, colon)}" (${USAGE})`);
  }
  const kind = scheme as LinkKind;
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

export function formatLinkUri(spec: LinkSpec): string {
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return `${spec.kind}:${host}:${spec.port}`;
}
