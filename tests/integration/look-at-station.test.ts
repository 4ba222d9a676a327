// The look-at command through a real station process and a real WebSocket, with a link on
// which no vehicle has spoken: the operator is told there is no vehicle, not that the target
// is unknown, and nothing is sent. An observer's look-at is denied before it gets that far.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { ServerMessage } from '../../app/core/protocol';
import type { CommandOutcome } from '../../app/core/types';
import { projectRoot } from '../../app/station/paths';
import { makeTileFolder } from '../helpers/tiles';

const CLI = path.join(projectRoot, 'dist', 'station', 'cli.js');
const WAIT_MS = 30_000;
const TOKEN = 'look-at-test-operator-token';

type StationEvent = { type: string; [key: string]: unknown };

async function command(wsUrl: string, sent: object): Promise<CommandOutcome> {
  const socket = new WebSocket(wsUrl);
  try {
    return await new Promise<CommandOutcome>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no command-result')), WAIT_MS);
      socket.once('error', reject);
      socket.once('open', () => {
        socket.send(JSON.stringify({ type: 'command', requestId: 'q1', command: sent }));
      });
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as ServerMessage;
        if (message.type === 'command-result' && message.requestId === 'q1') {
          clearTimeout(timer);
          resolve(message.outcome);
        }
      });
    });
  } finally {
    socket.close();
  }
}

describe('look-at with no vehicle', { skip: existsSync(CLI) ? false : `${CLI} is missing` }, () => {
  let workDir: string;
  let child: ChildProcessWithoutNullStreams;
  let exited: Promise<unknown>;
  const events: StationEvent[] = [];
  const stderrTail: string[] = [];
  let serve: StationEvent;

  before(async () => {
    workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-look-at-'));
    // Local tiles: nothing here may reach for a map on the internet.
    makeTileFolder(path.join(workDir, 'tiles'), { minZoom: 14, maxZoom: 14, radiusTiles: 0 });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      URSA_CACHE_DIR: path.join(workDir, 'cache'),
      URSA_DATA_DIR: path.join(workDir, 'data'),
    };
    delete env.URSA_TOKEN;
    delete env.URSA_TILES;
    child = spawn(
      process.execPath,
      [
        CLI,
        ...['--link', 'udpin:127.0.0.1:0', '--serve', '127.0.0.1:0', '--token', TOKEN],
        ...['--tiles', path.join(workDir, 'tiles'), '--events', '-', '--record', 'off'],
      ],
      { cwd: projectRoot, env, stdio: 'pipe' },
    );
    exited = new Promise((resolve) => child.once('exit', resolve));
    createInterface({ input: child.stdout }).on('line', (line) => {
      events.push(JSON.parse(line) as StationEvent);
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 40) stderrTail.shift();
    });
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = events.find((event) => event.type === 'serve');
      if (found) {
        serve = found;
        break;
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the station did not serve:\n${stderrTail.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test('the operator is told no vehicle is connected; an observer is denied', async () => {
    const base = new URL('/ws', String(serve.url));
    base.protocol = 'ws:';
    const operator = new URL(base);
    operator.searchParams.set('token', TOKEN);

    const refused = await command(operator.href, { kind: 'look-at', targetId: 1 });
    assert.equal(refused.ok, false);
    assert.equal(refused.result, 'NOT_SENT');
    assert.match(refused.text, /Look at refused: no vehicle is connected \(none heard yet\)/);

    const malformed = await command(operator.href, { kind: 'look-at', targetId: 'bear' });
    assert.equal(malformed.ok, false);
    assert.match(malformed.text, /look-at needs a finite number targetId/);

    const observer = await command(base.href, { kind: 'look-at', targetId: 1 });
    assert.equal(observer.result, 'DENIED');
    assert.match(observer.text, /Observers cannot command the vehicle \(look-at refused\)/);
    assert.equal(child.exitCode, null, 'the station is still running');
  });
});
