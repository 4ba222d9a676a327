// The report folder as a whole: its files, checksums that `sha256sum -c` accepts, CSV that
// parses back, HTML that fetches nothing and escapes everything, a new folder rather than an
// overwritten one, and bad input refused with the field named.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { hazingEventsToCsv } from '../../app/core/hazing-log';
import {
  EVENTS_CSV_COLUMNS,
  writeIncidentReport,
  type ReportInput,
} from '../../app/station/report/report';
import {
  AIRBORNE_S,
  HOSTILE_LABEL,
  keyFrameJpeg,
  makeReportInput,
  SOURCE_TLOG,
  type ReportFixture,
} from './report-fixture';

/** RFC 4180 read back: quoted fields, doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') [field, i] = [field + '"', i + 1];
      else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') [row, field] = [[...row, field], ''];
    else if (char === '\r' && text[i + 1] === '\n') {
      rows.push([...row, field]);
      [row, field, i] = [[], '', i + 1];
    } else field += char;
  }
  assert.equal(field + row.join(''), '', 'the CSV does not end with CRLF');
  return rows;
}

function sha256sumCheck(dir: string, listFile: string): { status: number | null; out: string } {
  const result = spawnSync('sha256sum', ['-c', '--strict', listFile], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('incident report folder', { skip: keyFrameJpeg() ? false : 'no key frame' }, () => {
  let work = '';
  let fixture: ReportFixture;
  let result: { dir: string; files: string[] };
  let html = '';

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ursa-report-write-'));
    fixture = makeReportInput(work);
    result = await writeIncidentReport(fixture.input, path.join(work, 'reports', 'incident'));
    html = readFileSync(path.join(result.dir, 'report.html'), 'utf8');
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  test('writes the six files and SHA256SUMS, and names them', () => {
    assert.equal(result.dir, path.join(work, 'reports', 'incident'));
    const expected = [
      'report.html',
      'report.geojson',
      'report.kml',
      'events.csv',
      'hazing-log.csv',
      'sources.sha256',
      'SHA256SUMS',
    ];
    assert.deepEqual(result.files, expected);
    assert.deepEqual(readdirSync(result.dir).sort(), [...expected].sort());
  });

  test('sha256sum -c accepts SHA256SUMS for every other file, and sources.sha256', () => {
    const own = sha256sumCheck(result.dir, 'SHA256SUMS');
    assert.equal(own.status, 0, own.out);
    assert.equal(own.out.trim().split('\n').length, 6);
    const sources = sha256sumCheck(result.dir, 'sources.sha256');
    assert.equal(sources.status, 0, sources.out);
    // The given checksum, the computed one (when the shared log is here), never the missing file.
    assert.match(sources.out, /flight 2026-12-04\.frames\.csv: OK/);
    if (existsSync(SOURCE_TLOG)) assert.match(sources.out, /olivieri_20211202-133659\.tlog: OK/);
    assert.doesNotMatch(readFileSync(path.join(result.dir, 'sources.sha256'), 'utf8'), /missing/);
  });

  test('a changed report file fails the check', () => {
    const copy = path.join(work, 'tampered');
    mkdirSync(copy);
    for (const name of result.files) {
      const text = readFileSync(path.join(result.dir, name), 'utf8');
      const changed = name === 'events.csv' ? text.replace('bear #3', 'bear #4') : text;
      writeFileSync(path.join(copy, name), changed);
    }
    const check = sha256sumCheck(copy, 'SHA256SUMS');
    assert.notEqual(check.status, 0);
    assert.match(check.out, /events\.csv: FAILED/);
  });

  test('events.csv parses back: a row per event, formulas guarded, commas and quotes kept', () => {
    const rows = parseCsv(readFileSync(path.join(result.dir, 'events.csv'), 'utf8'));
    assert.deepEqual(rows[0], [...EVENTS_CSV_COLUMNS]);
    assert.equal(rows.length - 1, fixture.input.events.length);
    const hostile = rows.find((row) => row[2].includes('<script>'));
    assert.ok(hostile);
    assert.equal(hostile[2], `'${HOSTILE_LABEL}`);
    const [first] = rows.slice(1);
    assert.deepEqual(first.slice(3), ['', ''], 'no drone position before the path starts');
    const alert = rows.find((row) => row[1] === 'alert');
    assert.ok(alert && Number(alert[3]) > 48 && Number(alert[4]) < -111);
    assert.equal(alert[0], '2026-12-04T23:59:58.000Z');
  });

  test('hazing-log.csv is the hazing log as hazingEventsToCsv writes it', () => {
    const text = readFileSync(path.join(result.dir, 'hazing-log.csv'), 'utf8');
    assert.equal(text, hazingEventsToCsv(fixture.input.hazingEvents));
    const rows = parseCsv(text);
    assert.equal(rows.length, 3);
    assert.match(rows[2][19], /'?\[.*"action":"abort"/);
  });

  test('the HTML fetches nothing: no http(s) or protocol-relative URL, only data: images', () => {
    assert.doesNotMatch(html, /https?:\/\//i);
    const links = [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/gi)].map((m) => m[1]);
    assert.ok(links.length > 0);
    for (const link of links) {
      assert.ok(
        link.startsWith('data:image/') || link.startsWith('#'),
        `link ${link.slice(0, 40)}`,
      );
    }
    assert.doesNotMatch(html, /<link\b|<script\b|@import|url\((?!#)/i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  });

  test('the HTML escapes what people and vehicles wrote', () => {
    assert.ok(!html.includes(HOSTILE_LABEL));
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
    assert.ok(
      html.includes('<title>Incident at the Conrad silo &lt;bear #3&gt; &amp; &quot;co&quot;'),
    );
  });

  test('the HTML summary, tracks, hazing entries and files say what happened', () => {
    assert.equal(AIRBORNE_S, 4 * 60 + 34);
    const summary = html.slice(html.indexOf('data-testid="summary"'), html.indexOf('<h2>Map'));
    assert.match(summary, /Flight time in span<\/span><b>4 min 34 s</);
    assert.match(summary, /Distance flown<\/span><b>700 m</);
    assert.match(summary, /Max altitude<\/span><b>30 m above home</);
    assert.match(summary, /Bears seen<\/span><b>2<\/b><span class="muted">also 1 person</);
    assert.match(
      summary,
      /Hazing events<\/span><b>2<\/b><span class="muted">1 success, 1 aborted</,
    );
    assert.match(
      html,
      /2026-12-04 23:57:50 UTC — local 2026-12-0\d \d\d:\d\d:50 \(UTC[+-]\d\d:\d\d\)/,
    );
    assert.equal([...html.matchAll(/<div class="hazing-event"/g)].length, 2);
    assert.match(html, /MT FWP permit 2026-117/);
    assert.match(html, /=SUM\(A1\) person walked out/);
    assert.match(html, /<td class="hash">[0-9a-f]{64}<\/td>/);
    assert.match(
      html,
      new RegExp(
        'missing\\.journal\\.jsonl</code></td><td class="num">0</td>' +
          '<td class="hash"><span class="muted">not readable',
      ),
    );
    assert.equal([...html.matchAll(/<tr data-kind=/g)].length, fixture.input.events.length);
  });

  test('tracks say their times are those in the span; a hazing pattern is in words', () => {
    assert.match(html, /<th>First seen in span<\/th><th>Last seen in span<\/th>/);
    assert.match(
      html,
      new RegExp(
        '<th>Pattern</th><td>push toward 45 deg \\(safe zone 4\\), standoff 40 m, ' +
          '15 m up, success at 200 m, then hold</td>',
      ),
    );
    assert.match(html, /<th>Pattern<\/th><td>orbit radius 60 m at 5 m\/s, 20 m up, clockwise</);
    assert.match(html, /<th>Bear moved<\/th><td>210 m<\/td>/);
  });

  test('a bad zone or hazing entry is left out with a note; the report is written', async () => {
    const { input } = makeReportInput(work);
    input.zones[1].polygon = input.zones[1].polygon.slice(0, 2);
    (input.zones[2] as { polygon: unknown }).polygon = 'nope';
    input.hazingEvents[1].operator = undefined as never;
    (input.hazingEvents[0] as { actions: unknown }).actions = null;
    const partial = await writeIncidentReport(input, path.join(work, 'partial'));
    const page = readFileSync(path.join(partial.dir, 'report.html'), 'utf8');
    for (const note of [
      'left out: zone 2, its polygon has 2 corners, fewer than 3',
      'left out: zone 3, its polygon is not a list of points',
      'left out: hazing entry 1, its actions is not a list',
      'left out: hazing entry 2, its operator: hazing operator must be an object',
    ]) {
      assert.ok(page.includes(note), note);
      const csv = readFileSync(path.join(partial.dir, 'events.csv'), 'utf8');
      assert.ok(csv.includes(note), `events.csv: ${note}`);
    }
    assert.equal([...page.matchAll(/<div class="hazing-event"/g)].length, 0);
    assert.match(page, /No hazing in this span/);
    assert.equal([...page.matchAll(/<g class="zone zone-/g)].length, input.zones.length - 2);
  });

  test('the key frame is inlined as a JPEG with its box over it in the frame`s pixels', () => {
    const figure = html.slice(html.indexOf('<figure class="key-frame"'), html.indexOf('</figure>'));
    const frame = fixture.input.keyFrames[0];
    assert.ok(figure.includes(`src="data:image/jpeg;base64,${frame.jpeg.toString('base64')}"`));
    assert.ok(figure.includes(`viewBox="0 0 ${frame.widthPx} ${frame.heightPx}"`));
    const [left, top, width, height] = frame.detections[0].box;
    assert.ok(
      figure.includes(
        `<rect class="box" x="${left.toFixed(1)}" y="${top.toFixed(1)}"` +
          ` width="${width.toFixed(1)}"` +
          ` height="${height.toFixed(1)}"`,
      ),
    );
    assert.match(figure, />bear 94% #3</);
  });

  test('another report into the same folder gets a new name; an empty folder is used', async () => {
    const again = await writeIncidentReport(fixture.input, path.join(work, 'reports', 'incident'));
    assert.equal(again.dir, path.join(work, 'reports', 'incident-2'));
    assert.equal(
      readFileSync(path.join(result.dir, 'events.csv'), 'utf8'),
      readFileSync(path.join(again.dir, 'events.csv'), 'utf8'),
    );
    const empty = mkdtempSync(path.join(work, 'made-by-caller-'));
    const into = await writeIncidentReport(fixture.input, empty);
    assert.equal(into.dir, empty);
    assert.equal(readdirSync(empty).length, 7);
  });

  test('bad input is refused with the field named, and leaves no folder', async () => {
    const cases: Array<[string, (input: ReportInput) => void, RegExp]> = [
      ['empty title', (input) => (input.title = '  '), /title is empty/],
      ['span backwards', (input) => (input.toMs = input.fromMs), /span must end/],
      [
        'bad latitude',
        (input) => (input.vehiclePath[12].latDeg = 91),
        /vehiclePath\[12\]: latDeg 91/,
      ],
      [
        'NaN time',
        (input) => (input.tracks[0].points[2].timeMs = NaN),
        /tracks\[0\]\.points\[2\]\.timeMs/,
      ],
      [
        'not a JPEG',
        (input) => (input.keyFrames[0].jpeg = Buffer.from('PNG')),
        /keyFrames\[0\]\.jpeg is not a JPEG/,
      ],
      ['bad checksum', (input) => (input.files[0].sha256 = 'abc'), /files\[0\]\.sha256/],
      [
        'unknown event kind',
        (input) => (input.events[3].kind = 'explosion' as never),
        /events\[3\]\.kind "explosion" is not a kind/,
      ],
    ];
    for (const [name, spoil, message] of cases) {
      const input = makeReportInput(work).input;
      spoil(input);
      const outDir = path.join(work, `bad-${name.replace(/\W/g, '-')}`);
      await assert.rejects(writeIncidentReport(input, outDir), message, name);
      assert.equal(existsSync(outDir), false, `${name} left a folder`);
    }
  });
});
