// Live video URLs become the right ffmpeg inputs, and wall-clock PTS become capture times.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isLiveSpec,
  LOW_LATENCY_INPUT_ARGS,
  parseLiveSpec,
  rtpSdp,
} from '../../app/station/video/live-input';
import {
  CLOCK_TOLERANCE_MS,
  captureTimeFromPts,
  PTS_WRAP_MS,
  wallClockEncoderArgs,
} from '../../app/station/video/wall-clock';

test('live URLs are told apart from files', () => {
  for (const spec of ['rtsp://cam/live', 'RTSP://cam/x', 'udp://127.0.0.1:5600', 'rtp://h:1']) {
    assert.equal(isLiveSpec(spec), true, spec);
  }
  for (const spec of ['demo', 'clip.mp4', 'dir/img_%04d.jpg', '/tmp/udp.ts']) {
    assert.equal(isLiveSpec(spec), false, spec);
  }
  // Any URL is a network source, so an unknown scheme is refused, not looked for as a file.
  assert.equal(isLiveSpec('bogus://x'), true);
});

test('hosts that are neither IP literals nor host names are refused before ffmpeg runs', () => {
  const refused: Array<[string, RegExp]> = [
    ['udp://999.1.1.1:5600', /host 999\.1\.1\.1 is not a valid IPv4 address/],
    ['rtp://10.0.0:5600', /host 10\.0\.0 is not a valid IPv4 address/],
    ['udp://cam_1.local:5600', /host cam_1\.local is not a valid host name/],
    ['rtsp://-cam/live', /host -cam is not a valid host name/],
    ['rtsp://', /video source rtsp:\/\/ has no host/],
    ['rtsp:///live', /video source rtsp:\/\/\/live has no host/],
  ];
  for (const [spec, message] of refused) {
    assert.throws(() => parseLiveSpec(spec, '/tmp'), message, spec);
  }
  for (const spec of [
    'udp://127.0.0.1:5600',
    'udp://[::1]:5600',
    'rtp://localhost:5600',
    'rtsp://drone-cam.local:8554/live',
    'rtsp://10.0.0.5/cam',
  ]) {
    assert.doesNotThrow(() => parseLiveSpec(spec, '/tmp'), spec);
  }
});

test('an unknown URL scheme is named, with the ones that work', () => {
  assert.throws(
    () => parseLiveSpec('bogus://x', '/tmp'),
    /^Error: unknown video source scheme bogus:, expected rtsp, udp or rtp$/,
  );
  assert.throws(() => parseLiveSpec('http://10.0.0.5/cam', '/tmp'), /scheme http:, expected/);
});

test('RTSP goes over TCP by default, UDP on request, and hides the password', () => {
  const tcp = parseLiveSpec('rtsp://pilot:secret@10.0.0.5:8554/cam', '/tmp/sdp');
  assert.equal(tcp.kind, 'rtsp');
  assert.deepEqual(tcp.args.slice(0, LOW_LATENCY_INPUT_ARGS.length), [...LOW_LATENCY_INPUT_ARGS]);
  assert.equal(tcp.args[tcp.args.indexOf('-rtsp_transport') + 1], 'tcp');
  assert.equal(tcp.args.at(-1), 'rtsp://pilot:secret@10.0.0.5:8554/cam');
  assert.ok(!tcp.display.includes('secret'), tcp.display);
  assert.ok(!tcp.args.includes('-re'));

  const udp = parseLiveSpec('rtsp://10.0.0.5/cam?transport=udp', '/tmp/sdp');
  assert.equal(udp.args[udp.args.indexOf('-rtsp_transport') + 1], 'udp');
  assert.equal(udp.args.at(-1), 'rtsp://10.0.0.5/cam');
  assert.throws(() => parseLiveSpec('rtsp://h/cam?transport=sctp', '/tmp'), /tcp or udp/);
});

test('UDP is MPEG-TS bound to the given address, with a small receive queue', () => {
  const live = parseLiveSpec('udp://127.0.0.1:5600', '/tmp/sdp');
  assert.equal(live.kind, 'udp');
  assert.equal(live.display, 'udp://127.0.0.1:5600');
  assert.equal(live.args[live.args.indexOf('-f') + 1], 'mpegts');
  const url = new URL(live.args.at(-1) as string);
  assert.equal(url.hostname, '127.0.0.1');
  assert.equal(url.port, '5600');
  assert.equal(url.searchParams.get('localaddr'), '127.0.0.1');
  assert.equal(url.searchParams.get('overrun_nonfatal'), '1');
  // A multicast group is joined, not bound as a local address.
  const group = new URL(parseLiveSpec('udp://239.1.2.3:5600', '/tmp').args.at(-1) as string);
  assert.equal(group.searchParams.get('localaddr'), null);
});

