// Loopback ports for tests and benchmarks: everything binds 127.0.0.1 only.

import { createSocket } from 'node:dgram';

/**
 * A UDP port on 127.0.0.1 that nothing holds right now, for a sender and a receiver that must
 * agree on a port before either binds it (ffmpeg's UDP input cannot report one it chose).
 */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
