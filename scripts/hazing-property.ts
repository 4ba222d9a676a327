// Property test of the hazing planner and the safety envelope. Random scenarios (seeded): bears
// that walk and turn, people, fences, no-fly zones, batteries that drain, random limits, random
// patterns and settings, and a drone that flies toward each accepted setpoint at up to 10 m/s.
// checkSetpoint is the gate; an independent brute-force checker (its own flat-earth geometry,
// dense sampling of the straight path, its own point-in-polygon) then verifies that no accepted
// setpoint breaks any rule, and that each refusal names a rule that is really broken (or within
// the checker's tolerance of it) after every earlier rule held. Random probe setpoints near
// bears, people and zones exercise every rule beyond what the patterns ask for.
// Usage: npm run property [-- --count 100000 --seed 1 --only SCENARIO_SEED]
// Prints one `PROPERTY {...}` line; exit 1 on any failure (each printed with its seed).

import { parseArgs } from 'node:util';

import {
  checkSetpoint,
  type EnvelopeLimits,
  type EnvelopeRule,
  type EnvelopeWorld,
  type Setpoint,
} from '../app/core/envelope';
import {
  createPattern,
  type Pattern,
  type PatternBear,
  type PatternContext,
  type PatternSettings,
} from '../app/core/patterns';
import type { LatLon } from '../app/core/types';
import { seededRandom } from '../app/station/sim/lossy';

export const RULES: readonly EnvelopeRule[] = [
  'position',
  'link',
  'altitude-floor',
  'altitude-ceiling',
  'geofence',
  'no-fly-zone',
  'person',
  'bear-standoff',
  'battery',
];

const STEPS_PER_SCENARIO = 20;
const DRONE_MAX_SPEED_MPS = 10;
const DRONE_CLIMB_MPS = 3;
/** Path samples at most this far apart. */
const SAMPLE_SPACING_M = 0.5;
/** The checker's own geometry differs from the module's by millimetres; this is its slack. */
const DISTANCE_TOLERANCE_M = 0.05;
const POLYGON_TOLERANCE_M = 0.1;
/** A refusal is justified when the rule is broken or within this of it (sampling can miss). */
const REFUSAL_SLACK_M = SAMPLE_SPACING_M / 2 + POLYGON_TOLERANCE_M;
const PCT_TOLERANCE = 1e-6;

// ---- a seeded PRNG: the simulator's (mulberry32), so a seed means the same everywhere ----

export const makeRandom = seededRandom;

// ---- the checker's own geometry: flat earth around a chosen point ----

const EARTH_RADIUS_M = 6_371_008.8;
const M_PER_DEG = (Math.PI / 180) * EARTH_RADIUS_M;

interface XY {
  x: number;
  y: number;
}

/** A local flat frame: east x, north y, metres, scaled at the frame's own latitude. */
class Frame {
  private readonly cosLat: number;
  constructor(readonly origin: LatLon) {
    this.cosLat = Math.cos((origin.latDeg * Math.PI) / 180);
  }
  xy(p: LatLon): XY {
    return {
      x: (p.lonDeg - this.origin.lonDeg) * this.cosLat * M_PER_DEG,
      y: (p.latDeg - this.origin.latDeg) * M_PER_DEG,
    };
  }
  latLon(p: XY): LatLon {
    return {
      latDeg: this.origin.latDeg + p.y / M_PER_DEG,
      lonDeg: this.origin.lonDeg + p.x / (this.cosLat * M_PER_DEG),
    };
  }
}

function flatDistanceM(a: LatLon, b: LatLon): number {
  const midCos = Math.cos(((a.latDeg + b.latDeg) / 2) * (Math.PI / 180));
  return Math.hypot((b.latDeg - a.latDeg) * M_PER_DEG, (b.lonDeg - a.lonDeg) * midCos * M_PER_DEG);
}