test('RTP gets an SDP for payload 96 and a protocol whitelist', () => {
  const live = parseLiveSpec('rtp://127.0.0.1:5600?codec=h265', '/tmp/ursa-sdp');
  assert.equal(live.kind, 'rtp');
  assert.equal(live.args[live.args.indexOf('-protocol_whitelist') + 1], 'file,udp,rtp');
  assert.equal(live.args.at(-1), live.sdp?.file);
  assert.match(live.sdp?.text ?? '', /m=video 5600 RTP\/AVP 96\r\na=rtpmap:96 H265\/90000/);
  assert.match(rtpSdp('127.0.0.1', 5600, 'h264'), /a=rtpmap:96 H264\/90000\r\na=fmtp:96 /);
  assert.match(parseLiveSpec('rtp://127.0.0.1:5600', '/tmp').sdp?.text ?? '', /H264/);
});

test('bad live URLs are refused with what is wrong', () => {
  assert.throws(() => parseLiveSpec('udp://127.0.0.1', '/tmp'), /needs a port 1\.\.65535/);
  assert.throws(() => parseLiveSpec('udp://127.0.0.1:70000', '/tmp'), /not a valid URL|port/);
  assert.throws(() => parseLiveSpec('rtp://127.0.0.1:5600?codec=vp8', '/tmp'), /h264 or h265/);
  assert.throws(() => parseLiveSpec('udp://:5600', '/tmp'), /not a valid URL|no host/);
});

test('a wall-clock PTS gives the capture time across the 33-bit wrap', () => {
  const captureMs = 1_796_409_093_000;
  const arrivalMs = captureMs + 120;
  const wrappedPtsMs = captureMs % PTS_WRAP_MS;
  assert.ok(Math.abs((captureTimeFromPts(wrappedPtsMs, arrivalMs) ?? 0) - captureMs) <= 1);
  // Unwrapped by the demuxer into the next cycle: the same capture time.
  const nextCycle = wrappedPtsMs + PTS_WRAP_MS;
  assert.ok(Math.abs((captureTimeFromPts(nextCycle, arrivalMs) ?? 0) - captureMs) <= 1);
  // Just after a wrap, the PTS is small while the arrival is just past a multiple of the wrap.
  const atWrap = Math.ceil(captureMs / PTS_WRAP_MS) * PTS_WRAP_MS;
  assert.ok(Math.abs((captureTimeFromPts(40, atWrap + 100) ?? 0) - (atWrap + 40)) <= 1);
});

test('a PTS that is not clock time gives no capture time', () => {
  const arrivalMs = 1_796_409_093_000;
  const ptsMs = (arrivalMs % PTS_WRAP_MS) - CLOCK_TOLERANCE_MS - 1000;
  assert.equal(captureTimeFromPts(ptsMs, arrivalMs), null);
  assert.equal(captureTimeFromPts(1400, arrivalMs), null);
  assert.equal(captureTimeFromPts(Number.NaN, arrivalMs), null);
});

test('the wall-clock encoder keeps clock time in the MPEG-TS stream', () => {
  const args = wallClockEncoderArgs('udp://127.0.0.1:5600', {
    widthPx: 640,
    heightPx: 480,
    fps: 15,
  });
  const value = (flag: string): string => args[args.indexOf(flag) + 1];
  assert.equal(value('-use_wallclock_as_timestamps'), '1');
  assert.ok(args.includes('-copyts'));
  assert.equal(value('-mpegts_copyts'), '1');
  assert.equal(value('-muxdelay'), '0');
  assert.equal(value('-video_size'), '640x480');
  assert.equal(value('-c:v'), 'libx264');
  assert.equal(args.at(-1), 'udp://127.0.0.1:5600?pkt_size=1316');
  const h265 = wallClockEncoderArgs('udp://127.0.0.1:5600', {
    widthPx: 320,
    heightPx: 240,
    fps: 10,
    codec: 'h265',
  });
  assert.equal(h265[h265.indexOf('-c:v') + 1], 'libx265');
  assert.throws(() => wallClockEncoderArgs('udp://x:1', { widthPx: 33, heightPx: 240, fps: 10 }));
  assert.throws(() => wallClockEncoderArgs('udp://x:1', { widthPx: 32, heightPx: 24, fps: 0 }));
});
