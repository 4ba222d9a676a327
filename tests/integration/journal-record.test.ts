// The session journal of a real recorded session: a station process (simulated drone, demo
// video, the real detector) recording to a folder, an operator over the real WebSocket who takes
// off and gives a few commands. After the stop, the journal beside the flight record reads back
// whole: every frame it has detections for is in the video's frame table, each frame's
// detections are what the live client received for it, and the commands have their outcomes.
// Needs dist/ (node scripts/build.mjs), ffmpeg and ../shared's model.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { ServerMessage } from '../../app/core/protocol';
import type { MapTarget, VehicleState } from '../../app/core/types';
import { sidecarPaths } from '../../app/station/journal';
import { JournalTimeline } from '../../app/station/replay/journal-timeline';
import { FRAME_TABLE_HEADER } from '../../app/station/video/recorder';
import {
  stationEnv,
  stationMissing,
  StationProcess,
  YOLOX_MODEL as MODEL,
} from '../helpers/station';
import { StationClient, stationWsUrl } from '../helpers/station-client';

const TOKEN = 'journal-record-test-operator-token';
// The detector takes about 130 ms a frame on a small machine; take-off takes tens of seconds.
const WAIT_MS = 120_000;
const OPERATOR = { operatorName: 'Journal Tester', agencyOrPermitId: 'MT-FWP-JOURNAL' };

let workDir = '';
before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-journal-record-'));
});
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | null | undefined, log: () => string) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await sleep(100);
  }
}

type Detections = Extract<ServerMessage, { type: 'detections' }>;

test(
  'a recorded session leaves a journal: detections by frame as they were live, commands answered',
  { skip: stationMissing([MODEL]), timeout: 360_000 },
  async (t) => {
    const recordDir = path.join(workDir, 'record');
    const station = StationProcess.start(
      [
        ...['--sim', '--video', 'demo', '--model', MODEL, '--serve', '127.0.0.1:0'],
        ...['--token', TOKEN, '--record', recordDir, '--zones', path.join(workDir, 'z.json')],
      ],
      stationEnv(workDir),
    );
    t.after(() => station.stop());
    const served = await station.serveUrl(WAIT_MS);
    // Only what the test judges by is kept: a run brings hundreds of video frames.
    const client = await StationClient.open(stationWsUrl(served, TOKEN), {
      waitMs: WAIT_MS,
      keep: false,
    });
    t.after(() => client.close());
    const live: Detections[] = [];
    let vehicle: VehicleState | null = null;
    let targets: MapTarget[] = [];
    client.onMessage((message) => {
      if (message.type === 'detections') live.push(message);
      if (message.type === 'vehicle') vehicle = message.vehicle;
      if (message.type === 'targets') targets = message.targets;
    });
    const log = () => station.log;

    const takeoff = await client.command({ kind: 'arm-takeoff', altitudeM: 20 });
    assert.equal(takeoff.ok, true, takeoff.text);
    await until(
      'the vehicle climbing past 5 m',
      () => (((vehicle as VehicleState | null)?.position?.altitudeRelM ?? 0) > 5 ? true : null),
      log,
    );
    const bear = await until(
      'a bear target',
      () => targets.find((target) => target.className === 'bear'),
      log,
    );
    const setOperator = await client.command({ kind: 'set-operator', operator: OPERATOR });
    assert.equal(setOperator.ok, true, setOperator.text);
    const marked = await client.command({ kind: 'mark-person', position: bear.position });
    assert.equal(marked.ok, true, marked.text);
    const unknownAlert = await client.command({ kind: 'ack-alert', alertId: 999 });
    assert.equal(unknownAlert.ok, false);
    // A few more frames with the bear in them.
    const seenBefore = live.length;
    await until('more detections', () => (live.length >= seenBefore + 5 ? true : null), log);

    await station.stop();
    assert.ok(live.some((m) => m.detections.some((d) => d.className === 'bear')));

    const tlogName = readdirSync(recordDir).find((name) => name.endsWith('.tlog'));
    assert.ok(tlogName, `a flight record in ${recordDir}`);
    const sidecars = sidecarPaths(path.join(recordDir, tlogName));
    assert.ok(existsSync(sidecars.journal), 'the journal is beside the flight record');
    const journal = JournalTimeline.load(sidecars.journal);
    assert.deepEqual(journal.warnings, []);

    // Every frame the journal has detections for is a frame of the recorded video.
    const table = readFileSync(sidecars.frameTable, 'utf8').trim().split('\n');
    assert.equal(table[0], FRAME_TABLE_HEADER);
    const recordedIds = new Set(table.slice(1).map((row) => Number(row.split(',')[1])));
    const journalIds = readFileSync(sidecars.journal, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { m?: ServerMessage })
      .flatMap((line) => (line.m?.type === 'detections' ? [line.m.frameId] : []));
    assert.ok(journalIds.length >= live.length, 'the journal has every frame the client had');
    const missing = journalIds.filter((frameId) => !recordedIds.has(frameId));
    assert.deepEqual(missing, [], 'frames with detections but not in the video');

    // Each frame's detections are what the live client received for it.
    for (const message of live) {
      assert.deepEqual(journal.detectionsFor(message.frameId), {
        frameId: message.frameId,
        frameTimeMs: message.frameTimeMs,
        detections: message.detections,
      });
    }

    // The commands, each with its outcome, and in the log as the operator's.
    const commands = journal.commands();
    assert.deepEqual(
      commands.map((c) => [c.command.kind, c.outcome?.ok ?? null]),
      [
        ['arm-takeoff', true],
        ['set-operator', true],
        ['mark-person', true],
        ['ack-alert', false],
      ],
    );
    assert.equal(commands[3].outcome?.text, unknownAlert.text);
    assert.ok(commands.every((c) => c.resultMs !== null && c.resultMs >= c.timeMs));
    const end = journal.viewAt(journal.endMs as number);
    const texts = end.log.map((entry) => entry.text);
    for (const line of [
      'Operator: arm and take off to 20 m',
      `Operator: hazing operator: ${OPERATOR.operatorName} (${OPERATOR.agencyOrPermitId})`,
      'Operator: acknowledge alert 999',
      unknownAlert.text,
      setOperator.text,
    ]) {
      assert.equal(texts.filter((text) => text === line).length, 1, `once: ${line}`);
    }
    assert.deepEqual(end.hazingOperator, OPERATOR);
    assert.ok(end.people.some((person) => person.source === 'marked'));
    assert.ok(
      end.tracksLastKnown.some((track) => track.trackId === bear.id),
      'the bear is last known somewhere',
    );
    const kinds = new Set(journal.markers().map((marker) => marker.kind));
    assert.ok(kinds.has('detection') && kinds.has('command'), [...kinds].join(', '));
  },
);
