import assert from 'node:assert/strict';
import { test } from 'node:test';

import { TimelineBuilder, type TimelineAxis, nextAxisUs } from '../../app/core/timeline';

const S = 1_000_000;
const T0 = Date.UTC(2024, 5, 1, 12) * 1000;

function axisOf(timesUs: number[]): { axesUs: number[]; axis: TimelineAxis } {
  const builder = new TimelineBuilder();
  const axesUs = timesUs.map((timeUs) => builder.add(timeUs));
  return { axesUs, axis: builder.build() };
}

test('inside a run the axis follows the record clock one to one', () => {
  const { axesUs, axis } = axisOf([T0, T0 + 0.5 * S, T0 + 0.5 * S, T0 + 3 * S, T0 + 8 * S]);
  assert.deepEqual(axesUs, [0, 0.5 * S, 0.5 * S, 3 * S, 8 * S]);
  assert.equal(axis.startUs, T0);
  assert.equal(axis.endUs, T0 + 8 * S);
  assert.equal(axis.axisEndUs, 8 * S);
  assert.deepEqual(axis.breaks, []);
  assert.equal(axis.timeToAxisUs(T0 + 2 * S), 2 * S);
  assert.deepEqual(axis.axisToTimeUs(7 * S), { timeUs: T0 + 7 * S, inBreak: null });
});

test('a step of exactly 5 s is still a run; more is a gap of at most 60 s of axis', () => {
  const { axesUs, axis } = axisOf([
    T0,
    T0 + 5 * S,
    T0 + 15 * S, // a 10 s gap: 10 s of axis
    T0 + 16 * S,
    T0 + 616 * S, // a 600 s gap: 60 s of axis
    T0 + 617 * S,
  ]);
  assert.deepEqual(axesUs, [0, 5 * S, 15 * S, 16 * S, 76 * S, 77 * S]);
  assert.deepEqual(axis.breaks, [
    { kind: 'gap', axisStartUs: 5 * S, axisEndUs: 15 * S, fromUs: T0 + 5 * S, toUs: T0 + 15 * S },
    {
      kind: 'gap',
      axisStartUs: 16 * S,
      axisEndUs: 76 * S,
      fromUs: T0 + 16 * S,
      toUs: T0 + 616 * S,
    },
  ]);
  // Time maps linearly across a gap: a tenth into the long one is 60 s after it starts.
  const inside = axis.axisToTimeUs(22 * S);
  assert.equal(inside.timeUs, T0 + 76 * S);
  assert.equal(inside.inBreak, axis.breaks[1]);
  assert.equal(axis.timeToAxisUs(T0 + 76 * S), 22 * S);
  assert.equal(axis.timeToAxisUs(T0 + 10 * S), 10 * S);
  // The ends of a break belong to the records either side of it.
  assert.deepEqual(axis.axisToTimeUs(16 * S), { timeUs: T0 + 16 * S, inBreak: null });
  assert.deepEqual(axis.axisToTimeUs(76 * S), { timeUs: T0 + 616 * S, inBreak: null });
  assert.deepEqual(axis.replayBreaks()[0], {
    kind: 'gap',
    axisStartMs: 5000,
    axisEndMs: 15000,
    fromMs: (T0 + 5 * S) / 1000,
    toMs: (T0 + 15 * S) / 1000,
  });
});

test('a step back of more than 1 s is a jump back of 2 s of axis', () => {
  // A second session, an hour earlier, written after the first.
  const back = T0 - 3600 * S;
  const { axesUs, axis } = axisOf([T0, T0 + 4 * S, back, back + 4 * S]);
  assert.deepEqual(axesUs, [0, 4 * S, 6 * S, 10 * S]);
  assert.deepEqual(axis.breaks, [
    { kind: 'jump-back', axisStartUs: 4 * S, axisEndUs: 6 * S, fromUs: T0 + 4 * S, toUs: back },
  ]);
  assert.equal(axis.endUs, back + 4 * S);
  assert.equal(axis.axisEndUs, 10 * S);
  // Inside a jump back the picture is the one before it.
  const inside = axis.axisToTimeUs(5 * S);
  assert.equal(inside.timeUs, T0 + 4 * S);
  assert.equal(inside.inBreak?.kind, 'jump-back');
  assert.equal(axis.timeToAxisUs(back + 1 * S), 7 * S);
  assert.equal(axis.timeToAxisUs(T0 + 1 * S), 1 * S);
  // Before every record: 0; after every record: the end; in a hole the next recorded moment.
  assert.equal(axis.timeToAxisUs(back - 1 * S), 0);
  assert.equal(axis.timeToAxisUs(T0 + 5 * S), 10 * S);
  assert.equal(axis.timeToAxisUs(back + 10 * S), 0);
});

