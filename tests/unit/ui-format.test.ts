// The UI's number and text formatting: HTML escaping for Leaflet's icon strings, numbers that
// never read "-0", and 24-hour clocks (the hazing log's among them).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { HazingEvent } from '../../app/core/hazing-log';
import {
  escapeHtml,
  formatClockHm,
  formatDeg,
  formatM,
  htmlNumber,
  toFixedSigned,
} from '../../app/ui/components/format';
import { HazingLog } from '../../app/ui/components/HazingLog';

const EVIL = `"><b id="pwn">x</b><img src=x onerror='alert(1)'>&amp;\``;

/** Parses an HTML fragment the way innerHTML would be read back, far enough for the test. */
function tagsIn(html: string): string[] {
  return [...html.matchAll(/<([a-z]+)/gi)].map((match) => match[1].toLowerCase());
}

describe('HTML escaping', () => {
  test('markup in a value is text: no tag, no quote that ends an attribute', () => {
    const escaped = escapeHtml(EVIL);
    assert.doesNotMatch(escaped, /[<>"'`]/);
    assert.deepEqual(tagsIn(`<div data-x="${escaped}">${escaped}</div>`), ['div']);
    assert.equal(
      escaped,
      '&quot;&gt;&lt;b id=&quot;pwn&quot;&gt;x&lt;/b&gt;&lt;img src=x ' +
        'onerror=&#39;alert(1)&#39;&gt;&amp;amp;&#96;',
    );
  });

  test('any value is taken, not only strings: what a record sent may be of any type', () => {
    assert.equal(escapeHtml(12), '12');
    assert.equal(escapeHtml(null), 'null');
    assert.equal(escapeHtml({ toString: () => '<i>' }), '&lt;i&gt;');
  });

  test('numbers for HTML are digits or nothing', () => {
    assert.equal(htmlNumber(48.17012345678, 9), '48.170123457');
    assert.equal(htmlNumber(-0.0000000001, 9), '0.000000000');
    assert.equal(htmlNumber(7, 0), '7');
    assert.equal(htmlNumber('1"><b id="pwn">', 9), '');
    assert.equal(htmlNumber(Number.NaN, 2), '');
    assert.equal(htmlNumber(Infinity, 2), '');
    assert.equal(htmlNumber(undefined, 2), '');
  });
});

describe('numbers on screen', () => {
  test('a value that rounds to zero reads 0, never -0', () => {
    // The pattern card: "Bear pushed -0 m of 200 m" at the start of a push.
    assert.equal(`${formatM(-0.3)} of ${formatM(200)}`, '0 m of 200 m');
    assert.equal(toFixedSigned(-0.3, 0), '0');
    assert.equal(toFixedSigned(-0.04, 1), '0.0');
    assert.equal(toFixedSigned(-0, 2), '0.00');
    assert.equal(toFixedSigned(-0.6, 0), '-1');
    assert.equal(toFixedSigned(2.5, 1), '2.5');
    assert.equal(formatM(-0.49), '0 m');
    assert.equal(formatM(-12.4), '-12 m');
    assert.equal(formatM(-0.001 - 1000), '-1.00 km');
    assert.equal(formatM(1520), '1.52 km');
  });

  test('bearings read 0..359°, never negative', () => {
    assert.equal(formatDeg(-0.3), '0°');
    assert.equal(formatDeg(-10), '350°');
    assert.equal(formatDeg(359.6), '0°');
    assert.equal(formatDeg(725), '5°');
    assert.equal(formatDeg(90), '90°');
  });
});

describe('24-hour clocks', () => {
  const atMs = (hours: number, minutes: number) =>
    new Date(2026, 11, 5, hours, minutes, 30).getTime();

  test('HH:MM in local time, after noon too', () => {
    assert.equal(formatClockHm(atMs(1, 27)), '01:27');
    assert.equal(formatClockHm(atMs(13, 5)), '13:05');
    assert.equal(formatClockHm(atMs(0, 0)), '00:00');
  });

  test('the sidebar hazing log says 13:27, not 01:27 PM', () => {
    const event: HazingEvent = {
      id: 'e1',
      operator: { operatorName: 'Jane Doe', agencyOrPermitId: 'MT FWP 12' },
      trackId: 3,
      pattern: {
        kind: 'orbit',
        radiusM: 40,
        speedMps: 4,
        altitudeAglM: 25,
        clockwise: true,
      },
      startedMs: atMs(13, 27),
      endedMs: atMs(13, 29),
      bearStart: null,
      bearEnd: null,
      droneStart: null,
      droneEnd: null,
      bearMovedM: -0.2,
      durationS: 120,
      outcome: 'finished',
      actions: [],
    };
    const html = renderToStaticMarkup(createElement(HazingLog, { events: [event] }));
    assert.match(html, /<strong>13:27 [^<]*bear #3<\/strong>/);
    assert.doesNotMatch(html, /\b(AM|PM)\b|-0 m/i);
    assert.match(html, /moved 0 m/);
  });
});
