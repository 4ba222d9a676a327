// Hazing from the operator's screen, in real Chromium against the real station server on
// 127.0.0.1, in front of a scripted station that records every command the server lets through
// and answers as the real one would (action status, hazing log entries, people). Plan, confirm,
// watch, abort; people marks, zone kinds, the area patterns; and an observer who commands
// nothing.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { toDisposable, type Disposable } from '../../app/core/disposable';
import { DEFAULT_ENVELOPE, type EnvelopeLimits, type Violation } from '../../app/core/envelope';
import { bearingDeg, destination, distanceM, offsetNorthEast } from '../../app/core/geodesy';
import type { HazingEvent, HazingOperator } from '../../app/core/hazing-log';
import {
  checkPatternSettings,
  groundResolution,
  previewPattern,
  type PatternSettings,
} from '../../app/core/patterns';
import type {
  ActionStatus,
  KnownPerson,
  OperatorCommand,
  Role,
  ServerMessage,
} from '../../app/core/protocol';
import type { CommandOutcome, LatLon, MapTarget, VehicleState } from '../../app/core/types';
import type { ProtectedZone } from '../../app/core/zones';
import { projectRoot } from '../../app/station/paths';
import { startServer, type StationApi, type StationServer } from '../../app/station/server';
import { openTileStore, type TileStore } from '../../app/station/tiles/tile-store';
import { plural } from '../../app/ui/components/format';
import { holdingText, stretchRefusal, violationWords } from '../../app/ui/components/HazingPanel';
import { draftSettings, fieldRange, newPatternDraft } from '../../app/ui/components/patternDraft';
import { addToast, commandToast } from '../../app/ui/components/Toasts';
import { chromiumMissing, launchChromium, openTrackedPage } from '../helpers/browser';
import { CONRAD_MT, makeTileFolder } from '../helpers/tiles';
import { flyingVehicle, scriptedHello } from '../helpers/vehicle-state';

const UI_DIR = path.join(projectRoot, 'dist', 'ui');
const ARTIFACTS = path.join(projectRoot, 'test-artifacts', 'hazing');
const TOKEN = 'test-operator-token-hazing-0123456789';
const HOME = { ...CONRAD_MT, altitudeMslM: 1060 };
const BEAR_ID = 7;
const BEAR = destination(HOME, 0, 40);
const DRONE = offsetNorthEast(HOME, -20, 0);
const DRONE_ALTITUDE_M = 20;
const OPERATOR: HazingOperator = {
  operatorName: 'Jane Doe',
  agencyOrPermitId: 'MT FWP permit 2026-17',
};
const skip =
  chromiumMissing() ||
  (existsSync(path.join(UI_DIR, 'index.html'))
    ? false
    : `${UI_DIR} is missing: run "node scripts/build.mjs" first`);

/** A station that keeps every command and answers the way the real one does. */
class ScriptedStation implements StationApi {
  readonly commands: OperatorCommand[] = [];
  private readonly listeners = new Set<(message: ServerMessage) => void>();
  vehicle: VehicleState = vehicleAt(DRONE);
  envelope: EnvelopeLimits = DEFAULT_ENVELOPE;
  targets: MapTarget[] = [];
  action: ActionStatus | null = null;
  operator: HazingOperator | null = null;
  people: KnownPerson[] = [];
  zones: ProtectedZone[] = [];
  events: HazingEvent[] = [];
  private marks = 0;

  hello(role: Role): Extract<ServerMessage, { type: 'hello' }> {
    return scriptedHello(role, HOME, { envelope: this.envelope, speakerAvailable: true });
  }

  snapshot(): ServerMessage[] {
    return [
      { type: 'vehicle', vehicle: this.vehicle },
      { type: 'targets', targets: this.targets },
      { type: 'action', action: this.action },
      { type: 'people', people: this.people },
      { type: 'zones', zones: this.zones },
      { type: 'hazing-operator', operator: this.operator },
      ...this.events.map((event): ServerMessage => ({ type: 'hazing-event', event })),
    ];
  }

  onMessage(listener: (message: ServerMessage) => void): Disposable {
    this.listeners.add(listener);
    return toDisposable(() => {
      this.listeners.delete(listener);
    });
  }

  hazingLog(): { json: string; csv: string } {
    return {
      json: JSON.stringify(this.events),
      csv: `id,outcome\n${this.events.map((e) => `${e.id},${e.outcome ?? ''}`).join('\n')}\n`,
    };
  }

  async execute(command: OperatorCommand): Promise<CommandOutcome> {
    this.commands.push(command);
    switch (command.kind) {
      case 'set-operator': {
        this.operator = command.operator;
        this.emit({ type: 'hazing-operator', operator: command.operator });
        const { operatorName, agencyOrPermitId } = command.operator;
        // The real station's words, which already name what was set.
        const text = `Hazing operator: ${operatorName}, ${agencyOrPermitId}`;
        return { ok: true, result: 'ACCEPTED', text };
      }
      case 'nudge': {
        const { bearingDeltaDeg, distanceDeltaM } = command.nudge;
        const text =
          bearingDeltaDeg !== undefined
            ? `Nudged: turned ${bearingDeltaDeg} deg`
            : `Nudged: ${(distanceDeltaM ?? 0) > 0 ? 'farther' : 'closer'} by ` +
              `${Math.abs(distanceDeltaM ?? 0)} m`;
        return { ok: true, result: 'ACCEPTED', text };
      }
      case 'speaker':
        // The vehicle link's words for the relay under the speaker.
        return {
          ok: true,
          result: 'ACCEPTED',
          text: `Relay 0 ${command.on ? 'on' : 'off'}: accepted (ACCEPTED)`,
        };
      case 'start-pattern':
        this.startPattern(command.targetId, command.settings);
        break;
      case 'abort':
        this.endPattern();
        return { ok: true, result: 'ACCEPTED', text: 'Holding position (BRAKE)' };
      case 'mark-person':
        this.marks += 1;
        this.setPeople([
          ...this.people,
          {
            id: `mark-${this.marks}`,
            source: 'marked',
            position: command.position,
            lastSeenMs: Date.now(),
          },
        ]);
        break;
      case 'remove-person':
        this.setPeople(this.people.filter((person) => person.id !== command.personId));
        break;
      default:
        break;
    }
    return { ok: true, result: 'ACCEPTED', text: `${command.kind} accepted` };
  }

  setAction(patch: Partial<ActionStatus>): void {
    if (!this.action) throw new Error('no pattern under way');
    this.action = { ...this.action, ...patch };
    this.emit({ type: 'action', action: this.action });
  }

  setVehicle(patch: Partial<VehicleState>): void {
    this.vehicle = { ...this.vehicle, ...patch, lastHeartbeatMs: Date.now() };
    this.emit({ type: 'vehicle', vehicle: this.vehicle });
  }

  setTargets(targets: MapTarget[]): void {
    this.targets = targets;
    this.emit({ type: 'targets', targets });
  }

  setPeople(people: KnownPerson[]): void {
    this.people = people;
    this.emit({ type: 'people', people });
  }