test('small steps back are clamped: the axis never decreases', () => {
  const ms = 1000;
  const times = [T0, T0 + 2000 * ms, T0 + 1500 * ms, T0 + 1600 * ms, T0 + 1000 * ms, T0 + 3 * S];
  const { axesUs, axis } = axisOf(times);
  assert.deepEqual(axesUs, [0, 2 * S, 2 * S, 2100 * ms, 2100 * ms, 4100 * ms]);
  for (let i = 1; i < axesUs.length; i++) assert.ok(axesUs[i] >= axesUs[i - 1]);
  assert.deepEqual(axis.breaks, []);
  assert.equal(axis.axisEndUs, 4100 * ms);
  // Where clamped records share an axis the last of them answers.
  assert.equal(axis.axisToTimeUs(2 * S).timeUs, T0 + 1500 * ms);
  assert.equal(axis.axisToTimeUs(2100 * ms).timeUs, T0 + 1000 * ms);
  assert.equal(axis.axisToTimeUs(3100 * ms).timeUs, T0 + 2 * S);
  // The first run that holds a time answers.
  assert.equal(axis.timeToAxisUs(T0 + 1800 * ms), 1800 * ms);
});

test('axis and time round trip in runs and across gaps', () => {
  const times: number[] = [];
  let timeUs = T0;
  for (let i = 0; i < 200; i++) {
    times.push(timeUs);
    timeUs += i % 50 === 49 ? 120 * S : i % 37 === 36 ? 7 * S : 0.25 * S;
  }
  const { axesUs, axis } = axisOf(times);
  assert.equal(axis.breaks.length, 8);
  for (const [i, t] of times.entries()) assert.equal(axis.timeToAxisUs(t), axesUs[i]);
  for (let axisUs = 0; axisUs <= axis.axisEndUs; axisUs += 0.37 * S) {
    const { timeUs: back } = axis.axisToTimeUs(axisUs);
    assert.ok(Math.abs(axis.timeToAxisUs(back) - axisUs) < 1e-3, `axis ${axisUs}`);
  }
});

test('before the start and after the end', () => {
  const { axis } = axisOf([T0, T0 + 1 * S, T0 + 2 * S]);
  assert.equal(axis.timeToAxisUs(T0 - 10 * S), 0);
  assert.equal(axis.timeToAxisUs(T0 + 10 * S), 2 * S);
  assert.deepEqual(axis.axisToTimeUs(-5 * S), { timeUs: T0, inBreak: null });
  assert.deepEqual(axis.axisToTimeUs(9 * S), { timeUs: T0 + 2 * S, inBreak: null });
});

test('a single record is an axis of length 0', () => {
  const { axis } = axisOf([T0]);
  assert.equal(axis.axisEndUs, 0);
  assert.deepEqual(axis.axisToTimeUs(0), { timeUs: T0, inBreak: null });
  assert.equal(axis.timeToAxisUs(T0), 0);
});

test('bad input names what was wrong', () => {
  assert.throws(() => new TimelineBuilder().build(), /at least one record/);
  assert.throws(() => new TimelineBuilder().add(Number.NaN), /timeUs must be a finite number/);
  const { axis } = axisOf([T0]);
  assert.throws(() => axis.axisToTimeUs(Infinity), /axisUs must be a finite number/);
  assert.throws(() => axis.timeToAxisUs(Number.NaN), /timeUs must be a finite number/);
});

test('nextAxisUs is the rule the builder applies', () => {
  assert.equal(nextAxisUs(T0, 7, T0 + 3), 10);
  assert.equal(nextAxisUs(T0, 7, T0 - 3), 7);
  assert.equal(nextAxisUs(T0, 7, T0 + 6 * S), 7 + 6 * S);
  assert.equal(nextAxisUs(T0, 7, T0 + 6000 * S), 7 + 60 * S);
  assert.equal(nextAxisUs(T0, 7, T0 - 2 * S), 7 + 2 * S);
});