function haversineM(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const h =
    Math.sin(((b.latDeg - a.latDeg) * rad) / 2) ** 2 +
    Math.cos(a.latDeg * rad) *
      Math.cos(b.latDeg * rad) *
      Math.sin(((b.lonDeg - a.lonDeg) * rad) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Margins are only compared with tolerances under a metre: beyond this they are clipped. */
const MARGIN_CAP_M = 1;

interface Ring {
  xs: Float64Array;
  ys: Float64Array;
}

function toRing(frame: Frame, polygon: readonly LatLon[]): Ring {
  const xs = new Float64Array(polygon.length);
  const ys = new Float64Array(polygon.length);
  polygon.forEach((corner, i) => {
    const p = frame.xy(corner);
    xs[i] = p.x;
    ys[i] = p.y;
  });
  return { xs, ys };
}

function insideRing(px: number, py: number, ring: Ring): boolean {
  const { xs, ys } = ring;
  let inside = false;
  for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
    if (ys[i] > py !== ys[j] > py) {
      const crossX = xs[i] + ((py - ys[i]) * (xs[j] - xs[i])) / (ys[j] - ys[i]);
      if (px < crossX) inside = !inside;
    }
  }
  return inside;
}

/** Distance to the nearest edge, clipped at MARGIN_CAP_M (edges farther are skipped). */
function edgeDistanceM(px: number, py: number, ring: Ring): number {
  const { xs, ys } = ring;
  let best = MARGIN_CAP_M;
  for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
    const ax = xs[j];
    const ay = ys[j];
    const bx = xs[i];
    const by = ys[i];
    if (px < Math.min(ax, bx) - best || px > Math.max(ax, bx) + best) continue;
    if (py < Math.min(ay, by) - best || py > Math.max(ay, by) + best) continue;
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    best = Math.min(best, Math.hypot(ax + t * dx - px, ay + t * dy - py));
  }
  return best;
}

/** Positive: inside by that much; negative: outside by that much (clipped at the cap). */
function signedInsideM(px: number, py: number, ring: Ring): number {
  const edgeM = edgeDistanceM(px, py, ring);
  return insideRing(px, py, ring) ? edgeM : -edgeM;
}

/**
 * The straight path, sampled at most SAMPLE_SPACING_M apart along a linear interpolation of
 * latitude and longitude (independent of the module's plane), calling visit(x, y) per sample
 * in the given frame.
 */
function forEachSample(
  frame: Frame,
  from: LatLon,
  to: LatLon,
  count: number,
  visit: (x: number, y: number, index: number) => void,
): void {
  const a = frame.xy(from);
  const b = frame.xy(to);
  for (let i = 0; i <= count; i++) {
    const t = i / count;
    visit(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, i);
  }
}

/**
 * How well each rule holds for the setpoint: positive = kept by that much (metres, or % for
 * the battery), negative = broken by that much; polygon margins are clipped at a metre.
 * Infinity where a rule does not apply.
 */
