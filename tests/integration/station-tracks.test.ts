// Tracks, zones and alerts through a real station process (simulated drone, demo video, the
// real detector) and its real WebSocket: the operator draws a zone where the bear is, the bear
// track raises one alert, the alert reaches the event log, and observers cannot touch zones.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { offsetNorthEast } from '../../app/core/geodesy';
import type { ServerMessage } from '../../app/core/protocol';
import type { MapTarget } from '../../app/core/types';
import { parseZonesFile, pointInPolygon, type ZoneAlert } from '../../app/core/zones';
import {
  stationEnv,
  stationMissing,
  StationProcess,
  YOLOX_MODEL as MODEL,
} from '../helpers/station';
import { StationClient, stationWsUrl } from '../helpers/station-client';

const TOKEN = 'station-tracks-test-operator-token';
// The detector takes about 130 ms a frame on a small machine; take-off takes tens of seconds.
const WAIT_MS = 90_000;

let workDir: string;
before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-tracks-'));
});
after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const isType =
  <K extends ServerMessage['type']>(type: K) =>
  (m: ServerMessage): m is Extract<ServerMessage, { type: K }> =>
    m.type === type;

test(
  'a zone saved over the WebSocket around the bear raises one alert, logged and acknowledged',
  { skip: stationMissing([MODEL]), timeout: 240_000 },
  async (t) => {
    const zonesFile = path.join(workDir, 'zones.json');
    // A file left broken: the station must start anyway, say why, and keep it aside.
    writeFileSync(zonesFile, '{"version":1,"zones":[{"name":"half');
    const eventsFile = path.join(workDir, 'events.jsonl');
    const station = StationProcess.start(
      [
        ...['--sim', '--video', 'demo', '--model', MODEL, '--serve', '127.0.0.1:0'],
        ...['--token', TOKEN, '--zones', zonesFile, '--events', eventsFile, '--record', 'off'],
      ],
      stationEnv(workDir),
    );
    t.after(() => station.stop());
    const served = await station.serveUrl(WAIT_MS);
    const operator = await StationClient.open(stationWsUrl(served, TOKEN), { waitMs: WAIT_MS });
    t.after(() => operator.close());
    const observer = await StationClient.open(stationWsUrl(served), { waitMs: WAIT_MS });
    t.after(() => observer.close());

    const hello = await operator.waitFor('hello', isType('hello'));
    assert.equal(hello.role, 'operator');
    const firstZones = await operator.waitFor('zones', isType('zones'));
    assert.deepEqual(firstZones.zones, [], 'a bad file gives no zones');
    const badFileLog = await operator.waitFor(
      'a log entry about the bad zones file',
      (m): m is Extract<ServerMessage, { type: 'log' }> =>
        m.type === 'log' && /Protected zones not loaded/.test(m.entry.text),
    );
    assert.match(
      badFileLog.entry.text,
      new RegExp(`${zonesFile.replace(/\./g, '\\.')} is not JSON`),
    );

    // Take off so the camera sees the ground and detections get ground positions.
    const takeoff = await operator.command({ kind: 'arm-takeoff', altitudeM: 20 });
    assert.equal(takeoff.ok, true, takeoff.text);

    // The demo's bear, as a confirmed track with a ground position.
    const withBear = await operator.waitFor(
      'a bear target',
      (m): m is Extract<ServerMessage, { type: 'targets' }> =>
        m.type === 'targets' && m.targets.some((target) => target.className === 'bear'),
    );
    const bear = withBear.targets.find((target) => target.className === 'bear') as MapTarget;
    assert.ok(Array.isArray(bear.path) && bear.path.length >= 1, 'the target carries its path');
    assert.ok('speedMps' in bear && 'courseDeg' in bear);
    const labelled = operator.messages.find(
      (m) => m.type === 'detections' && m.detections.some((d) => d.trackId === bear.id),
    );
    assert.ok(labelled, 'detections carry the id of their track');

    // Observers watch: they cannot add zones or acknowledge alerts.
    const square = [
      offsetNorthEast(bear.position, -15, -15),
      offsetNorthEast(bear.position, -15, 15),
      offsetNorthEast(bear.position, 15, 15),
      offsetNorthEast(bear.position, 15, -15),
    ];
    const denied = await observer.command({
      kind: 'save-zone',
      zone: { name: 'Sneaky', alertDistanceM: 10, polygon: square },
    });
    assert.equal(denied.ok, false);
    assert.equal(denied.result, 'DENIED');
    assert.match(denied.text, /Observers cannot change protected zones/);

    // A bad zone from the operator is refused with the reason.
    const crossed = await operator.command({
      kind: 'save-zone',
      zone: {
        name: 'Bow tie',
        alertDistanceM: 10,
        polygon: [square[0], square[2], square[1], square[3]],
      },
    });
    assert.equal(crossed.ok, false);
    assert.match(crossed.text, /edges 1 and 3 cross/);

    const zonesAt = operator.messages.length;
    const saved = await operator.command({
      kind: 'save-zone',
      zone: { name: 'Farm yard', alertDistanceM: 20, polygon: square },
    });
    assert.equal(saved.ok, true, saved.text);
    const zonesMessage = await operator.waitFor('the new zones', isType('zones'), zonesAt);
    assert.equal(zonesMessage.zones.length, 1);
    const zone = zonesMessage.zones[0];
    assert.equal(zone.name, 'Farm yard');
    await observer.waitFor(
      'the zones at the observer',
      (m): m is Extract<ServerMessage, { type: 'zones' }> =>
        m.type === 'zones' && m.zones.length === 1,
    );
    // Saved to the file, and the broken one kept aside.
    assert.deepEqual(parseZonesFile(readFileSync(zonesFile, 'utf8'), zonesFile), [zone]);
    const aside = readdirSync(workDir).filter((name) => name.startsWith('zones.json.bad-'));
    assert.equal(aside.length, 1, 'the unreadable file is kept aside');

    // The bear is inside: one alert, to every client.
    const alertMessage = await operator.waitFor(
      'an alert',
      (m): m is Extract<ServerMessage, { type: 'alert' }> => m.type === 'alert',
      zonesAt,
    );
    const alert: ZoneAlert = alertMessage.alert;
    assert.equal(alert.className, 'bear');
    assert.equal(alert.zoneId, zone.id);
    assert.equal(alert.zoneName, 'Farm yard');
    assert.equal(alert.acknowledgedMs, null);
    assert.equal(alert.inside, pointInPolygon(alert.position, zone.polygon));
    assert.ok(alert.distanceM <= zone.alertDistanceM);
    await observer.waitFor(
      'the alert at the observer',
      (m): m is Extract<ServerMessage, { type: 'alert' }> =>
        m.type === 'alert' && m.alert.id === alert.id,
    );
    assert.equal((await observer.command({ kind: 'ack-alert', alertId: alert.id })).ok, false);

    // A few seconds more of the same bear near the yard: still one alert for its track.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const forTrack = operator.messages.filter(
      (m) => m.type === 'alert' && m.alert.trackId === alert.trackId,
    );
    assert.equal(forTrack.length, 1, 'one alert per track and entering, not one per frame');

    const ack = await operator.command({ kind: 'ack-alert', alertId: alert.id });
    assert.equal(ack.ok, true, ack.text);
    const acknowledged = await observer.waitFor(
      'the acknowledgement at the observer',
      (m): m is Extract<ServerMessage, { type: 'alert' }> =>
        m.type === 'alert' && m.alert.id === alert.id && m.alert.acknowledgedMs !== null,
    );
    assert.ok(acknowledged.alert.acknowledgedMs! >= alert.raisedMs);

    // The station log and the events file have it.
    assert.ok(
      operator.messages.some(
        (m) => m.type === 'log' && /ALERT: bear #\d+ is .*"Farm yard"/.test(m.entry.text),
      ),
    );
    const events = readFileSync(eventsFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const alertEvents = events.filter((e) => e.type === 'alert' && e.alertId === alert.id);
    assert.deepEqual(
      alertEvents.map((e) => e.state),
      ['raised', 'acknowledged'],
    );
    assert.equal(alertEvents[0].zone, 'Farm yard');
    assert.equal(alertEvents[0].trackId, alert.trackId);

    // Deleting the zone: the file and every client follow.
    const deleteAt = observer.messages.length;
    assert.equal((await operator.command({ kind: 'delete-zone', zoneId: zone.id })).ok, true);
    const emptied = await observer.waitFor('zones after deleting', isType('zones'), deleteAt);
    assert.deepEqual(emptied.zones, []);
    assert.deepEqual(parseZonesFile(readFileSync(zonesFile, 'utf8'), zonesFile), []);
    assert.equal(station.child.exitCode, null, 'the station kept running throughout');
  },
);
