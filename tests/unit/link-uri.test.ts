import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatLinkUri, parseLinkUri } from '../../app/station/mavlink/uri';

test('the three link kinds parse into host and port', () => {
  assert.deepEqual(parseLinkUri('udpin:0.0.0.0:14550'), {
    kind: 'udpin',
    host: '0.0.0.0',
    port: 14550,
  });
  assert.deepEqual(parseLinkUri('udpout:127.0.0.1:14555'), {
    kind: 'udpout',
    host: '127.0.0.1',
    port: 14555,
  });
  assert.deepEqual(parseLinkUri('tcp:localhost:5760'), {
    kind: 'tcp',
    host: 'localhost',
    port: 5760,
  });
});

test('scheme case, surrounding spaces and a // after the scheme are forgiven', () => {
  assert.deepEqual(parseLinkUri('  TCP:127.0.0.1:5760 '), {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 5760,
  });
  assert.deepEqual(parseLinkUri('udpout://127.0.0.1:14550'), {
    kind: 'udpout',
    host: '127.0.0.1',
    port: 14550,
  });
});

test('udpin may ask for port 0 so the system picks one', () => {
  assert.deepEqual(parseLinkUri('udpin:127.0.0.1:0'), {
    kind: 'udpin',
    host: '127.0.0.1',
    port: 0,
  });
});

test('IPv6 hosts are written in brackets and come back without them', () => {
  assert.deepEqual(parseLinkUri('udpin:[::1]:14550'), { kind: 'udpin', host: '::1', port: 14550 });
  assert.equal(formatLinkUri(parseLinkUri('udpin:[::1]:14550')), 'udpin:[::1]:14550');
  assert.equal(formatLinkUri(parseLinkUri('tcp:127.0.0.1:5760')), 'tcp:127.0.0.1:5760');
});

function assertRejects(uri: string, pattern: RegExp): void {
  assert.throws(
    () => parseLinkUri(uri),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, pattern);
      assert.ok(error.message.includes(uri), `the message names the URI: ${error.message}`);
      return true;
    },
  );
}

test('unknown or missing schemes are named', () => {
  assertRejects('usb:/dev/ttyUSB0:57600', /unknown scheme "usb"/);
  assertRejects('udp:127.0.0.1:14550', /unknown scheme "udp"/);
  assertRejects('127.0.0.1', /no scheme/);
  assertRejects('', /no scheme/);
});

test('bad ports are named', () => {
  assertRejects('udpin:127.0.0.1:abc', /port "abc" is not a number/);
  assertRejects('udpin:127.0.0.1:-1', /port "-1" is not a number/);
  assertRejects('udpin:127.0.0.1:', /port "" is not a number/);
  assertRejects('udpin:127.0.0.1:1.5', /port "1.5" is not a number/);
  assertRejects('tcp:127.0.0.1:65536', /port 65536 is above 65535/);
  assertRejects('tcp:127.0.0.1:0', /port 0 only makes sense for udpin/);
  assertRejects('udpout:127.0.0.1:0', /port 0 only makes sense for udpin/);
  assertRejects('udpout:127.0.0.1', /no port|not a number/);
});

test('missing or malformed hosts are named', () => {
  assertRejects('udpin::14550', /missing host/);
  assertRejects('tcp:14550', /no port|missing host/);
  assertRejects('udpout:bad host:14550', /"bad host" is not a host/);
  assertRejects('udpout:::1:14550', /IPv6 hosts go in brackets/);
  assertRejects('udpin:[::1:14550', /has no "\]"/);
  assertRejects('udpin:[nope]:14550', /"nope" is not an IPv6 address/);
});

test('serial links name a device and a baud rate, or find the adapter by its USB identity', () => {
  const none = { serialNumber: null, vendorId: null, productId: null };
  assert.deepEqual(parseLinkUri('serial:/dev/ttyUSB0:57600'), {
    kind: 'serial',
    paths: ['/dev/ttyUSB0'],
    baudRate: 57600,
    ...none,
  });
  assert.deepEqual(parseLinkUri('serial:/dev/ttyACM0'), {
    kind: 'serial',
    paths: ['/dev/ttyACM0'],
    baudRate: 57600,
    ...none,
  });
  assert.deepEqual(parseLinkUri('serial:/dev/ttyUSB0:115200?serial=A10K%2F7'), {
    kind: 'serial',
    paths: ['/dev/ttyUSB0'],
    baudRate: 115200,
    ...none,
    serialNumber: 'A10K/7',
  });
  assert.deepEqual(parseLinkUri('serial:auto?vid=0x0403&pid=6015'), {
    kind: 'serial',
    paths: [],
    baudRate: 57600,
    serialNumber: null,
    vendorId: '0403',
    productId: '6015',
  });
  assert.deepEqual(parseLinkUri('serial:/dev/serial/by-id/usb-FTDI*,/dev/ttyUSB?:921600'), {
    kind: 'serial',
    paths: ['/dev/serial/by-id/usb-FTDI*', '/dev/ttyUSB?'],
    baudRate: 921600,
    ...none,
  });
  assert.deepEqual(parseLinkUri('serial:COM3:57600'), {
    kind: 'serial',
    paths: ['COM3'],
    baudRate: 57600,
    ...none,
  });
});

test('serial URIs format back to what parses the same', () => {
  for (const uri of [
    'serial:/dev/ttyUSB0:57600',
    'serial:auto:57600?vid=0403&pid=6015',
    'serial:/dev/x/radio-*,/dev/ttyUSB1:115200?serial=A10K%2F7',
  ]) {
    assert.equal(formatLinkUri(parseLinkUri(uri)), uri);
  }
});

test('bad serial URIs are named', () => {
  assertRejects('serial::57600', /no device/);
  assertRejects('serial:/dev/ttyUSB0:fast', /baud rate "fast" is not a number/);
  assertRejects('serial:/dev/ttyUSB0:10', /baud rate 10 is not from 50/);
  assertRejects('serial:auto:57600', /serial:auto needs \?serial=, \?vid= or \?pid=/);
  assertRejects('serial:/dev/ttyUSB0?vid=xyz', /vid "xyz" is not a hex USB id/);
  assertRejects('serial:/dev/ttyUSB0?speed=4', /unknown option "speed"/);
  assertRejects('serial:/dev/a,,/dev/b:57600', /an empty or padded device name/);
});