export function ruleMargins(
  setpoint: Setpoint,
  world: EnvelopeWorld,
  limits: EnvelopeLimits,
): Record<EnvelopeRule, number> {
  const margins = Object.fromEntries(RULES.map((rule) => [rule, Infinity])) as Record<
    EnvelopeRule,
    number
  >;
  const valid =
    [setpoint.latDeg, setpoint.lonDeg, setpoint.altitudeAglM].every(Number.isFinite) &&
    Math.abs(setpoint.latDeg) <= 90 &&
    Math.abs(setpoint.lonDeg) <= 180;
  if (!valid) {
    margins.position = -Infinity;
    return margins;
  }
  margins.link = world.linkUp ? Infinity : -Infinity;
  margins['altitude-floor'] = setpoint.altitudeAglM - limits.floorAglM;
  margins['altitude-ceiling'] = limits.ceilingAglM - setpoint.altitudeAglM;

  const count = Math.max(1, Math.ceil(flatDistanceM(world.drone, setpoint) / SAMPLE_SPACING_M));
  const frame = new Frame(world.drone);
  if (world.fences.length > 0) {
    margins.geofence = -Infinity;
    for (const fence of world.fences) {
      const ring = toRing(frame, fence);
      let worst = Infinity;
      forEachSample(frame, world.drone, setpoint, count, (x, y) => {
        worst = Math.min(worst, signedInsideM(x, y, ring));
      });
      margins.geofence = Math.max(margins.geofence, worst);
    }
  }
  for (const zone of world.noFlyZones) {
    const ring = toRing(frame, zone);
    // A drone inside may fly out: from its first sample outside on, the path stays out.
    let startsInside = false;
    let out = false;
    let lastInsideM = 0;
    let worst = Infinity;
    forEachSample(frame, world.drone, setpoint, count, (x, y, i) => {
      const insideM = signedInsideM(x, y, ring);
      if (i === 0) startsInside = insideM > 0;
      if (startsInside && !out && insideM > 0) {
        lastInsideM = insideM;
        return;
      }
      out = true;
      worst = Math.min(worst, -insideM);
    });
    if (startsInside && !out) worst = -lastInsideM;
    margins['no-fly-zone'] = Math.min(margins['no-fly-zone'], worst);
  }
  const clearance = (things: readonly LatLon[], limitM: number): number => {
    let worst = Infinity;
    for (const thing of things) {
      // Each thing gets a frame of its own, so the flat-earth scale is right where it matters.
      let nearestM = Infinity;
      let startM = Infinity;
      forEachSample(new Frame(thing), world.drone, setpoint, count, (x, y, i) => {
        const m = Math.hypot(x, y);
        if (i === 0) startM = m;
        if (m < nearestM) nearestM = m;
      });
      worst = Math.min(worst, nearestM - Math.min(limitM, startM));
    }
    return worst;
  };
  margins.person = clearance(world.people, limits.personRadiusM);
  margins['bear-standoff'] = clearance(world.bears, limits.bearStandoffM);
  if (world.battery) {
    const b = world.battery;
    const flightS =
      haversineM(setpoint, world.home) / b.returnSpeedMps +
      setpoint.altitudeAglM / b.descentSpeedMps;
    margins.battery = b.remainingPct - (flightS * b.drainPctPerS + limits.batteryReservePct);
  }
  return margins;
}

function toleranceOf(rule: EnvelopeRule): number {
  if (rule === 'geofence' || rule === 'no-fly-zone') return POLYGON_TOLERANCE_M;
  if (rule === 'person' || rule === 'bear-standoff') return DISTANCE_TOLERANCE_M;
  return PCT_TOLERANCE;
}

function slackOf(rule: EnvelopeRule): number {
  if (rule === 'battery' || rule.startsWith('altitude')) return PCT_TOLERANCE;
  return REFUSAL_SLACK_M;
}

/**
 * What is wrong with the gate's answer, or null: accepted with a broken rule, refused for a
 * rule that holds, refused for a later rule while an earlier one broke, or a text that does
 * not name its rule.
 */
export function judge(
  setpoint: Setpoint,
  world: EnvelopeWorld,
  limits: EnvelopeLimits,
  verdict: { rule: EnvelopeRule; text: string } | null,
): string | null {
  const margins = ruleMargins(setpoint, world, limits);
  if (!verdict) {
    for (const rule of RULES) {
      if (margins[rule] < -toleranceOf(rule)) {
        return `accepted, but ${rule} is broken by ${(-margins[rule]).toFixed(3)}`;
      }
    }
    return null;
  }
  if (!verdict.text.startsWith(verdict.rule)) {
    return `violation text "${verdict.text}" does not name its rule ${verdict.rule}`;
  }
  if (margins[verdict.rule] > slackOf(verdict.rule)) {
    return (
      `refused for ${verdict.rule} ("${verdict.text}"), but the rule holds by ` +
      `${margins[verdict.rule].toFixed(3)}`
    );
  }
  for (const rule of RULES.slice(0, RULES.indexOf(verdict.rule))) {
    if (margins[rule] < -toleranceOf(rule)) {
      return `refused for ${verdict.rule}, but the earlier rule ${rule} is broken`;
    }
  }
  return null;
}

// ---- scenarios ----

interface Bear {
  position: XY;
  speedMps: number;
  courseDeg: number;
}

interface Scenario {
  seed: number;
  frame: Frame;
  limits: EnvelopeLimits;
  home: LatLon;
  drone: XY & { altitudeAglM: number };
  bears: Bear[];
  people: XY[];
  fences: XY[][];
  noFlyZones: XY[][];
  battery: EnvelopeWorld['battery'];
  linkDropChance: number;
  settings: PatternSettings;
  safeZone: XY[] | null;
  camera: PatternContext['camera'];
  dtS: number;
}