  emit(message: ServerMessage): void {
    for (const listener of this.listeners) listener(message);
  }

  private startPattern(targetId: number | null, settings: PatternSettings): void {
    const startedMs = Date.now();
    const event: HazingEvent = {
      id: `2026-12-04T22-00-00Z-${this.events.length + 1}`,
      operator: this.operator!,
      trackId: targetId,
      pattern: settings,
      startedMs,
      endedMs: null,
      bearStart: BEAR,
      bearEnd: null,
      droneStart: DRONE,
      droneEnd: null,
      bearMovedM: null,
      durationS: null,
      outcome: null,
      actions: [{ timeMs: startedMs, action: 'start', detail: settings.kind }],
    };
    this.events.push(event);
    this.emit({ type: 'hazing-event', event });
    this.action = {
      kind: settings.kind,
      phase: 'starting',
      eventId: event.id,
      targetId,
      settings,
      text: 'starting',
      violation: null,
      setpoint: null,
      preview: [],
      bearStart: BEAR,
      bearMovedM: null,
      startedMs,
      awaitingChoice: false,
    };
    this.emit({ type: 'action', action: this.action });
  }

  private endPattern(): void {
    if (!this.action) return;
    const endedMs = Date.now();
    this.setAction({ phase: 'aborted', text: 'aborted: holding', awaitingChoice: true });
    const index = this.events.findIndex((event) => event.id === this.action?.eventId);
    if (index < 0) return;
    const event: HazingEvent = {
      ...this.events[index],
      endedMs,
      outcome: 'aborted',
      bearEnd: BEAR,
      droneEnd: DRONE,
      bearMovedM: 12,
      durationS: (endedMs - this.events[index].startedMs) / 1000,
      actions: [...this.events[index].actions, { timeMs: endedMs, action: 'abort', detail: '' }],
    };
    this.events[index] = event;
    this.emit({ type: 'hazing-event', event });
  }
}

function vehicleAt(position: LatLon): VehicleState {
  return flyingVehicle({ ...position, altitudeMslM: 1080, altitudeRelM: DRONE_ALTITUDE_M }, HOME);
}

