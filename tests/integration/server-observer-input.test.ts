// What an observer (no token) sends that the station cannot read is answered to that observer
// alone: it never reaches the operator's or other observers' event log, so watchers cannot
// write into it. An operator still hears about its own malformed messages.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';

import type { ServerMessage } from '../../app/core/protocol';
import { stationEnv, stationMissing, StationProcess } from '../helpers/station';
import { StationClient, stationWsUrl } from '../helpers/station-client';

const TOKEN = 'server-observer-input-test-token';
const WAIT_MS = 60_000;
/** Long enough for a broadcast to have reached every client over loopback. */
const SETTLE_MS = 1500;

let workDir: string;
before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-observer-input-'));
});
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

type LogMessage = Extract<ServerMessage, { type: 'log' }>;
const isLog = (m: ServerMessage): m is LogMessage => m.type === 'log';
const notUnderstood = (m: ServerMessage): m is LogMessage =>
  isLog(m) && /did not understand/.test(m.entry.text);

/** Sends raw text over the socket, as a misbehaving client would. */
async function rawSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

test(
  "an observer's malformed or unknown messages are answered to it alone, never broadcast",
  { skip: stationMissing(), timeout: 120_000 },
  async (t) => {
    const station = StationProcess.start(
      [
        ...['--sim', '--serve', '127.0.0.1:0', '--token', TOKEN, '--record', 'off'],
        ...['--log-level', 'debug'],
      ],
      stationEnv(workDir),
    );
    t.after(() => station.stop());
    const stationLog: string[] = [];
    station.onLogLine((line) => stationLog.push(line));
    const served = await station.serveUrl(WAIT_MS);
    const operator = await StationClient.open(stationWsUrl(served, TOKEN), { waitMs: WAIT_MS });
    t.after(() => operator.close());
    const watcher = await StationClient.open(stationWsUrl(served), { waitMs: WAIT_MS });
    t.after(() => watcher.close());
    await operator.waitFor('hello', (m) => m.type === 'hello');
    await watcher.waitFor('hello', (m) => m.type === 'hello');

    const sender = await StationClient.open(stationWsUrl(served), { waitMs: WAIT_MS });
    t.after(() => sender.close());
    await sender.waitFor('hello', (m) => m.type === 'hello');
    // The helper's socket is private: a second, raw observer socket sends the bad input and
    // the helper client shows what an observer's UI would hear.
    const raw = await rawSocket(stationWsUrl(served));
    t.after(() => raw.close());
    const heardByRaw: ServerMessage[] = [];
    raw.on('message', (data) => heardByRaw.push(JSON.parse(String(data)) as ServerMessage));

    const forged = 'BEAR IN THE SCHOOL YARD, EVACUATE';
    raw.send(`{"type":"${forged}"`);
    raw.send(JSON.stringify({ type: forged, requestId: 'r1' }));
    raw.send(JSON.stringify({ type: 'command', requestId: 'r2', command: { kind: forged } }));

    const deadline = Date.now() + WAIT_MS;
    while (heardByRaw.filter(notUnderstood).length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(heardByRaw.filter(notUnderstood).length, 3, JSON.stringify(heardByRaw));
    const answered = heardByRaw.filter((m) => m.type === 'command-result' && m.requestId === 'r2');
    assert.equal(answered.length, 1, 'the bad command is answered to its sender');

    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    for (const [who, client] of [
      ['operator', operator],
      ['another observer', watcher],
      ['an observer UI', sender],
    ] as const) {
      const leaked = client.messages.filter(
        (m) => notUnderstood(m) || JSON.stringify(m).includes(forged),
      );
      assert.deepEqual(leaked, [], `${who} heard the observer's bad input`);
    }
    // The station's own log says it at debug level only: observers cannot fill it either.
    const lines = stationLog.filter((line) => /malformed message from observer/.test(line));
    assert.equal(lines.length, 3, station.log);
    for (const line of lines) assert.match(line, / DEBUG /);

    // An operator's own malformed message is still answered to it.
    const operatorRaw = await rawSocket(stationWsUrl(served, TOKEN));
    t.after(() => operatorRaw.close());
    const heardByOperatorRaw: ServerMessage[] = [];
    operatorRaw.on('message', (data) =>
      heardByOperatorRaw.push(JSON.parse(String(data)) as ServerMessage),
    );
    operatorRaw.send('not json');
    const until = Date.now() + WAIT_MS;
    while (!heardByOperatorRaw.some(notUnderstood) && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(heardByOperatorRaw.some(notUnderstood), JSON.stringify(heardByOperatorRaw));
    const operatorLines = stationLog.filter((line) => /malformed message from operator/.test(line));
    assert.equal(operatorLines.length, 1, station.log);
    assert.match(operatorLines[0], / WARN /);
  },
);