function polygonAround(random: () => number, centre: XY, radiusM: number): XY[] {
  const corners = 3 + Math.floor(random() * 8);
  const angles = Array.from({ length: corners }, () => random() * 2 * Math.PI).sort(
    (a, b) => a - b,
  );
  // Sorted angles around one centre give a star-shaped, simple polygon (often concave).
  return angles.map((angle) => {
    const r = radiusM * (0.4 + 0.6 * random());
    return { x: centre.x + r * Math.sin(angle), y: centre.y + r * Math.cos(angle) };
  });
}

function spread(random: () => number, radiusM: number): XY {
  const angle = random() * 2 * Math.PI;
  const r = radiusM * Math.sqrt(random());
  return { x: r * Math.sin(angle), y: r * Math.cos(angle) };
}

function between(random: () => number, min: number, max: number): number {
  return min + (max - min) * random();
}

function randomSettings(
  random: () => number,
  frame: Frame,
  limits: EnvelopeLimits,
  bear: XY,
): { settings: PatternSettings; safeZone: XY[] | null } {
  const kinds = ['push', 'push', 'orbit', 'zigzag', 'search', 'shadow'] as const;
  const kind = kinds[Math.floor(random() * kinds.length)];
  // Mostly inside the envelope's band, so that patterns get setpoints through.
  const altitude = (min: number, max: number): number => {
    const low = Math.max(min, limits.floorAglM);
    const high = Math.min(max, limits.ceilingAglM);
    const inBand = low <= high && random() < 0.85;
    return Math.round(inBand ? between(random, low, high) : between(random, min, max));
  };
  const aboveStandoff = (max: number): number =>
    Math.round(between(random, Math.max(20, limits.bearStandoffM), max));
  switch (kind) {
    case 'push': {
      const withZone = random() < 0.3;
      const zoneCentre = {
        x: bear.x + between(random, -400, 400),
        y: bear.y + between(random, -400, 400),
      };
      return {
        settings: {
          kind,
          safeBearingDeg: Math.round(random() * 360),
          safeZoneId: withZone ? 1 : null,
          standoffM: aboveStandoff(150),
          altitudeAglM: altitude(15, 40),
          successDistanceM: Math.round(between(random, 50, 300)),
          onSuccess: random() < 0.5 ? 'hold' : 'return',
        },
        safeZone: withZone ? polygonAround(random, zoneCentre, between(random, 40, 200)) : null,
      };
    }
    case 'orbit':
      return {
        settings: {
          kind,
          radiusM: random() < 0.9 ? aboveStandoff(200) : Math.round(between(random, 20, 200)),
          speedMps: between(random, 1, 15),
          altitudeAglM: altitude(10, 120),
          clockwise: random() < 0.5,
        },
        safeZone: null,
      };
    case 'zigzag': {
      const a = { x: bear.x + between(random, -200, 200), y: bear.y + between(random, -200, 200) };
      const angle = random() * 2 * Math.PI;
      const lengthM = between(random, 20, 500);
      const b = { x: a.x + lengthM * Math.sin(angle), y: a.y + lengthM * Math.cos(angle) };
      return {
        settings: {
          kind,
          line: [frame.latLon(a), frame.latLon(b)],
          halfWidthM: between(random, 5, 100),
          legSpacingM: between(random, 5, 100),
          altitudeAglM: altitude(10, 120),
          speedMps: between(random, 1, 15),
        },
        safeZone: null,
      };
    }
    case 'search': {
      const centre = { x: between(random, -300, 300), y: between(random, -300, 300) };
      return {
        settings: {
          kind,
          polygon: polygonAround(random, centre, between(random, 30, 250)).map((p) =>
            frame.latLon(p),
          ),
          altitudeAglM: altitude(10, 120),
          overlapPct: Math.round(between(random, 0, 80)),
          speedMps: between(random, 1, 15),
        },
        safeZone: null,
      };
    }
    case 'shadow':
      return {
        settings: {
          kind,
          offsetM: aboveStandoff(200),
          offsetBearingDeg: Math.round(random() * 360),
          altitudeAglM: altitude(10, 120),
        },
        safeZone: null,
      };
  }
}

