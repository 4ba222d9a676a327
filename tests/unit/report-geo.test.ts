// The report's GIS files, read back by other people's code: the GeoJSON through a validator and
// turf, the KML through an XML parser, against the flight the fixture flew.

import { check, getIssues } from '@placemarkio/check-geojson';
import { length as turfLength } from '@turf/length';
import { DOMParser } from '@xmldom/xmldom';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { distanceM } from '../../app/core/geodesy';
import { buildGeoJson } from '../../app/station/report/geojson';
import { buildKml } from '../../app/station/report/kml';
import { writeIncidentReport } from '../../app/station/report/report';
import { keyFrameJpeg, makeReportInput, PATH_LENGTH_M, PATH_POINTS } from './report-fixture';

interface GeoFeature {
  type: 'Feature';
  geometry: { type: string; coordinates: unknown };
  properties: Record<string, unknown>;
}

describe(
  'incident report GeoJSON and KML',
  { skip: keyFrameJpeg() ? false : 'no key frame' },
  () => {
    let work = '';
    let dir = '';
    let geojsonText = '';
    let features: GeoFeature[] = [];

    before(async () => {
      work = mkdtempSync(path.join(os.tmpdir(), 'ursa-report-geo-'));
      ({ dir } = await writeIncidentReport(makeReportInput(work).input, path.join(work, 'report')));
      geojsonText = readFileSync(path.join(dir, 'report.geojson'), 'utf8');
      features = (JSON.parse(geojsonText) as { features: GeoFeature[] }).features;
    });

    after(() => rmSync(work, { recursive: true, force: true }));

    const ofKind = (kind: string): GeoFeature[] =>
      features.filter((feature) => feature.properties.kind === kind);

    test('the GeoJSON passes a validator with no issues', () => {
      assert.deepEqual(getIssues(geojsonText), []);
      assert.equal(check(geojsonText).type, 'FeatureCollection');
    });

    test('turf measures the drone path as flown, with times and MSL heights', () => {
      const [pathFeature] = ofKind('vehicle-path');
      assert.equal(pathFeature.geometry.type, 'LineString');
      const coordinates = pathFeature.geometry.coordinates as number[][];
      assert.equal(coordinates.length, PATH_POINTS);
      const lengthM = turfLength(pathFeature as never, { units: 'meters' });
      assert.ok(Math.abs(lengthM - PATH_LENGTH_M) < 2, `turf length ${lengthM} m`);
      // [lon, lat, altitude]: Montana is west (negative lon) and north.
      assert.ok(coordinates.every(([lon, lat, alt]) => lon < -111 && lat > 48 && alt >= 1065));
      assert.equal(Math.max(...coordinates.map((c) => c[2])), 1095);
      const times = pathFeature.properties.times as string[];
      assert.equal(times.length, PATH_POINTS);
      assert.equal(times[0], '2026-12-04T23:58:00.000Z');
    });

    test('each track is a LineString, one seen once a Point, with its id and last position', () => {
      const tracks = ofKind('track');
      assert.deepEqual(
        tracks.map((t) => [t.properties.trackId, t.properties.className, t.geometry.type]),
        [
          [3, 'bear', 'LineString'],
          [5, 'bear', 'Point'],
          [7, 'person', 'LineString'],
        ],
      );
      const bear = tracks[0];
      const coordinates = bear.geometry.coordinates as number[][];
      assert.deepEqual(bear.properties.lastPosition, coordinates[coordinates.length - 1]);
    });

    test('zones are closed counter-clockwise rings, the clockwise-drawn fence too', () => {
      const zones = ofKind('zone');
      assert.deepEqual(
        zones.map((zone) => zone.properties.zoneKind),
        ['protected', 'no-fly', 'fence', 'safe'],
      );
      for (const zone of zones) {
        const [ring] = zone.geometry.coordinates as number[][][];
        assert.deepEqual(ring[0], ring[ring.length - 1], `${zone.properties.name} is not closed`);
        let area2 = 0;
        for (let i = 0; i + 1 < ring.length; i++) {
          area2 += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
        }
        assert.ok(area2 > 0, `${zone.properties.name} runs clockwise`);
      }
    });

    test('events where the drone position is known are Points; one before the path is not', () => {
      const events = ofKind('event');
      assert.equal(events.length, 12);
      assert.ok(events.every((event) => event.geometry.type === 'Point'));
      assert.ok(
        !events.some((event) => event.properties.name === 'Replay of the flight record opened'),
      );
      assert.ok(
        events.every((event) =>
          /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(String(event.properties.time)),
        ),
      );
      assert.equal(ofKind('hazing').length, 2);
    });

    test('a record with a clock jump back is one line per session in GeoJSON and KML', () => {
      const input = makeReportInput(work).input;
      const path = input.vehiclePath;
      // The second half replayed 60 s earlier and 300 m south, as a second session would be.
      input.vehiclePath = [
        ...path.slice(0, 150),
        ...path.slice(150).map((point) => ({
          ...point,
          latDeg: point.latDeg - 0.0027,
          timeMs: point.timeMs - 60_000,
        })),
      ];
      const legs = [input.vehiclePath.slice(0, 150), input.vehiclePath.slice(150)];
      const geo = buildGeoJson({ ...input, events: [] }) as { features: GeoFeature[] };
      assert.deepEqual(getIssues(JSON.stringify(geo)), []);
      const [line] = geo.features.filter((f) => f.properties.kind === 'vehicle-path');
      assert.equal(line.geometry.type, 'MultiLineString');
      const coordinates = line.geometry.coordinates as number[][][];
      assert.deepEqual(
        coordinates.map((leg) => leg.length),
        [150, 150],
      );
      const measured = turfLength(line as never, { units: 'meters' });
      const expected = legs.reduce((sum, leg) => {
        let legM = 0;
        for (let i = 1; i < leg.length; i++) legM += distanceM(leg[i - 1], leg[i]);
        return sum + legM;
      }, 0);
      assert.ok(Math.abs(measured - expected) < 1, `turf ${measured} m, legs ${expected} m`);
      const kml = new DOMParser().parseFromString(buildKml({ ...input, events: [] }), 'text/xml');
      const placemark = kml.getElementsByTagName('Placemark')[0];
      assert.equal(placemark.getElementsByTagName('MultiGeometry').length, 1);
      assert.equal(placemark.getElementsByTagName('LineString').length, 2);
    });

    test('the KML parses as XML and holds the same features', () => {
      const errors: string[] = [];
      const xml = new DOMParser({
        errorHandler: {
          warning: (message) => errors.push(message),
          error: (message) => errors.push(message),
          fatalError: (message) => errors.push(message),
        },
      }).parseFromString(readFileSync(path.join(dir, 'report.kml'), 'utf8'), 'text/xml');
      assert.deepEqual(errors, []);
      const root = xml.documentElement;
      assert.equal(root?.tagName, 'kml');
      assert.equal(root?.namespaceURI, 'http://www.opengis.net/kml/2.2');
      const folders = Array.from(xml.getElementsByTagName('Folder'));
      const counts = Object.fromEntries(
        folders.map((folder) => [
          folder.getElementsByTagName('name')[0].textContent,
          folder.getElementsByTagName('Placemark').length,
        ]),
      );
      assert.deepEqual(counts, {
        'Drone path': ofKind('vehicle-path').length,
        Tracks: ofKind('track').length,
        Zones: ofKind('zone').length,
        Events: ofKind('event').length,
        Hazing: ofKind('hazing').length,
      });
      const line = folders[0].getElementsByTagName('LineString')[0];
      assert.equal(line.getElementsByTagName('altitudeMode')[0].textContent, 'absolute');
      const tuples = (line.getElementsByTagName('coordinates')[0].textContent ?? '')
        .trim()
        .split(/\s+/);
      assert.equal(tuples.length, PATH_POINTS);
      assert.equal(tuples[0].split(',').length, 3);
      for (const ring of Array.from(xml.getElementsByTagName('LinearRing'))) {
        const corners = (ring.textContent ?? '').trim().split(/\s+/);
        assert.equal(corners[0], corners[corners.length - 1]);
      }
      const names = Array.from(xml.getElementsByTagName('name')).map((name) => name.textContent);
      assert.ok(names.includes('Incident at the Conrad silo <bear #3> & "co"'));
      assert.ok(
        names.some((name) => name?.includes('<script>')),
        'the hostile label round-trips',
      );
    });
  },
);
