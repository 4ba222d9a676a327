// Live video sources: RTSP, MPEG-TS over UDP and RTP over UDP (QGroundControl's port 5600
// streams are RTP). Turns the operator's URL into ffmpeg input arguments tuned for low latency.

import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { makeFolder } from '../fs-util';

export type LiveKind = 'rtsp' | 'udp' | 'rtp';
export type RtpCodec = 'h264' | 'h265';

export interface LiveSpec {
  kind: LiveKind;
  /** The URL with any password replaced, for labels and logs. */
  display: string;
  /** ffmpeg input arguments, -i included. */
  args: string[];
  /** For RTP: the session description ffmpeg opens, to be written before it starts. */
  sdp?: { file: string; text: string };
}

/**
 * Low-latency input flags: no input buffering, decoder low-delay mode, and a short probe. With
 * nobuffer the probed packets are thrown away, so a long probe (2 s) costs that much picture at
 * every (re)connection; half a second still meets the SPS of streams that repeat it each second.
 */
export const LOW_LATENCY_INPUT_ARGS = [
  '-fflags',
  'nobuffer',
  '-flags',
  'low_delay',
  '-probesize',
  '500000',
  '-analyzeduration',
  '500000',
] as const;

/** ffmpeg's UDP receive buffer: enough for a few frames, so a stall drops rather than queues. */
const UDP_FIFO_PACKETS = 2000;

/**
 * Anything shaped like a URL (scheme://...) is a network source: an unknown scheme is refused
 * by parseLiveSpec rather than looked for as a file.
 */
export function isLiveSpec(spec: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(spec.trim());
}

/** A DNS host name: dot-separated labels of letters, digits and inner hyphens. */
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;
const MAX_HOST_NAME_CHARS = 253;

/**
 * Refuses a host that is neither an IP literal nor a host name, so ffmpeg is never left
 * resolving a name that cannot exist (udp://999.1.1.1).
 */
function checkHost(host: string, display: string): void {
  if (host.length === 0) throw new Error(`video source ${display} has no host`);
  if (isIP(host) !== 0) return;
  if (host.includes(':')) {
    throw new Error(`video source ${display}: host ${host} is not a valid IPv6 address`);
  }
  const labels = host.replace(/\.$/, '').split('.');
  // A name whose last label is all digits can only be meant as an IPv4 address.
  if (/^\d+$/.test(labels[labels.length - 1])) {
    throw new Error(`video source ${display}: host ${host} is not a valid IPv4 address`);
  }
  if (host.length > MAX_HOST_NAME_CHARS || !labels.every((label) => HOST_LABEL.test(label))) {
    throw new Error(`video source ${display}: host ${host} is not a valid host name`);
  }
}

function isMulticast(host: string): boolean {
  const first = Number(host.split('.')[0]);
  return isIP(host) === 4 && first >= 224 && first <= 239;
}

function hostAndPort(url: URL, spec: string): { host: string; port: number } {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port);
  checkHost(host, spec);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`video source ${spec} needs a port 1..65535, e.g. udp://127.0.0.1:5600`);
  }
  return { host, port };
}

function redact(url: URL): string {
  const copy = new URL(url.toString());
  if (copy.password) copy.password = '***';
  return copy.toString();
}

/** The SDP that tells ffmpeg how to read a bare RTP stream (dynamic payload type 96). */
export function rtpSdp(host: string, port: number, codec: RtpCodec): string {
  const family = isIP(host) === 6 ? 'IP6' : 'IP4';
  const encoding = codec === 'h265' ? 'H265' : 'H264';
  const lines = [
    'v=0',
    `o=- 0 0 IN ${family} ${host}`,
    's=Ursa live video',
    `c=IN ${family} ${host}`,
    't=0 0',
    `m=video ${port} RTP/AVP 96`,
    `a=rtpmap:96 ${encoding}/90000`,
  ];
  if (codec === 'h264') lines.push('a=fmtp:96 packetization-mode=1');
  return `${lines.join('\r\n')}\r\n`;
}

/** Writes what a live source needs on disk before ffmpeg opens it (an RTP stream's SDP). */
export function prepareLiveSpec(live: LiveSpec): void {
  if (!live.sdp) return;
  makeFolder(path.dirname(live.sdp.file));
  writeFileSync(live.sdp.file, live.sdp.text);
}

/**
 * Parses a live source URL: rtsp://[user:pass@]host[:port]/path[?transport=udp|tcp],
 * udp://HOST:PORT (MPEG-TS) or rtp://HOST:PORT[?codec=h264|h265]. An RTP stream's SDP goes in
 * sdpDir (see prepareLiveSpec). Throws an Error naming what is wrong.
 */
export function parseLiveSpec(spec: string, sdpDir: string): LiveSpec {
  let url: URL;
  try {
    url = new URL(spec.trim());
  } catch {
    throw new Error(`video source ${spec} is not a valid URL`);
  }
  const kind = url.protocol.replace(/:$/, '').toLowerCase();
  if (kind === 'rtsp' || kind === 'rtsps') {
    // Without a host ffmpeg would connect to tcp://:554.
    checkHost(url.hostname.replace(/^\[|\]$/g, ''), redact(url));
    const transport = url.searchParams.get('transport') ?? 'tcp';
    if (transport !== 'tcp' && transport !== 'udp') {
      throw new Error(`video source ${redact(url)}: transport must be tcp or udp`);
    }
    url.searchParams.delete('transport');
    return {
      kind: 'rtsp',
      display: redact(url),
      // -timeout (microseconds) makes a dead server end ffmpeg, so the source reconnects.
      args: [
        ...LOW_LATENCY_INPUT_ARGS,
        '-rtsp_transport',
        transport,
        '-timeout',
        '5000000',
        '-i',
        url.toString(),
      ],
    };
  }
  if (kind === 'udp') {
    const { host, port } = hostAndPort(url, spec);
    const query = new URLSearchParams(url.search);
    if (!query.has('localaddr') && !isMulticast(host) && isIP(host) !== 0) {
      query.set('localaddr', host);
    }
    if (!query.has('fifo_size')) query.set('fifo_size', String(UDP_FIFO_PACKETS));
    if (!query.has('overrun_nonfatal')) query.set('overrun_nonfatal', '1');
    const hostPart = isIP(host) === 6 ? `[${host}]` : host;
    return {
      kind: 'udp',
      display: `udp://${hostPart}:${port}`,
      args: [...LOW_LATENCY_INPUT_ARGS, '-f', 'mpegts', '-i', `udp://${hostPart}:${port}?${query}`],
    };
  }
  if (kind === 'rtp') {
    const { host, port } = hostAndPort(url, spec);
    const codec = (url.searchParams.get('codec') ?? 'h264').toLowerCase();
    if (codec !== 'h264' && codec !== 'h265') {
      throw new Error(`video source ${spec}: codec must be h264 or h265, got "${codec}"`);
    }
    const sdpFile = path.join(sdpDir, `rtp-${host.replace(/[^0-9a-zA-Z.]/g, '_')}-${port}.sdp`);
    return {
      sdp: { file: sdpFile, text: rtpSdp(host, port, codec) },
      kind: 'rtp',
      display: `rtp://${isIP(host) === 6 ? `[${host}]` : host}:${port} (${codec})`,
      args: [
        ...LOW_LATENCY_INPUT_ARGS,
        '-protocol_whitelist',
        'file,udp,rtp',
        '-reorder_queue_size',
        '0',
        '-f',
        'sdp',
        '-i',
        sdpFile,
      ],
    };
  }
  throw new Error(`unknown video source scheme ${url.protocol}, expected rtsp, udp or rtp`);
}