export function makeScenario(seed: number): Scenario {
  const random = makeRandom(seed);
  const origin = { latDeg: between(random, -55, 55), lonDeg: between(random, -179, 179) };
  const frame = new Frame(origin);
  const floorAglM = Math.round(between(random, 5, 30));
  const limits: EnvelopeLimits = {
    floorAglM,
    ceilingAglM: Math.round(between(random, Math.max(floorAglM + 10, 20), 120)),
    bearStandoffM: Math.round(between(random, 10, 60)),
    personRadiusM: Math.round(between(random, 10, random() < 0.8 ? 60 : 200)),
    batteryReservePct: Math.round(between(random, 10, 40)),
  };
  const home = frame.latLon(spread(random, 100));
  const bears: Bear[] = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
    position: spread(random, 300),
    speedMps: random() < 0.3 ? 0 : between(random, 0, 6),
    courseDeg: random() * 360,
  }));
  const people = Array.from({ length: Math.floor(random() * 5) }, () => spread(random, 400));
  const fences =
    random() < 0.5 ? [polygonAround(random, spread(random, 100), between(random, 300, 900))] : [];
  if (fences.length > 0 && random() < 0.2) {
    fences.push(polygonAround(random, spread(random, 300), between(random, 100, 400)));
  }
  const noFlyZones = Array.from({ length: Math.floor(random() * 4) }, () =>
    polygonAround(random, spread(random, 400), between(random, 10, 80)),
  );
  const battery =
    random() < 0.2
      ? null
      : {
          remainingPct: between(random, 15, 100),
          drainPctPerS: between(random, 0.01, 0.15),
          returnSpeedMps: between(random, 4, 15),
          descentSpeedMps: between(random, 1, 3),
        };
  const dronePosition = random() < 0.3 ? frame.xy(home) : spread(random, 350);
  const { settings, safeZone } = randomSettings(random, frame, limits, bears[0].position);
  return {
    seed,
    frame,
    limits,
    home,
    drone: { ...dronePosition, altitudeAglM: between(random, 5, 80) },
    bears,
    people,
    fences,
    noFlyZones,
    battery,
    linkDropChance: random() < 0.1 ? 0.3 : 0,
    settings,
    safeZone,
    camera: {
      horizontalFovDeg: between(random, 8, 90),
      verticalFovDeg: between(random, 6, 70),
      imageWidthPx: 320 + Math.floor(random() * 1600),
    },
    dtS: [0.2, 0.25, 0.5, 1, 2][Math.floor(random() * 5)],
  };
}

export interface PropertyFailure {
  seed: number;
  step: number;
  what: string;
  detail: string;
}

export interface PropertyReport {
  scenarios: number;
  steps: number;
  /** Pattern setpoints put to the gate, and how many it passed. */
  setpointsChecked: number;
  setpointsAccepted: number;
  /** Random probe setpoints put to the gate, and how many it passed. */
  probesChecked: number;
  probesAccepted: number;
  refusedByRule: Record<EnvelopeRule, number>;
  /** Scenarios where the pattern got at least one setpoint through. */
  scenariosWithSetpoints: number;
  outcomes: Record<string, number>;
  patternsRefused: number;
  failures: PropertyFailure[];
}

function newReport(): PropertyReport {
  return {
    scenarios: 0,
    steps: 0,
    setpointsChecked: 0,
    setpointsAccepted: 0,
    probesChecked: 0,
    probesAccepted: 0,
    refusedByRule: Object.fromEntries(RULES.map((rule) => [rule, 0])) as Record<
      EnvelopeRule,
      number
    >,
    scenariosWithSetpoints: 0,
    outcomes: {},
    patternsRefused: 0,
    failures: [],
  };
}