/** Polls until check returns a value other than undefined. */
async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function centre(box: { x: number; y: number; width: number; height: number }) {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

type Box = { x: number; y: number; width: number; height: number };

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Every button, field and select inside the panel is at least 44 px tall: gloves. */
async function assertBigTargets(page: Page, testId: string): Promise<void> {
  const small = await page.getByTestId(testId).evaluate((panel) =>
    [...panel.querySelectorAll('button, input, select')]
      .map((element) => ({
        what: element.getAttribute('data-testid') ?? element.textContent ?? element.tagName,
        heightPx: element.getBoundingClientRect().height,
      }))
      .filter((target) => target.heightPx < 44),
  );
  assert.deepEqual(small, [], `small touch targets in ${testId}`);
}

/** Taps the bear's marker until its card opens: a tap can land while the map re-renders. */
async function openBearCard(page: Page): Promise<void> {
  const marker = page.locator(`.ursa-target[data-target-id="${BEAR_ID}"]`);
  await marker.waitFor({ timeout: 15_000 });
  for (let attempt = 1; attempt <= 3; attempt++) {
    await marker.click();
    const shown = await page
      .getByTestId('target-panel')
      .waitFor({ timeout: 5_000 })
      .then(() => true)
      .catch(() => false);
    if (shown) return;
  }
  throw new Error('the bear card did not open');
}

/** Presses and holds the confirm button until the station has the command. */
async function holdToConfirm(page: Page, arrived: () => boolean): Promise<void> {
  const box = await page.getByTestId('pattern-confirm').boundingBox();
  assert.ok(box, 'the start button is on screen');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  try {
    await eventually('the command to arrive', () => (arrived() ? true : undefined));
  } finally {
    await page.mouse.up();
  }
}

// The pure parts of the screens, checked without a browser: they run even where Chromium or
// dist/ is missing.
describe('hazing screens: words and limits', () => {
  test('a holding rule reads in words, not its id', () => {
    const words = (rule: Violation['rule'], text: string) => violationWords({ rule, text });
    assert.equal(
      words('altitude-floor', 'altitude-floor: 20 m above ground is under the 30 m floor'),
      'Too low: 20 m above ground is under the 30 m floor',
    );
    assert.equal(
      words('person', 'person 12 m from the path; keep 30 m'),
      'Person: 12 m from the path; keep 30 m',
    );
    assert.equal(
      words('bear-standoff', 'bear-standoff: bear 15 m from the path; keep 20 m'),
      'Bear standoff: bear 15 m from the path; keep 20 m',
    );
    assert.equal(
      words('no-fly-zone', 'no-fly-zone 2: the path crosses it'),
      'No-fly zone 2: the path crosses it',
    );
    assert.equal(
      words('geofence', 'geofence: the setpoint is 4 m outside the fence'),
      'Geofence: the setpoint is 4 m outside the fence',
    );
    assert.equal(words('battery', 'battery 30% left; 40% needed'), 'Battery: 30% left; 40% needed');
    assert.equal(
      words('link', 'link lost: no setpoints until it is back'),
      'Link: lost: no setpoints until it is back',
    );
    assert.equal(
      holdingText(
        { rule: 'altitude-ceiling', text: 'altitude-ceiling: 130 m above ground' },
        {
          ...DEFAULT_ENVELOPE,
        },
      ),
      'HOLDING · Too high: 130 m above ground; ceiling 120 m',
    );
  });

  test('toasts say the station words once', () => {
    const toast = (kind: string, outcome: CommandOutcome) => commandToast(kind, outcome, 1, 0);
    const set = toast('set-operator', {
      ok: true,
      result: 'ACCEPTED',
      text: 'Hazing operator: Jane Doe, MT FWP permit 2026-17',
    });
    assert.deepEqual([set.title, set.text], ['', set.text]);
    const nudged = toast('nudge', { ok: true, result: 'ACCEPTED', text: 'Nudged: turned 15 deg' });
    assert.deepEqual([nudged.title, nudged.text], ['', 'Nudged: turned 15 deg']);
    const relay = toast('speaker', {
      ok: true,
      result: 'ACCEPTED',
      text: 'Relay 0 on: accepted (ACCEPTED)',
    });
    assert.deepEqual([relay.title, relay.text], ['Speaker', 'Relay 0 on: accepted']);
    const abort = toast('abort', {
      ok: true,
      result: 'ACCEPTED',
      text: 'Holding position (BRAKE)',
    });
    assert.deepEqual([abort.title, abort.text], ['ABORT', 'Holding position (BRAKE)']);
    // Two toasts at most: a third pushes the oldest out.
    let shown = addToast([], abort);
    shown = addToast(shown, { ...nudged, id: 2 });
    shown = addToast(shown, { ...relay, id: 3 });
    assert.deepEqual(
      shown.map((t) => t.id),
      [2, 3],
    );
  });

  test("heights are narrowed to the envelope's floor and ceiling", () => {
    const envelope = { ...DEFAULT_ENVELOPE, floorAglM: 30, ceilingAglM: 100 };
    assert.deepEqual(fieldRange('push', 'altitudeAglM', envelope), {
      min: 30,
      max: 40,
      narrowedBy: 'envelope floor 30 m',
    });
    assert.deepEqual(fieldRange('search', 'altitudeAglM', envelope), {
      min: 30,
      max: 100,
      narrowedBy: 'envelope floor 30 m, envelope ceiling 100 m',
    });
    assert.deepEqual(fieldRange('push', 'altitudeAglM', DEFAULT_ENVELOPE), {
      min: 15,
      max: 40,
      narrowedBy: null,
    });
    const defaults = {
      takeoffAltitudeM: 20,
      standoffM: 30,
      pushAltitudeM: 25,
      envelope,
      speakerAvailable: false,
    };
    const draft = newPatternDraft('push', BEAR_ID, defaults);
    assert.equal(draft.fields.altitudeAglM, '30', 'the default starts inside the envelope');
    const low = draftSettings(
      { ...draft, safeBearingDeg: 90, fields: { ...draft.fields, altitudeAglM: '25' } },
      () => null,
      envelope,
    );
    assert.ok('error' in low && /outside 30-40 m \(envelope floor 30 m\)/.test(low.error));
  });

  test('a nudge the station would refuse is known before it is sent', () => {
    const settings = checkPatternSettings({
      kind: 'push',
      safeBearingDeg: 90,
      safeZoneId: null,
      standoffM: 20,
      altitudeAglM: 30,
      successDistanceM: 200,
      onSuccess: 'hold',
    });
    const action = { kind: 'push', settings } as ActionStatus;
    assert.match(String(stretchRefusal(action, -5, DEFAULT_ENVELOPE)), /20 m bear standoff/);
    assert.equal(stretchRefusal(action, 5, DEFAULT_ENVELOPE), null);
    const far = { kind: 'push', settings: { ...settings, standoffM: 150 } } as ActionStatus;
    assert.match(String(stretchRefusal(far, 5, DEFAULT_ENVELOPE)), /over the 150 m most/);
  });

  test('counts are plural only when needed', () => {
    assert.equal(plural(1, 'action'), '1 action');
    assert.equal(plural(2, 'action'), '2 actions');
    assert.equal(plural(0, 'action'), '0 actions');
  });
});

describe('hazing in Chromium', { skip }, () => {
  let station: ScriptedStation;
  let server: StationServer;
  let tiles: TileStore;
  let tileDir: string;
  let browser: Browser;

  const count = (kind: OperatorCommand['kind']) =>
    station.commands.filter((command) => command.kind === kind).length;
  const last = <K extends OperatorCommand['kind']>(kind: K) =>
    station.commands
      .filter((c): c is Extract<OperatorCommand, { kind: K }> => c.kind === kind)
      .at(-1);

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    tileDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-hazing-tiles-'));
    makeTileFolder(tileDir, { center: CONRAD_MT, minZoom: 15, maxZoom: 17, radiusTiles: 3 });
    tiles = openTileStore(tileDir);
    station = new ScriptedStation();
    station.targets = [
      {
        id: BEAR_ID,
        className: 'bear',
        position: BEAR,
        score: 0.93,
        firstSeenMs: Date.now() - 5_000,
        lastSeenMs: Date.now(),
        hits: 9,
        speedMps: 0,
        courseDeg: null,
      },
    ];
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      api: station,
      operatorToken: TOKEN,
      tiles,
      uiDir: UI_DIR,
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    tiles?.dispose();
    if (tileDir) rmSync(tileDir, { recursive: true, force: true });
  });

  test('plan a push, confirm by holding, watch it, abort with Esc and the button', async () => {
    const tracked = await openTrackedPage(browser, server.operatorUrl);
    const { page } = tracked;
    try {
      await page.getByTestId('abort-button').waitFor({ timeout: 15_000 });
      const status = page.getByTestId('status-hazing-operator');
      assert.match(await status.innerText(), /Hazing operator not set/);

      // Plan: the first pattern of the session asks who hazes, under which permit.
      await openBearCard(page);
      await page.getByTestId('push-start').click();
      await page.getByTestId('operator-dialog').waitFor();
      assert.equal(await page.getByTestId('operator-save').isDisabled(), true);
      await page.getByTestId('operator-name').fill(OPERATOR.operatorName);
      await page.getByTestId('operator-permit').fill(OPERATOR.agencyOrPermitId);
      await page.screenshot({ path: path.join(ARTIFACTS, 'operator-dialog.png') });
      await page.getByTestId('operator-save').click();
      await page.getByTestId('operator-dialog').waitFor({ state: 'detached' });
      assert.deepEqual(last('set-operator'), { kind: 'set-operator', operator: OPERATOR });
      await page.waitForFunction(() =>
        document
          .querySelector('[data-testid="status-hazing-operator"]')
          ?.textContent?.includes('Hazing as Jane Doe, MT FWP permit 2026-17'),
      );

      // The push form opened by itself once the operator was known: tap east of the bear.
      await page.getByTestId('map-pick-hint').waitFor();
      assert.equal(await page.getByTestId('pattern-standoffM').inputValue(), '30');
      assert.equal(await page.getByTestId('pattern-altitudeAglM').inputValue(), '25');
      assert.equal(await page.getByTestId('pattern-successDistanceM').inputValue(), '200');
      const bearBox = await page.locator(`.ursa-target[data-target-id="${BEAR_ID}"]`).boundingBox();
      assert.ok(bearBox);
      const bearAt = centre(bearBox);
      await page.mouse.click(bearAt.x + 200, bearAt.y);
      const bearing = Number(await page.getByTestId('push-bearing').getAttribute('data-value'));
      assert.ok(Math.abs(bearing - 90) < 3, `bearing ${bearing} is about east`);

      // Preview: the core's own path, dashed, with the standoff circle and the safe arrow.
      const settings = checkPatternSettings({
        kind: 'push',
        safeBearingDeg: bearing,
        safeZoneId: null,
        standoffM: 30,
        altitudeAglM: 25,
        successDistanceM: 200,
        onSuccess: 'hold',
      });
      const path0 = previewPattern(settings, {
        nowMs: Date.now(),
        drone: { ...DRONE, altitudeAglM: DRONE_ALTITUDE_M },
        bear: { ...BEAR, trackId: BEAR_ID, courseDeg: null, speedMps: 0, lastSeenMs: Date.now() },
        safeZone: null,
        camera: { horizontalFovDeg: 8, verticalFovDeg: 6, imageWidthPx: 640 },
      });
      assert.ok(path0.length >= 1, 'the core previews a path');
      const preview = page.getByTestId('plan-target-preview');
      await preview.waitFor();
      const first = {
        latDeg: Number(await preview.getAttribute('data-lat')),
        lonDeg: Number(await preview.getAttribute('data-lon')),
      };
      assert.ok(distanceM(first, path0[0]) < 0.5, 'the map starts the path where the core does');
      assert.equal(
        Number(await preview.getAttribute('data-path-points')),
        path0.length,
        'the whole preview is drawn',
      );
      assert.equal(await page.locator('.ursa-standoff.ursa-preview').count(), 1);
      assert.equal(await page.locator('.ursa-safe-arrow.ursa-preview').count(), 1);
      if (path0.length >= 2) {
        assert.equal(
          await page.locator('.ursa-plan-path.ursa-preview').getAttribute('stroke-dasharray'),
          '10 8',
        );
      }
      assert.equal(
        await page.getByTestId('pattern-plan').innerText(),
        `Push bear #${BEAR_ID} toward E (${Math.round(bearing)} deg) from 30 m behind at 25 m; ` +
          'succeeds at 200 m, then hold',
      );

      // A setting out of range says which, in the core's words, and nothing can start.
      await page.getByTestId('pattern-standoffM').fill('5');
      assert.match(
        await page.getByTestId('pattern-error').innerText(),
        /standoffM 5 is outside 20-150 m/,
      );
      assert.equal(await page.getByTestId('pattern-confirm').isDisabled(), true);
      await page.getByTestId('pattern-standoffM').fill('30');
      await page.getByTestId('pattern-error').waitFor({ state: 'detached' });
      await page.screenshot({ path: path.join(ARTIFACTS, 'push-preview.png') });
      await assertBigTargets(page, 'pattern-flow');

      // Confirm: a click is not a hold.
      await page.getByTestId('pattern-confirm').click();
      assert.equal(await page.getByTestId('pattern-confirm').getAttribute('data-hint'), 'true');
      await page.waitForTimeout(2_000);
      assert.equal(count('start-pattern'), 0, 'a click starts nothing');
      await holdToConfirm(page, () => count('start-pattern') === 1);
      assert.deepEqual(last('start-pattern'), {
        kind: 'start-pattern',
        targetId: BEAR_ID,
        settings,
      });
      await page.getByTestId('pattern-flow').waitFor({ state: 'detached' });

      // Watch: phase, the station's words, how far the bear moved of the goal, time.
      const setpoint = { ...destination(BEAR, 270, 30), altitudeAglM: 25 };
      station.setAction({
        phase: 'flying',
        text: 'pushing: bear 12 m of 200 m',
        bearMovedM: 12,
        setpoint,
        preview: [setpoint, destination(BEAR, 90, 170)],
      });
      const panel = page.getByTestId('action-status');
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="action-status"]')?.getAttribute('data-phase') ===
          'flying',
      );
      assert.equal(
        await page.getByTestId('action-text').innerText(),
        'pushing: bear 12 m of 200 m',
      );
      assert.equal(await page.getByTestId('action-bear-moved').innerText(), '12 m of 200 m');
      // A push toward a bearing is measured along it: the panel shows that, and the whole move.
      station.setAction({
        phase: 'flying',
        text: 'pushing: bear 10 m of 200 m toward E (12 m moved)',
        bearMovedM: 12,
        bearTowardM: 10,
        setpoint,
        preview: [setpoint, destination(BEAR, 90, 170)],
      });
      const toward = page.getByTestId('action-bear-toward');
      await toward.waitFor();
      assert.equal(await toward.innerText(), '10 m of 200 m (12 m moved)');
      assert.match(await page.getByTestId('action-elapsed').innerText(), /^\d+ s$/);
      assert.match(await panel.innerText(), new RegExp(`Push bear #${BEAR_ID}`));
      const actionTarget = page.getByTestId('plan-target-action');
      await actionTarget.waitFor();
      assert.ok(
        Math.abs(Number(await actionTarget.getAttribute('data-lat')) - setpoint.latDeg) < 1e-9,
        'the setpoint is drawn where it was sent',
      );
      assert.equal(await page.locator('.ursa-plan-path.ursa-action').count(), 1);

      // Nudges and the speaker while it flies.
      await page.getByTestId('nudge-right').click();
      await eventually('a nudge', () => (count('nudge') === 1 ? true : undefined));
      assert.deepEqual(last('nudge'), { kind: 'nudge', nudge: { bearingDeltaDeg: 15 } });
      await page.getByTestId('nudge-farther').click();
      await eventually('a second nudge', () => (count('nudge') === 2 ? true : undefined));
      assert.deepEqual(last('nudge'), { kind: 'nudge', nudge: { distanceDeltaM: 5 } });
      await page.getByTestId('speaker-toggle').click();
      await eventually('the speaker', () => (count('speaker') === 1 ? true : undefined));
      assert.deepEqual(last('speaker'), { kind: 'speaker', on: true });
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="speaker-toggle"]')?.getAttribute('data-on') ===
          'true',
      );

      // Holding with no rule broken (the bear is out of sight): the banner says why all the same.
      station.setAction({
        phase: 'holding',
        setpoint: null,
        violation: null,
        text: 'bear lost 6 s ago: holding',
      });
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="holding-banner"]')?.textContent ===
          'HOLDING · bear lost 6 s ago: holding',
      );

      // A rule stops the newest setpoint: a loud banner says which.
      station.setAction({
        phase: 'holding',
        setpoint: null,
        violation: { rule: 'person', text: 'person 12 m from the path; keep 30 m' },
      });
      const banner = page.getByTestId('holding-banner');
      await banner.waitFor();
      // The rule in words, not its id.
      assert.equal(await banner.innerText(), 'HOLDING · Person: 12 m from the path; keep 30 m');
      assert.equal(await banner.getAttribute('data-rule'), 'person');
      await page.screenshot({ path: path.join(ARTIFACTS, 'push-holding.png') });
      await assertBigTargets(page, 'action-status');

      // On a small laptop screen ABORT and the banner are still in sight, side by side.
      await page.setViewportSize({ width: 1024, height: 640 });
      await page.waitForTimeout(300);
      const abortBox = await page.getByTestId('abort-button').boundingBox();
      const bannerBox = await banner.boundingBox();
      assert.ok(abortBox && abortBox.y >= 0 && abortBox.y + abortBox.height <= 640);
      assert.ok(bannerBox && bannerBox.y + bannerBox.height <= 640);
      assert.ok(!overlaps(abortBox, bannerBox), 'the banner does not cover ABORT');
      await page.screenshot({ path: path.join(ARTIFACTS, 'push-holding-1024.png') });
      await page.setViewportSize({ width: 1400, height: 860 });

      // Abort: one Escape press is one abort, from anywhere, no confirm.
      await page.keyboard.press('Escape');
      await eventually('the abort', () => (count('abort') === 1 ? true : undefined));
      await page.getByTestId('abort-choice').waitFor();
      await page.waitForTimeout(500);
      assert.equal(count('abort'), 1, 'Escape sent exactly one abort');
      await banner.waitFor({ state: 'detached' });
      assert.equal(await panel.getAttribute('data-phase'), 'aborted');
      assert.equal(await page.getByTestId('nudges').count(), 0, 'no nudges once it ended');
      await page.screenshot({ path: path.join(ARTIFACTS, 'abort-choice.png') });

      // The button does the same, once per click.
      await page.getByTestId('abort-button').click();
      await eventually('the second abort', () => (count('abort') === 2 ? true : undefined));
      await page.waitForTimeout(500);
      assert.equal(count('abort'), 2, 'the button sent exactly one abort');

      // Then the operator chooses: home or land here.
      await page.getByTestId('choice-return-home').click();
      await eventually('return home', () => (count('return-home') === 1 ? true : undefined));
      await page.getByTestId('choice-land').click();
      await eventually('land', () => (count('land') === 1 ? true : undefined));
      station.setAction({ phase: 'returning', awaitingChoice: false, text: 'landing' });
      await page.getByTestId('abort-choice').waitFor({ state: 'detached' });

      // The hazing log: the entry with its outcome, and the exports the station serves.
      const entry = page.getByTestId('hazing-event').first();
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="hazing-event"]')?.getAttribute('data-outcome') ===
          'aborted',
      );
      assert.match(await entry.innerText(), new RegExp(`Push bear #${BEAR_ID}`));
      assert.match(await entry.innerText(), /Aborted · moved 12 m/);
      assert.match(await entry.innerText(), /Jane Doe, MT FWP permit 2026-17/);
      for (const [testId, file] of [
        ['hazing-log-csv', '/hazing-log.csv'],
        ['hazing-log-json', '/hazing-log.json'],
      ] as const) {
        const link = page.getByTestId(testId);
        assert.equal(await link.getAttribute('href'), file);
        assert.ok((await link.getAttribute('download')) !== null, `${file} downloads`);
        const box = await link.boundingBox();
        assert.ok(box && box.height >= 44, `${testId} is a big target`);
      }
      const csv = await page.evaluate(() => fetch('/hazing-log.csv').then((r) => r.text()));
      assert.equal(csv, station.hazingLog().csv);

      // Reloaded, the page knows the operator and does not ask again.
      await page.reload();
      await page.getByTestId('abort-button').waitFor({ timeout: 15_000 });
      await page.waitForFunction(
        () =>
          document
            .querySelector('[data-testid="status-hazing-operator"]')
            ?.getAttribute('data-set') === 'true',
      );
      await openBearCard(page);
      await page.getByTestId('orbit-start').click();
      await page.getByTestId('pattern-flow').waitFor();
      assert.equal(await page.getByTestId('operator-dialog').count(), 0, 'not asked again');
      assert.match(
        await page.getByTestId('pattern-plan').innerText(),
        new RegExp(`^Orbit bear #${BEAR_ID} at 50 m radius, 5 m/s clockwise, at 30 m$`),
      );
      await page.getByTestId('pattern-cancel').click();

      assert.deepEqual(tracked.errors, []);
      assert.deepEqual(tracked.blocked, []);
    } finally {
      await tracked.dispose();
    }
  });

  test('an ABORT with no pattern under way still offers home or land', async () => {
    station.action = null;
    station.emit({ type: 'action', action: null });
    const tracked = await openTrackedPage(browser, server.operatorUrl);
    const { page } = tracked;
    try {
      await page.getByTestId('abort-button').waitFor({ timeout: 15_000 });
      assert.equal(await page.getByTestId('abort-choice').count(), 0);
      const aborts = count('abort');
      const button = await page.getByTestId('abort-button').boundingBox();
      assert.ok(button && button.height >= 80 && button.width >= 300, 'ABORT is big');
      await page.getByTestId('abort-button').click();
      await page.getByTestId('abort-choice').waitFor();
      assert.equal(count('abort'), aborts + 1);
      for (const testId of ['choice-return-home', 'choice-land']) {
        const box = await page.getByTestId(testId).boundingBox();
        assert.ok(box && box.height >= 80, `${testId} is big`);
      }
      const lands = count('land');
      await page.getByTestId('choice-land').click();
      await page.getByTestId('abort-choice').waitFor({ state: 'detached' });
      assert.equal(count('land'), lands + 1);
    } finally {
      await tracked.dispose();
    }
  });

  test('people: mark one on the map, both kinds drawn with a radius, remove the mark', async () => {
    const detected: KnownPerson = {
      id: 'track-12',
      source: 'detected',
      position: destination(BEAR, 45, 80),
      lastSeenMs: Date.now(),
    };
    station.setPeople([detected]);
    const tracked = await openTrackedPage(browser, server.operatorUrl);
    const { page } = tracked;
    try {
      await page.locator('[data-testid="map-person"][data-source="detected"]').waitFor({
        timeout: 15_000,
      });
      const bearBox = await page.locator(`.ursa-target[data-target-id="${BEAR_ID}"]`).boundingBox();
      assert.ok(bearBox);
      const at = { x: centre(bearBox).x - 150, y: centre(bearBox).y };
      await page.mouse.click(at.x, at.y, { button: 'right' });
      await page.getByTestId('map-menu').waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, 'map-menu.png') });
      await page.getByTestId('map-menu-mark-person').click();
      await eventually('a mark', () => (count('mark-person') === 1 ? true : undefined));
      const marked = last('mark-person')!.position;
      const fromBear = bearingDeg(BEAR, marked);
      assert.ok(Math.abs(fromBear - 270) < 5, `marked west of the bear (${fromBear} deg)`);

      const markedMarker = page.locator('[data-testid="map-person"][data-source="marked"]');
      await markedMarker.waitFor();
      assert.equal(await page.locator('.ursa-person-radius').count(), 2, 'a radius each');
      assert.equal(await page.locator('.ursa-person-radius.source-marked').count(), 1);
      const [markedLook, detectedLook] = await page.evaluate(() =>
        ['marked', 'detected'].map((source) => {
          const element = document.querySelector(`.ursa-person.source-${source}`)!;
          const style = getComputedStyle(element);
          return `${style.backgroundColor} ${style.borderRadius}`;
        }),
      );
      assert.notEqual(markedLook, detectedLook, 'marked and detected people look different');
      assert.equal(await page.getByTestId('person-item').count(), 2);
      await page.screenshot({ path: path.join(ARTIFACTS, 'people.png') });

      // Right-click on the mark offers to remove it.
      const markBox = await markedMarker.boundingBox();
      assert.ok(markBox);
      await page.mouse.click(centre(markBox).x, centre(markBox).y, { button: 'right' });
      await page.getByTestId('map-menu-remove-person').click();
      await eventually('the removal', () => (count('remove-person') === 1 ? true : undefined));
      assert.deepEqual(last('remove-person'), { kind: 'remove-person', personId: 'mark-1' });
      await markedMarker.waitFor({ state: 'detached' });

      // A detected person can be removed too (the model sometimes calls the bear a person),
      // worded for what it is, in the list and from the map.
      const listed = page.locator(
        '[data-testid="person-item"][data-source="detected"] [data-testid="person-remove"]',
      );
      assert.equal(await listed.innerText(), 'Not a person: remove');
      // Toasts sit in the map's top corner: clear them off the person up there first.
      while ((await page.getByTestId('toast').count()) > 0) {
        await page
          .getByTestId('toast')
          .first()
          .click()
          .catch(() => undefined);
      }
      const detectedMarker = page.locator('[data-testid="map-person"][data-source="detected"]');
      const detectedBox = await detectedMarker.boundingBox();
      assert.ok(detectedBox);
      await page.mouse.click(centre(detectedBox).x, centre(detectedBox).y, { button: 'right' });
      const remove = page.getByTestId('map-menu-remove-person');
      assert.equal(await remove.innerText(), 'Not a person: remove');
      await page.screenshot({ path: path.join(ARTIFACTS, 'map-menu-detected.png') });
      await remove.click();
      await eventually('the second removal', () =>
        count('remove-person') === 2 ? true : undefined,
      );
      assert.deepEqual(last('remove-person'), { kind: 'remove-person', personId: 'track-12' });
      await detectedMarker.waitFor({ state: 'detached' });
      assert.equal(await page.getByTestId('person-remove').count(), 0);
      assert.deepEqual(tracked.errors, []);
    } finally {
      station.setPeople([]);
      await tracked.dispose();
    }
  });

  test('zones have a kind, drawn in its own colour', async () => {
    const tracked = await openTrackedPage(browser, server.operatorUrl);
    const { page } = tracked;
    try {
      await page.getByTestId('zone-draw').click({ timeout: 15_000 });
      const map = await page.getByTestId('map').boundingBox();
      assert.ok(map);
      const mid = centre(map);
      for (const [dx, dy] of [
        [60, -180],
        [200, -180],
        [200, -60],
      ]) {
        await page.mouse.click(mid.x + dx, mid.y + dy);
      }
      await page.getByTestId('zone-kind').selectOption('no-fly');
      await page.getByTestId('zone-name').fill('School roof');
      await page.getByTestId('zone-save').click();
      await eventually('the zone', () => (count('save-zone') === 1 ? true : undefined));
      const saved = last('save-zone')!.zone;
      assert.equal(saved.kind, 'no-fly');
      assert.equal(saved.polygon.length, 3);
      station.zones = [
        { id: 1, name: 'School roof', kind: 'no-fly', alertDistanceM: 50, polygon: saved.polygon },
        {
          id: 2,
          name: 'Meadow',
          kind: 'safe',
          alertDistanceM: 0,
          polygon: [
            destination(BEAR, 80, 150),
            destination(BEAR, 100, 150),
            destination(BEAR, 95, 250),
          ],
        },
      ];
      station.emit({ type: 'zones', zones: station.zones });
      await page.locator('path.ursa-zone.kind-no-fly').waitFor();
      await page.locator('path.ursa-zone.kind-safe').waitFor();
      const [noFly, safe] = await page.evaluate(() =>
        ['no-fly', 'safe'].map(
          (kind) => getComputedStyle(document.querySelector(`path.ursa-zone.kind-${kind}`)!).stroke,
        ),
      );
      assert.notEqual(noFly, safe, 'kinds are told apart by colour');
      assert.match(
        await page.locator('[data-testid="zone-item"][data-kind="safe"]').innerText(),
        /Safe area/,
      );

      // A push can drive the bear into the safe area instead of along a direction.
      await openBearCard(page);
      await page.getByTestId('push-start').click();
      await page.getByTestId('push-safe-zone').selectOption('2');
      assert.equal(
        await page.getByTestId('pattern-plan').innerText(),
        `Push bear #${BEAR_ID} into the safe area "Meadow" from 30 m behind at 25 m; ` +
          'succeeds at 200 m, then hold',
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'zones-safe-push.png') });
      await page.getByTestId('pattern-cancel').click();
      assert.deepEqual(tracked.errors, []);
    } finally {
      station.zones = [];
      station.emit({ type: 'zones', zones: [] });
      await tracked.dispose();
    }
  });

  test('zigzag and search from the map toolbar, with the ground resolution', async () => {
    const tracked = await openTrackedPage(browser, server.operatorUrl);
    const { page } = tracked;
    try {
      await page.getByTestId('zigzag-start').click({ timeout: 15_000 });
      const map = await page.getByTestId('map').boundingBox();
      assert.ok(map);
      const mid = centre(map);
      await page.getByTestId('map-pick-hint').waitFor();
      await page.mouse.click(mid.x - 100, mid.y - 150);
      await page.mouse.click(mid.x + 150, mid.y - 150);
      assert.equal(await page.getByTestId('pattern-point-preview').count(), 2);
      assert.match(
        await page.getByTestId('pattern-plan').innerText(),
        /^Zigzag along a \d+ m line, 30 m each side, legs every 40 m, at 30 m, 5 m\/s$/,
      );
      await page.getByTestId('plan-target-preview').waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, 'zigzag-preview.png') });
      await page.getByTestId('pattern-cancel').click();

      await page.getByTestId('search-start').click();
      for (const [dx, dy] of [
        [-100, -200],
        [150, -200],
        [150, -60],
        [-100, -60],
      ]) {
        await page.mouse.click(mid.x + dx, mid.y + dy);
      }
      assert.equal(await page.getByTestId('search-hint').getAttribute('data-points'), '4');
      const expected = groundResolution(60, { horizontalFovDeg: 8, verticalFovDeg: 6 }, 640, 30);
      assert.equal(
        await page.getByTestId('resolution-cm-per-px').innerText(),
        `${(expected.metresPerPixel * 100).toFixed(1)} cm/pixel`,
      );
      assert.equal(
        await page.getByTestId('resolution-bear-px').innerText(),
        `${expected.bearLengthPx.toFixed(0)} px`,
      );
      // A lower pass puts more pixels on a bear.
      await page.getByTestId('pattern-altitudeAglM').fill('30');
      const lower = groundResolution(30, { horizontalFovDeg: 8, verticalFovDeg: 6 }, 640, 30);
      assert.equal(
        await page.getByTestId('resolution-bear-px').innerText(),
        `${lower.bearLengthPx.toFixed(0)} px`,
      );
      assert.match(await page.getByTestId('ground-resolution').innerText(), /assumed/);
      await page.screenshot({ path: path.join(ARTIFACTS, 'search-preview.png') });
      const starts = count('start-pattern');
      await holdToConfirm(page, () => count('start-pattern') === starts + 1);
      const start = last('start-pattern')!;
      assert.equal(start.targetId, null);
      assert.equal(start.settings.kind, 'search');
      assert.ok(start.settings.kind === 'search' && start.settings.polygon.length === 4);
      assert.deepEqual(tracked.errors, []);
    } finally {
      await tracked.dispose();
    }
  });

  test('an observer sees the pattern, the banner and the log, and commands nothing', async () => {
    station.setAction({
      phase: 'holding',
      awaitingChoice: false,
      violation: {
        rule: 'bear-standoff',
        text: 'bear-standoff: bear 15 m from the path; keep 20 m',
      },
    });
    station.setPeople([
      { id: 'mark-9', source: 'marked', position: destination(BEAR, 200, 60), lastSeenMs: 0 },
    ]);
    const commands = station.commands.length;
    const tracked = await openTrackedPage(browser, server.url);
    const { page } = tracked;
    try {
      await page.getByTestId('observer-banner').waitFor({ timeout: 15_000 });
      await page.getByTestId('holding-banner').waitFor();
      await page.getByTestId('action-status').waitFor();
      assert.ok((await page.getByTestId('hazing-event').count()) >= 1);
      assert.match(
        await page.getByTestId('status-hazing-operator').innerText(),
        /Hazing as Jane Doe/,
      );
      await page.getByTestId('envelope-summary').waitFor();
      assert.equal(await page.getByTestId('envelope-person').innerText(), 'at least 30 m');
      await openBearCard(page);
      for (const testId of [
        'abort-button',
        'push-start',
        'orbit-start',
        'shadow-start',
        'zigzag-start',
        'search-start',
        'nudges',
        'speaker-toggle',
        'person-remove',
        'zone-draw',
      ]) {
        assert.equal(await page.getByTestId(testId).count(), 0, `${testId} is not shown`);
      }
      assert.equal(
        await page.getByTestId('status-hazing-operator').evaluate((e) => e.tagName),
        'DIV',
        'the operator line is not a button for observers',
      );
      const map = await page.getByTestId('map').boundingBox();
      assert.ok(map);
      await page.mouse.click(centre(map).x + 100, centre(map).y - 100, { button: 'right' });
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
      assert.equal(await page.getByTestId('map-menu').count(), 0);
      assert.equal(station.commands.length, commands, 'nothing reached the station');
      await page.screenshot({ path: path.join(ARTIFACTS, 'observer.png') });
      assert.deepEqual(tracked.errors, []);
    } finally {
      await tracked.dispose();
    }
  });
  test('after a trial: speaker, follow, heights, toasts, banner, labels, card', async () => {
    // A station whose envelope floor (30 m) is above the push's lowest height (15 m), with
    // the drone up and nothing flying.
    station.envelope = { ...DEFAULT_ENVELOPE, floorAglM: 30 };
    station.operator = OPERATOR;
    station.action = null;
    station.emit({ type: 'action', action: null });
    const bearTarget = station.targets[0];
    const tracked = await openTrackedPage(browser, server.operatorUrl);
    const { page } = tracked;
    try {
      await page.setViewportSize({ width: 1366, height: 850 });
      await page.getByTestId('abort-button').waitFor({ timeout: 15_000 });

      // The speaker can be switched whenever the drone is up, not only while a pattern flies.
      const speaker = page.getByTestId('speaker-toggle');
      await speaker.waitFor();
      assert.equal(await page.getByTestId('action-status').count(), 0, 'no pattern flies');
      const speakers = count('speaker');
      await speaker.click();
      await page.locator('[data-testid="speaker-toggle"][data-on="true"]').waitFor();
      assert.deepEqual(last('speaker'), { kind: 'speaker', on: true });
      // The toast says it once: no "(ACCEPTED)" after "accepted".
      assert.equal(
        await page.getByTestId('toast').first().innerText(),
        '✓ Speaker on: Relay 0 on: accepted',
      );
      await speaker.click();
      await page.locator('[data-testid="speaker-toggle"][data-on="false"]').waitFor();
      assert.equal(count('speaker'), speakers + 2);

      // Follow drone: a visible toggle, on by default; the map stays put under an open menu.
      const follow = page.getByTestId('map-follow');
      assert.equal(await follow.getAttribute('data-on'), 'true');
      assert.match(await follow.innerText(), /Follow drone: on/);
      const bearMarker = page.locator(`.ursa-target[data-target-id="${BEAR_ID}"]`);
      // The map settles first: the new window size, and the pan that keeps the drone in sight.
      let settled = (await bearMarker.boundingBox())!;
      for (let stillReads = 0; stillReads < 3;) {
        await page.waitForTimeout(200);
        const next = (await bearMarker.boundingBox())!;
        const still = Math.abs(next.x - settled.x) < 0.5 && Math.abs(next.y - settled.y) < 0.5;
        stillReads = still ? stillReads + 1 : 0;
        settled = next;
      }
      const map = (await page.getByTestId('map').boundingBox())!;
      await page.mouse.click(map.x + map.width / 2, map.y + 120, { button: 'right' });
      await page.getByTestId('map-menu').waitFor();
      const beforeFlight = (await bearMarker.boundingBox())!;
      const droneMarker = page.getByTestId('map-drone');
      const away = offsetNorthEast(HOME, -60, 400);
      station.setVehicle({ position: { ...away, altitudeMslM: 1080, altitudeRelM: 30 } });
      await page.waitForFunction(
        (lonDeg) =>
          document.querySelector('[data-testid="map-drone"]')?.getAttribute('data-lon') === lonDeg,
        away.lonDeg.toFixed(7),
      );
      await page.waitForTimeout(1_000);
      const duringMenu = (await bearMarker.boundingBox())!;
      assert.ok(
        Math.abs(duringMenu.x - beforeFlight.x) < 1 && Math.abs(duringMenu.y - beforeFlight.y) < 1,
        'the map did not move while the menu was open: ' +
          JSON.stringify([beforeFlight, duringMenu]),
      );
      await page.getByTestId('map-menu-cancel').click();
      // A few seconds after the operator's last touch, following pans again.
      await page.waitForTimeout(4_500);
      station.setVehicle({ position: { ...away, altitudeMslM: 1080, altitudeRelM: 31 } });
      await eventually('the map to follow the drone', async () => {
        const box = (await bearMarker.boundingBox())!;
        return Math.abs(box.x - beforeFlight.x) > 100 ? true : undefined;
      });
      assert.ok(await droneMarker.isVisible());
      station.setVehicle({ position: { ...DRONE, altitudeMslM: 1080, altitudeRelM: 30 } });
      await page.waitForTimeout(1_000);

      // Heights: the push's range is narrowed to the envelope's floor, and says so.
      await openBearCard(page);
      await page.getByTestId('push-start').click();
      await page.getByTestId('pattern-flow').waitFor();
      const range = page.getByTestId('pattern-altitudeAglM-range');
      assert.equal(await range.getAttribute('data-min'), '30');
      assert.equal(await range.getAttribute('data-max'), '40');
      assert.equal(await range.innerText(), '30–40 m (envelope floor 30 m)');
      assert.equal(await page.getByTestId('pattern-altitudeAglM').inputValue(), '30');
      await page.getByTestId('pattern-altitudeAglM').fill('25');
      assert.match(
        await page.getByTestId('pattern-error').innerText(),
        /Height above ground 25 m is outside 30-40 m \(envelope floor 30 m\)/,
      );
      await page.getByTestId('pattern-altitudeAglM').fill('30');
      // At the envelope's bear standoff: the start is allowed, a closer nudge will not be.
      await page.getByTestId('pattern-standoffM').fill('20');
      const bearBox = (await bearMarker.boundingBox())!;
      await page.mouse.click(centre(bearBox).x + 200, centre(bearBox).y);
      await page.getByTestId('pattern-plan').waitFor();

      // The plan in words and the start button are in sight at 1366x850 and 1024x640.
      for (const [widthPx, heightPx] of [
        [1366, 850],
        [1024, 640],
      ] as const) {
        await page.setViewportSize({ width: widthPx, height: heightPx });
        await page.waitForTimeout(400);
        await page.screenshot({ path: path.join(ARTIFACTS, `push-form-${widthPx}.png`) });
        for (const testId of ['pattern-plan', 'pattern-confirm']) {
          const box = await page.getByTestId(testId).boundingBox();
          assert.ok(box, `${testId} is laid out`);
          assert.ok(
            box.y >= 0 && box.y + box.height <= heightPx && box.x + box.width <= widthPx,
            `${testId} is in view at ${widthPx}x${heightPx} (${JSON.stringify(box)})`,
          );
        }
      }
      await page.setViewportSize({ width: 1366, height: 850 });
      await page.waitForTimeout(400);
      const starts = count('start-pattern');
      await holdToConfirm(page, () => count('start-pattern') === starts + 1);
      const started = last('start-pattern')!;
      assert.ok(started.settings.kind === 'push' && started.settings.altitudeAglM === 30);
      const eventId = station.action!.eventId;
      // One action so far, said without a plural.
      const entry = page.locator(`[data-testid="hazing-event"][data-event-id="${eventId}"]`);
      await entry.waitFor();
      assert.match(await entry.innerText(), /· 1 action$/m);

      station.setAction({ phase: 'flying', text: 'pushing', bearMovedM: 3 });
      await page.getByTestId('nudges').waitFor();
      const closer = page.getByTestId('nudge-closer');
      assert.equal(await closer.isDisabled(), true, 'closer than the bear standoff is refused');
      assert.match(String(await closer.getAttribute('data-refusal')), /20 m bear standoff/);
      assert.equal(await page.getByTestId('nudge-farther').isDisabled(), false);

      // Toasts: in the top corner, two at most, newest on top, the station's words once.
      await page.getByTestId('nudge-right').click();
      await eventually('a nudge', () => (last('nudge')?.nudge.bearingDeltaDeg ? true : undefined));
      await page.getByTestId('nudge-farther').click();
      await page.getByTestId('toast').filter({ hasText: 'farther' }).waitFor();
      const toasts = page.getByTestId('toast');
      assert.ok((await toasts.count()) <= 2, 'two toasts at most');
      assert.equal(await toasts.first().innerText(), '✓ Nudged: farther by 5 m');
      const toastsBox = (await page.getByTestId('toasts').boundingBox())!;
      const mapNow = (await page.getByTestId('map').boundingBox())!;
      const middle = {
        x: mapNow.x + mapNow.width / 2 - 100,
        y: mapNow.y + mapNow.height / 2 - 100,
        width: 200,
        height: 200,
      };
      assert.ok(!overlaps(toastsBox, middle), 'the toasts leave the map middle clear');
      assert.ok(toastsBox.x + toastsBox.width > mapNow.x + mapNow.width - 40, 'right corner');
      await page.screenshot({ path: path.join(ARTIFACTS, 'toasts-corner.png') });

      // The HOLDING banner overlays the map: ABORT and the panels stay where they were.
      const abortBefore = (await page.getByTestId('abort-button').boundingBox())!;
      const statusBefore = (await page.getByTestId('action-status').boundingBox())!;
      station.setAction({
        phase: 'holding',
        setpoint: null,
        violation: {
          rule: 'altitude-floor',
          text: 'altitude-floor: 20 m above ground is under the 30 m floor',
        },
      });
      const banner = page.getByTestId('holding-banner');
      await banner.waitFor();
      assert.equal(
        await banner.innerText(),
        'HOLDING · Too low: 20 m above ground is under the 30 m floor',
      );
      // Toasts still up move under the banner rather than over its words.
      await page.waitForTimeout(300);
      const bannerBox = (await banner.boundingBox())!;
      const toastsNow = await page.getByTestId('toasts').boundingBox();
      if (toastsNow && toastsNow.height > 0) {
        assert.ok(!overlaps(toastsNow, bannerBox), 'the toasts leave the banner readable');
      }
      const abortAfter = (await page.getByTestId('abort-button').boundingBox())!;
      const statusAfter = (await page.getByTestId('action-status').boundingBox())!;
      assert.equal(abortAfter.y, abortBefore.y, 'ABORT did not move');
      assert.equal(statusAfter.y, statusBefore.y, 'the pattern card did not move');
      await page.screenshot({ path: path.join(ARTIFACTS, 'holding-overlay.png') });

      // Labels: a person the detector sees right beside the bear does not cover its label.
      station.setTargets([
        bearTarget,
        {
          ...bearTarget,
          id: 99,
          className: 'person',
          score: 0.6,
          position: offsetNorthEast(BEAR, -3, 2),
        },
      ]);
      const personLabel = page.locator('.ursa-target[data-target-id="99"] .ursa-target-label');
      await personLabel.waitFor({ state: 'attached' });
      await page.waitForTimeout(300);
      const labelBox = (label: ReturnType<Page['locator']>) =>
        label.evaluate((element) => {
          const rect = element.getBoundingClientRect();
          const hidden = getComputedStyle(element).visibility === 'hidden';
          return { x: rect.x, y: rect.y, width: rect.width, height: rect.height, hidden };
        });
      const labels = {
        bear: await labelBox(
          page.locator(`.ursa-target[data-target-id="${BEAR_ID}"] .ursa-target-label`),
        ),
        person: await labelBox(personLabel),
      };
      assert.equal(labels.bear.hidden, false, "the bear's label shows");
      assert.ok(
        labels.person.hidden || !overlaps(labels.bear, labels.person),
        `the labels do not overlap: ${JSON.stringify(labels)}`,
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'labels-declutter.png') });
      station.setTargets([bearTarget]);

      // The finished card shows its outcome, then can be closed.
      await page.keyboard.press('Escape');
      await page.locator('[data-testid="action-status"][data-phase="aborted"]').waitFor();
      const elapsed = await page.getByTestId('action-elapsed').innerText();
      await page.waitForTimeout(2_100);
      assert.equal(await page.getByTestId('action-elapsed').innerText(), elapsed, 'time stops');
      await page.getByTestId('action-close').click();
      await page.getByTestId('action-status').waitFor({ state: 'detached' });
      // On a fresh screen the ended card shows again, until the drone lands.
      await page.reload();
      await page.locator('[data-testid="action-status"][data-phase="aborted"]').waitFor({
        timeout: 15_000,
      });
      station.setVehicle({ armed: false });
      await page.getByTestId('action-status').waitFor({ state: 'detached' });
      assert.equal(await page.getByTestId('speaker-toggle').count(), 0, 'landed, speaker off');
      assert.deepEqual(tracked.errors, []);
    } finally {
      station.envelope = DEFAULT_ENVELOPE;
      station.setVehicle({ armed: true, position: vehicleAt(DRONE).position });
      station.setTargets([bearTarget]);
      await tracked.dispose();
    }
  });
});
