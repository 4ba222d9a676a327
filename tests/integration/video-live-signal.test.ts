// A live source's ffmpeg that dies of a signal from outside (Ctrl-C reaches the whole process
// group, ffmpeg included) is not reopened: a new ffmpeg would be one the signal never reached,
// left holding the UDP port if the station then goes. One killed any other way (SIGKILL, a
// crash) is still reopened. Real ffmpeg, real UDP on 127.0.0.1.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { type FrameSource, openFrameSource } from '../../app/station/video/frame-source';
import {
  startWallClockTestStream,
  type WallClockTestStream,
} from '../../app/station/video/wall-clock';
import { freeUdpPort } from '../helpers/net';
import { collectFrames, waitForStatus } from '../helpers/video';

/** Longer than the first reconnect wait (0.5 s), so a reopening would have begun. */
const RECONNECT_WINDOW_MS = 2500;

let root = '';
const owned: Array<{ dispose(): unknown }> = [];
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ursa-video-signal-'));
});
after(async () => {
  for (const item of owned.reverse()) await item.dispose();
  rmSync(root, { recursive: true, force: true });
});

/** This process's children that read the port as the station's decoder does. */
function decoders(port: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parentPid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const input = command[command.indexOf('-i') + 1] ?? '';
      if (parentPid === process.pid && input.startsWith(`udp://127.0.0.1:${port}?`)) {
        pids.push(Number(name));
      }
    } catch {
      // Gone while being read.
    }
  }
  return pids;
}

async function runningSource(): Promise<{ source: FrameSource; port: number }> {
  const port = await freeUdpPort();
  const stream: WallClockTestStream = startWallClockTestStream({ port, fps: 25 });
  owned.push(stream);
  const source = openFrameSource(`udp://127.0.0.1:${port}`, {
    cacheDir: path.join(root, 'cache'),
    sharedDir: root,
  });
  owned.push(source);
  await collectFrames(source, 5);
  return { source, port };
}

test('an ffmpeg stopped by SIGINT from outside is not reopened', async () => {
  const { source, port } = await runningSource();
  const [decoder] = decoders(port);
  assert.ok(decoder !== undefined, 'the decoding ffmpeg is found');
  process.kill(decoder, 'SIGINT');
  const stopped = await waitForStatus(source, (status) => status.state === 'stopped');
  assert.match(stopped.error ?? '', /was stopped by signal 2 from outside/);
  await new Promise((resolve) => setTimeout(resolve, RECONNECT_WINDOW_MS));
  assert.equal(source.status.state, 'stopped');
  assert.equal(source.status.reconnects, 0);
  assert.deepEqual(decoders(port), [], 'no new ffmpeg reads the port');
});

test('an ffmpeg killed any other way is still reopened', async () => {
  const { source, port } = await runningSource();
  const [decoder] = decoders(port);
  assert.ok(decoder !== undefined, 'the decoding ffmpeg is found');
  process.kill(decoder, 'SIGKILL');
  await waitForStatus(source, (status) => status.state === 'reconnecting');
  await waitForStatus(source, (status) => status.state === 'running' && status.reconnects === 1);
  await collectFrames(source, 3);
});