function probeSetpoint(random: () => number, s: Scenario, world: EnvelopeWorld): Setpoint {
  const roll = random();
  if (roll < 0.01) return { latDeg: NaN, lonDeg: world.drone.lonDeg, altitudeAglM: 30 };
  if (roll < 0.02) return { latDeg: 91, lonDeg: 0, altitudeAglM: 30 };
  const anchors: XY[] = [
    ...s.bears.map((bear) => bear.position),
    ...s.people,
    ...s.noFlyZones.flat(),
    ...s.fences.flat(),
    s.frame.xy(s.home),
    { x: s.drone.x, y: s.drone.y },
  ];
  const anchor = anchors[Math.floor(random() * anchors.length)];
  const offset = spread(random, random() < 0.5 ? 40 : 250);
  return {
    ...s.frame.latLon({ x: anchor.x + offset.x, y: anchor.y + offset.y }),
    altitudeAglM: between(random, 0, 140),
  };
}

/** Runs one scenario into the report. */
export function runScenario(
  seed: number,
  report: PropertyReport,
  gate: Gate = checkSetpoint,
): void {
  const s = makeScenario(seed);
  const random = makeRandom(seed ^ 0x5bd1e995);
  const fail = (step: number, what: string, detail: string): void => {
    report.failures.push({ seed, step, what, detail });
  };
  const bearFix = (i: number, nowMs: number): PatternBear => ({
    ...s.frame.latLon(s.bears[i].position),
    trackId: i + 1,
    courseDeg: s.bears[i].speedMps > 0 ? s.bears[i].courseDeg : null,
    speedMps: s.bears[i].speedMps,
    lastSeenMs: nowMs,
  });
  let nowMs = 1_000_000;
  let hiddenUntilMs = 0;
  let lastSeenMs = nowMs;
  const context = (): PatternContext => {
    const hidden = nowMs < hiddenUntilMs;
    if (!hidden) lastSeenMs = nowMs;
    const bear = bearFix(0, lastSeenMs);
    return {
      nowMs,
      drone: { ...s.frame.latLon(s.drone), altitudeAglM: s.drone.altitudeAglM },
      bear: hidden && random() < 0.5 ? null : bear,
      safeZone: s.safeZone ? s.safeZone.map((p) => s.frame.latLon(p)) : null,
      camera: s.camera,
    };
  };
  let pattern: Pattern;
  try {
    pattern = createPattern(s.settings, context());
  } catch (error) {
    // Settings the pattern refuses (a survey with too many legs) are not a failure of safety.
    report.patternsRefused += 1;
    report.scenarios += 1;
    if (!(error instanceof Error) || error.message.length === 0) {
      fail(0, 'createPattern threw without a message', String(error));
    }
    return;
  }
  let accepted = 0;
  let battery = s.battery ? { ...s.battery } : null;
  let ended = false;
  for (let step = 0; step < STEPS_PER_SCENARIO && !ended; step++) {
    report.steps += 1;
    if (random() < 0.05) hiddenUntilMs = nowMs + between(random, 1000, 40_000);
    const world: EnvelopeWorld = {
      drone: { ...s.frame.latLon(s.drone), altitudeAglM: s.drone.altitudeAglM },
      home: s.home,
      bears: s.bears.map((bear) => s.frame.latLon(bear.position)),
      people: s.people.map((p) => s.frame.latLon(p)),
      fences: s.fences.map((fence) => fence.map((p) => s.frame.latLon(p))),
      noFlyZones: s.noFlyZones.map((zone) => zone.map((p) => s.frame.latLon(p))),
      battery,
      linkUp: random() >= s.linkDropChance,
    };
    const ctx = context();
    let setpoint: Setpoint | null = null;
    try {
      const result = pattern.step(ctx);
      if (result.outcome) {
        report.outcomes[result.outcome] = (report.outcomes[result.outcome] ?? 0) + 1;
        ended = true;
      }
      setpoint = result.setpoint;
      if (typeof result.text !== 'string' || result.text.length === 0) {
        fail(step, 'pattern step without a text', JSON.stringify(result));
      }
    } catch (error) {
      fail(step, 'pattern step threw', error instanceof Error ? error.message : String(error));
      return;
    }
    let flyTo: Setpoint | null = null;
    if (setpoint) {
      report.setpointsChecked += 1;
      const verdict = gate(setpoint, world, s.limits);
      const wrong = judge(setpoint, world, s.limits, verdict);
      if (wrong)
        fail(step, `pattern ${s.settings.kind}`, `${wrong}; setpoint ${JSON.stringify(setpoint)}`);
      if (verdict) report.refusedByRule[verdict.rule] += 1;
      else {
        report.setpointsAccepted += 1;
        accepted += 1;
        flyTo = setpoint;
      }
    }
    const probe = probeSetpoint(random, s, world);
    report.probesChecked += 1;
    const probeVerdict = gate(probe, world, s.limits);
    const probeWrong = judge(probe, world, s.limits, probeVerdict);
    if (probeWrong) fail(step, 'probe', `${probeWrong}; setpoint ${JSON.stringify(probe)}`);
    if (probeVerdict) report.refusedByRule[probeVerdict.rule] += 1;
    else report.probesAccepted += 1;

    // The world moves on: the drone flies toward the accepted setpoint (else holds), bears
    // walk and turn, the battery drains.
    if (flyTo) {
      const target = s.frame.xy(flyTo);
      const dx = target.x - s.drone.x;
      const dy = target.y - s.drone.y;
      const gapM = Math.hypot(dx, dy);
      const moveM = Math.min(gapM, DRONE_MAX_SPEED_MPS * s.dtS);
      if (gapM > 0) {
        s.drone.x += (dx / gapM) * moveM;
        s.drone.y += (dy / gapM) * moveM;
      }
      const climbM = flyTo.altitudeAglM - s.drone.altitudeAglM;
      s.drone.altitudeAglM +=
        Math.sign(climbM) * Math.min(Math.abs(climbM), DRONE_CLIMB_MPS * s.dtS);
    }
    for (const bear of s.bears) {
      bear.courseDeg += between(random, -30, 30);
      const rad = (bear.courseDeg * Math.PI) / 180;
      bear.position.x += Math.sin(rad) * bear.speedMps * s.dtS;
      bear.position.y += Math.cos(rad) * bear.speedMps * s.dtS;
    }
    if (battery) {
      battery = { ...battery, remainingPct: battery.remainingPct - battery.drainPctPerS * s.dtS };
    }
    nowMs += s.dtS * 1000;
  }
  report.scenarios += 1;
  if (accepted > 0) report.scenariosWithSetpoints += 1;
}

