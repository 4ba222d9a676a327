// The look-at command through a real station process and a real WebSocket, with a link on
// which no vehicle has spoken: the operator is told there is no vehicle, not that the target
// is unknown, and nothing is sent. An observer's look-at is denied before it gets that far.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { ServerMessage } from '../../app/core/protocol';
import type { CommandOutcome } from '../../app/core/types';
import { stationEnv, stationMissing, StationProcess, type StationEvent } from '../helpers/station';
import { makeTileFolder } from '../helpers/tiles';

const WAIT_MS = 30_000;
const TOKEN = 'look-at-test-operator-token';

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

describe('look-at with no vehicle', { skip: stationMissing() }, () => {
  let workDir: string;
  let station: StationProcess | null = null;
  let serve: StationEvent;

  before(async () => {
    workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-look-at-'));
    // Local tiles: nothing here may reach for a map on the internet.
    makeTileFolder(path.join(workDir, 'tiles'), { minZoom: 14, maxZoom: 14, radiusTiles: 0 });
    station = StationProcess.start(
      [
        ...['--link', 'udpin:127.0.0.1:0', '--serve', '127.0.0.1:0', '--token', TOKEN],
        ...['--tiles', path.join(workDir, 'tiles'), '--events', '-', '--record', 'off'],
      ],
      stationEnv(workDir),
    );
    serve = await station.waitEvent((event) => event.type === 'serve', WAIT_MS, 'serve event');
  });

  after(async () => {
    await station?.stop();
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
    assert.equal(station?.running, true, 'the station is still running');
  });
});