/** What decides whether a setpoint goes out: checkSetpoint, or a broken one to test the test. */
export type Gate = (
  setpoint: Setpoint,
  world: EnvelopeWorld,
  limits: EnvelopeLimits,
) => { rule: EnvelopeRule; text: string } | null;

export function runHazingProperty(options: {
  count: number;
  seed: number;
  gate?: Gate;
  stopOnFailure?: boolean;
}): PropertyReport {
  const report = newReport();
  for (let i = 0; i < options.count; i++) {
    runScenario(scenarioSeed(options.seed, i), report, options.gate);
    if (options.stopOnFailure && report.failures.length > 0) break;
  }
  return report;
}

export function scenarioSeed(baseSeed: number, index: number): number {
  return (Math.imul(baseSeed, 1_000_003) + index) >>> 0;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string' },
    },
  });
  const count = Number(values.count);
  const seed = Number(values.seed);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
    process.stderr.write('usage: hazing-property [--count N] [--seed N] [--only SCENARIO_SEED]\n');
    process.exit(2);
  }
  let report: PropertyReport;
  if (values.only !== undefined) {
    report = newReport();
    runScenario(Number(values.only), report);
  } else {
    report = newReport();
    const everyN = Math.max(1, Math.floor(count / 10));
    for (let i = 0; i < count; i++) {
      runScenario(scenarioSeed(seed, i), report);
      if ((i + 1) % everyN === 0) process.stderr.write(`${i + 1} of ${count} scenarios\n`);
    }
  }
  for (const { seed: failedSeed, step, what, detail } of report.failures.slice(0, 50)) {
    process.stdout.write(`FAIL scenario seed ${failedSeed} step ${step}: ${what}: ${detail}\n`);
  }
  const { failures, ...summary } = report;
  process.stdout.write(`PROPERTY ${JSON.stringify({ ...summary, failures: failures.length })}\n`);
  process.exit(failures.length > 0 ? 1 : 0);
}

if (/hazing-property\.ts$/.test(process.argv[1] ?? '')) main();
