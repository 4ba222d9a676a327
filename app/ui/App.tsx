// The station screen: map, video, status and controls. Operators command; observers watch.

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { distanceM } from '../core/geodesy';
import type { HazingOperator } from '../core/hazing-log';
import {
  groundResolution,
  patternDistanceM,
  previewPattern,
  type GroundResolution,
  type PatternContext,
  type PatternKind,
  type PatternSettings,
} from '../core/patterns';
import type { ActionStatus, OperatorCommand } from '../core/protocol';
import type { ReplayControl } from '../core/replay';
import type { CameraModel, LatLon, MapTarget } from '../core/types';
import type { ZoneAlert, ZoneInput } from '../core/zones';
import { AbortButton } from './components/AbortButton';
import { AlertBanner } from './components/AlertBanner';
import { CameraControls } from './components/CameraControls';
import { Controls } from './components/Controls';
import { formatAgeS } from './components/format';
import { EnvelopeSummary, HazingLog } from './components/HazingLog';
import {
  AbortChoice,
  actionLive,
  HazingPanel,
  HoldingBanner,
  SpeakerControl,
} from './components/HazingPanel';
import { useClient, useNow, useStaleness, useStation } from './components/hooks';
import { LinkPanel } from './components/LinkPanel';
import { LogPanel } from './components/LogPanel';
import { MapView, type MapPlan } from './components/MapView';
import { OperatorDialog } from './components/OperatorDialog';
import { PatternForm, TargetPanel } from './components/PatternPanel';
import {
  describePattern,
  draftMapHint,
  draftSettings,
  newPatternDraft,
  tapDraft,
  type PatternDraft,
} from './components/patternDraft';
import { PeoplePanel } from './components/PeoplePanel';
import { ReplayBar } from './components/ReplayBar';
import { ReplayEvents } from './components/ReplayEvents';
// Here rather than in ReplayBar, so that tests can import its helpers without a bundler.
import './components/replay.css';
import { StatusBar } from './components/StatusBar';
import { addToast, commandToast, Toasts, type Toast } from './components/Toasts';
import { VideoPanel } from './components/VideoPanel';
import { newZoneDraft, ZonePanel, type ZoneDraft } from './components/ZonePanel';

/** Alert ids start again with the station: the time raised tells two alerts apart. */
function alertKey(alert: ZoneAlert): string {
  return `${alert.id}@${alert.raisedMs}`;
}

/** Toast titles for commands whose kind reads badly, in the operator's words. */
const COMMAND_LABELS: Record<string, string> = {
  'save-zone': 'Save zone',
  'delete-zone': 'Delete zone',
  'ack-alert': 'Acknowledge alert',
};

/**
 * The station does not say which lens its video comes from, so the search's ground resolution
 * assumes the built-in simulator's zoom lens, and says so on screen.
 */
const ASSUMED_CAMERA: CameraModel = { horizontalFovDeg: 8, verticalFovDeg: 6 };
const ASSUMED_IMAGE_WIDTH_PX = 640;
/** A tap this near a person, marked or detected, offers to remove them. */
const PERSON_PICK_M = 15;

function tappedPoints(settings: PatternSettings): LatLon[] {
  if (settings.kind === 'zigzag') return [...settings.line];
  if (settings.kind === 'search') return settings.polygon;
  return [];
}

function actionMapPlan(action: ActionStatus, bear: LatLon | null): MapPlan {
  const settings = action.settings;
  return {
    path: action.preview,
    bear,
    standoffM: bear ? patternDistanceM(settings) : null,
    safeBearingDeg:
      settings.kind === 'push' && settings.safeZoneId === null ? settings.safeBearingDeg : null,
    points: tappedPoints(settings),
    closed: settings.kind === 'search',
    setpoint: action.setpoint,
  };
}

function patternBear(target: MapTarget | null): PatternContext['bear'] {
  if (!target) return null;
  return {
    ...target.position,
    trackId: target.id,
    courseDeg: target.courseDeg ?? null,
    speedMps: target.speedMps ?? null,
    lastSeenMs: target.lastSeenMs,
  };
}

interface MapMenu {
  point: LatLon;
  pixel: { x: number; y: number };
}

export function App() {
  const client = useClient();
  const hello = useStation((state) => state.hello);
  const role = useStation((state) => state.role);
  const vehicle = useStation((state) => state.vehicle);
  const vehicles = useStation((state) => state.vehicles);
  const targets = useStation((state) => state.targets);
  const action = useStation((state) => state.action);
  const log = useStation((state) => state.log);
  const zones = useStation((state) => state.zones);
  const alerts = useStation((state) => state.alerts);
  const people = useStation((state) => state.people);
  const hazingOperator = useStation((state) => state.hazingOperator);
  const hazingEvents = useStation((state) => state.hazingEvents);
  const videoWidthPx = useStation((state) => state.video?.width ?? null);
  const connection = useStation((state) => state.connection);
  const replayStatus = useStation((state) => state.replay);
  const replayView = useStation((state) => state.replayView);
  const { vehicleStale } = useStaleness();
  const videoPanelRef = useRef<HTMLElement | null>(null);

  const [selectedTargetId, setSelectedTargetId] = useState<number | null>(null);
  const [draft, setDraft] = useState<PatternDraft | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [busy, setBusy] = useState(false);
  const [zoneDraft, setZoneDraft] = useState<ZoneDraft | null>(null);
  /** A pattern chosen before the hazing operator was known: it opens once they are. */
  const [askOperator, setAskOperator] = useState<{
    then: { kind: PatternKind; targetId: number | null } | null;
  } | null>(null);
  const [mapMenu, setMapMenu] = useState<MapMenu | null>(null);
  const [speakerOn, setSpeakerOn] = useState(false);
  /** An ABORT with no pattern under way: the station asks nothing, but the drone holds. */
  const [choiceAfterAbort, setChoiceAfterAbort] = useState(false);
  /** Alerts an observer silenced on this screen only, by alertKey. */
  const [silenced, setSilenced] = useState<ReadonlySet<string>>(new Set());
  /** The ended pattern whose card the operator closed, or that ended with a landing. */
  const [closedEventId, setClosedEventId] = useState<string | null>(null);
  const toastId = useRef(0);
  // A replay flies nothing: every control that commands or changes anything is hidden.
  const replayMode = hello?.replay === true;
  const canCommand = role === 'operator' && !replayMode;
  const canControlReplay = role === 'operator' && replayMode;
  const replayTrail = useMemo(
    () =>
      replayView?.trail.map((point) => ({ latDeg: point.latDeg, lonDeg: point.lonDeg })) ??
      undefined,
    [replayView?.trail],
  );
  const replayLastKnown = useMemo(
    () =>
      replayView
        ? {
            vehicle: replayView.vehicleLastKnown,
            tracks: replayView.tracksLastKnown,
            timeMs: replayView.timeMs,
          }
        : undefined,
    [replayView?.vehicleLastKnown, replayView?.tracksLastKnown, replayView?.timeMs],
  );
  const replayControl = useCallback((control: ReplayControl) => client.replay(control), [client]);

  const send = useCallback(
    async (command: OperatorCommand): Promise<boolean> => {
      const outcome = await client.command(command);
      toastId.current += 1;
      const label =
        command.kind === 'speaker'
          ? `Speaker ${command.on ? 'on' : 'off'}`
          : (COMMAND_LABELS[command.kind] ?? command.kind);
      const toast = commandToast(label, outcome, toastId.current, Date.now());
      setToasts((current) => addToast(current, toast));
      return outcome.ok;
    },
    [client],
  );

  /** Sends with every other command button disabled until the station answers. */
  const sendBusy = async (command: OperatorCommand): Promise<boolean> => {
    setBusy(true);
    try {
      return await send(command);
    } finally {
      setBusy(false);
    }
  };

  const dismissToast = useCallback((id: number) => {
    setToasts((current) => current.filter((toast) => toast.id !== id));
  }, []);

  const live = actionLive(action);
  // The drone landed (disarmed) after the pattern ended: its card has nothing left to say.
  const vehicleArmed = vehicle?.armed ?? false;
  const endedEventId = action && !live ? action.eventId : null;
  useEffect(() => {
    if (!vehicleArmed && endedEventId !== null) setClosedEventId(endedEventId);
  }, [vehicleArmed, endedEventId]);
  const liveRef = useRef(live);
  liveRef.current = live;
  // Never waits on busy: ABORT goes out whatever else is in flight.
  const abort = useCallback(() => {
    setDraft(null);
    setMapMenu(null);
    const hadPattern = liveRef.current;
    void send({ kind: 'abort' }).then((ok) => {
      if (ok && !hadPattern) setChoiceAfterAbort(true);
    });
  }, [send]);

  const zonePolygon = useCallback(
    (zoneId: number) => zones.find((zone) => zone.id === zoneId)?.polygon ?? null,
    [zones],
  );
  const zoneName = (zoneId: number) => zones.find((zone) => zone.id === zoneId)?.name ?? null;

  const selectedTarget = targets.find((target) => target.id === selectedTargetId) ?? null;
  const draftTarget =
    draft && draft.targetId !== null
      ? (targets.find((target) => target.id === draft.targetId) ?? null)
      : null;

  const checked = useMemo(
    () => (draft && hello ? draftSettings(draft, zonePolygon, hello.defaults.envelope) : null),
    [draft, zonePolygon, hello],
  );
  const draftSettingsOk = checked && 'settings' in checked ? checked.settings : null;

  const position = vehicle?.position ?? null;
  const lens = hello?.defaults.camera ?? ASSUMED_CAMERA;
  const camera = { ...lens, imageWidthPx: videoWidthPx ?? ASSUMED_IMAGE_WIDTH_PX };
  const lensWords = `${lens.horizontalFovDeg}×${lens.verticalFovDeg} deg lens`;
  const cameraSource = hello?.defaults.camera
    ? `the station's ${lensWords}, ${camera.imageWidthPx} px wide`
    : `assumed: the simulator's ${lensWords}, ${camera.imageWidthPx} px wide`;

  const preview = useMemo<MapPlan | null>(() => {
    if (!draft || !hello) return null;
    const bear = draftTarget?.position ?? null;
    const plan: MapPlan = {
      path: [],
      bear,
      standoffM: null,
      safeBearingDeg: null,
      points: draft.points,
      closed: draft.kind === 'search',
      setpoint: null,
    };
    if (!draftSettingsOk) return plan;
    const start = position ?? vehicle?.home ?? hello.mapCenter;
    const context: PatternContext = {
      nowMs: Date.now(),
      drone: {
        latDeg: start.latDeg,
        lonDeg: start.lonDeg,
        altitudeAglM: position?.altitudeRelM ?? 0,
      },
      bear: patternBear(draftTarget),
      safeZone:
        draftSettingsOk.kind === 'push' && draftSettingsOk.safeZoneId !== null
          ? zonePolygon(draftSettingsOk.safeZoneId)
          : null,
      camera: { ...ASSUMED_CAMERA, imageWidthPx: videoWidthPx ?? ASSUMED_IMAGE_WIDTH_PX },
    };
    let path: LatLon[] = [];
    try {
      path = previewPattern(draftSettingsOk, context);
    } catch {
      // A preview the core cannot make is no reason to hide the rest of the plan.
    }
    return {
      ...plan,
      path,
      standoffM: bear ? patternDistanceM(draftSettingsOk) : null,
      safeBearingDeg:
        draftSettingsOk.kind === 'push' && draftSettingsOk.safeZoneId === null
          ? draftSettingsOk.safeBearingDeg
          : null,
    };
  }, [
    draft,
    draftSettingsOk,
    draftTarget,
    position,
    vehicle?.home,
    hello,
    zonePolygon,
    videoWidthPx,
  ]);

  const actionBear =
    action && action.targetId !== null
      ? (targets.find((target) => target.id === action.targetId)?.position ?? action.bearStart)
      : null;
  const actionPlan = useMemo(
    () => (action && live ? actionMapPlan(action, actionBear) : null),
    [action, live, actionBear],
  );

  const resolution = useMemo<GroundResolution | null>(() => {
    if (!draft || draft.kind !== 'search') return null;
    const altitudeAglM = Number(draft.fields.altitudeAglM);
    const overlapPct = Number(draft.fields.overlapPct);
    if (!(altitudeAglM > 0) || !Number.isFinite(overlapPct)) return null;
    try {
      return groundResolution(altitudeAglM, ASSUMED_CAMERA, camera.imageWidthPx, overlapPct);
    } catch {
      return null;
    }
  }, [draft, camera.imageWidthPx]);

  const openDraft = (kind: PatternKind, targetId: number | null) => {
    if (!hello) return;
    setZoneDraft(null);
    setMapMenu(null);
    setDraft(newPatternDraft(kind, targetId, hello.defaults));
  };

  const choosePattern = (kind: PatternKind, targetId: number | null) => {
    if (!hazingOperator) {
      setAskOperator({ then: { kind, targetId } });
      return;
    }
    openDraft(kind, targetId);
  };

  const saveOperator = async (operator: HazingOperator) => {
    const then = askOperator?.then ?? null;
    if (await sendBusy({ kind: 'set-operator', operator })) {
      setAskOperator(null);
      if (then) openDraft(then.kind, then.targetId);
    }
  };

  const onTargetClick = useCallback((targetId: number) => {
    setSelectedTargetId(targetId);
    setDraft((current) =>
      current && current.targetId !== null && current.targetId !== targetId ? null : current,
    );
  }, []);

  const onMapClick = useCallback(
    (point: LatLon) => {
      setMapMenu(null);
      setDraft((current) => {
        if (!current) return current;
        const bear =
          current.targetId === null
            ? null
            : (targets.find((candidate) => candidate.id === current.targetId)?.position ?? null);
        return tapDraft(current, point, bear);
      });
    },
    [targets],
  );

  const onMapMenu = useCallback(
    (point: LatLon, pixel: { x: number; y: number }) => {
      if (canCommand) setMapMenu({ point, pixel });
    },
    [canCommand],
  );

  const onZonePoint = useCallback((point: LatLon) => {
    setZoneDraft((current) =>
      current ? { ...current, corners: [...current.corners, point] } : null,
    );
  }, []);

  const saveZone = async (zone: ZoneInput) => {
    if (await sendBusy({ kind: 'save-zone', zone })) setZoneDraft(null);
  };

  const openAlerts = alerts.filter(
    (alert) => alert.acknowledgedMs === null && !silenced.has(alertKey(alert)),
  );

  const acknowledgeAlerts = async (alertIds: number[]) => {
    if (!canCommand) {
      const keys = openAlerts.filter((alert) => alertIds.includes(alert.id)).map(alertKey);
      setSilenced((current) => new Set([...current, ...keys]));
      return;
    }
    setBusy(true);
    try {
      // One toast for the lot: the banner going away is the answer the operator looks for.
      const outcomes = await Promise.all(
        alertIds.map((alertId) => client.command({ kind: 'ack-alert', alertId })),
      );
      const failed = outcomes.find((outcome) => !outcome.ok);
      if (failed) {
        toastId.current += 1;
        const toast = commandToast('Acknowledge alert', failed, toastId.current, Date.now());
        setToasts((current) => addToast(current, toast));
      }
    } finally {
      setBusy(false);
    }
  };

  const startPattern = async (settings: PatternSettings) => {
    if (!draft) return;
    if (await sendBusy({ kind: 'start-pattern', targetId: draft.targetId, settings })) {
      setDraft(null);
      setChoiceAfterAbort(false);
    }
  };

  const chooseAfterAbort = async (kind: 'return-home' | 'land') => {
    if (await sendBusy({ kind })) setChoiceAfterAbort(false);
  };

  // Aiming the camera moves nothing but the gimbal: it never waits on, or blocks, other buttons.
  const pointCamera = (pitchDeg: number, yawDeg: number) =>
    send({ kind: 'point-camera', pitchDeg, yawDeg });

  const lookAt = (targetId: number) => void send({ kind: 'look-at', targetId });

  if (!hello) {
    return (
      <div className="splash" data-testid="splash">
        <div className="brand big">URSA</div>
        <p>
          {connection === 'closed'
            ? 'Station unreachable, retrying…'
            : 'Connecting to the station…'}
        </p>
      </div>
    );
  }

  const envelope = hello.defaults.envelope;
  const targetName = draftTarget?.className ?? 'bear';
  const mapHint = draft ? draftMapHint(draft, targetName) : null;
  const picking = draft !== null && (draft.targetId === null || draftTarget !== null);
  const planText =
    draftSettingsOk && draft ? describePattern(draftSettingsOk, draft.targetId, zoneName) : null;
  const patternForm =
    draft && checked ? (
      <PatternForm
        draft={draft}
        targetName={targetName}
        checked={checked}
        planText={planText}
        zones={zones}
        envelope={hello.defaults.envelope}
        resolution={resolution}
        cameraSource={cameraSource}
        busy={busy}
        onChange={setDraft}
        onCancel={() => setDraft(null)}
        onConfirm={(settings) => void startPattern(settings)}
      />
    ) : null;
  const showChoice = canCommand && ((action?.awaitingChoice ?? false) || choiceAfterAbort);
  const nearPerson = mapMenu
    ? (people
        .map((person) => ({ person, awayM: distanceM(person.position, mapMenu.point) }))
        .filter((near) => near.awayM < PERSON_PICK_M)
        .sort((a, b) => a.awayM - b.awayM)[0]?.person ?? null)
    : null;
  const armed = vehicle?.armed ?? false;
  // The speaker can be switched off whenever the drone is up, and whenever it is on.
  const showSpeaker = canCommand && hello.defaults.speakerAvailable && (armed || speakerOn);
  // An ended pattern's card goes once the operator closes it or the drone lands.
  const shownAction =
    action && (actionLive(action) || action.eventId !== closedEventId) ? action : null;

  return (
    <div
      className={`app role-${role ?? 'unknown'}${replayMode ? ' replay-mode' : ''}`}
      data-testid="app"
      data-role={role ?? ''}
    >
      <StatusBar
        hazingOperator={hazingOperator}
        onHazingOperator={canCommand ? () => setAskOperator({ then: null }) : undefined}
      />
      {replayMode ? (
        <div className="banner replay-banner" data-testid="replay-banner">
          REPLAY - nothing here commands a vehicle
          {replayStatus ? <span className="replay-file">{replayStatus.file}</span> : null}
        </div>
      ) : null}
      {role === 'observer' ? (
        <div
          className={`banner observer${hello.tokenRejected ? ' token-rejected' : ''}`}
          data-testid="observer-banner"
          data-token-rejected={hello.tokenRejected ? 'true' : undefined}
          role={hello.tokenRejected ? 'alert' : undefined}
        >
          {hello.tokenRejected ? 'Operator token not accepted: view only' : 'Observer: view only'}
        </div>
      ) : null}
      {connection !== 'open' ? (
        <div className="banner station-lost" data-testid="station-lost-banner">
          Connection to the station lost: reconnecting…
        </div>
      ) : null}
      {replayMode ? null : (
        <AlertBanner
          alerts={openAlerts}
          canCommand={canCommand}
          busy={busy}
          onAcknowledge={(alertIds) => void acknowledgeAlerts(alertIds)}
        />
      )}
      <main className="main">
        <div className={`map-column${action?.phase === 'holding' ? ' holding' : ''}`}>
          <MapView
            hello={hello}
            vehicle={vehicle}
            vehicleStale={vehicleStale}
            coverRef={videoPanelRef}
            targets={targets}
            others={vehicles?.vehicles.filter((v) => v.systemId !== vehicles.activeSystemId)}
            selectedTargetId={selectedTargetId}
            preview={preview}
            actionPlan={actionPlan}
            picking={picking}
            holdStill={mapMenu !== null}
            onTargetClick={onTargetClick}
            onMapClick={onMapClick}
            zones={zones}
            alerts={alerts}
            zoneDraft={zoneDraft?.corners ?? null}
            onZonePoint={onZonePoint}
            people={people}
            personRadiusM={envelope.personRadiusM}
            onMapMenu={onMapMenu}
            trail={replayMode ? (replayTrail ?? []) : undefined}
            lastKnown={replayMode ? replayLastKnown : undefined}
          />
          {/* A record with no video beside it leaves the whole map to the track. */}
          {replayStatus?.indexing.done && replayStatus.videoFrames === 0 ? null : (
            <VideoPanel panelRef={videoPanelRef} />
          )}
          <HoldingBanner action={action} envelope={envelope} />
          <LinkLostBanner atMs={replayMode ? (replayView?.timeMs ?? null) : undefined} />
          <Toasts toasts={toasts} onDismiss={dismissToast} />
          {canCommand && !draft && !zoneDraft ? (
            <div className="map-toolbar" role="group" aria-label="Patterns over an area">
              <button
                type="button"
                data-testid="zigzag-start"
                disabled={busy}
                onClick={() => choosePattern('zigzag', null)}
              >
                Zigzag…
              </button>
              <button
                type="button"
                data-testid="search-start"
                disabled={busy}
                onClick={() => choosePattern('search', null)}
              >
                Search…
              </button>
            </div>
          ) : null}
          {zoneDraft ? (
            <div className="map-hint" data-testid="zone-map-hint">
              Tap each corner of the zone ({zoneDraft.corners.length} so far)
            </div>
          ) : null}
          {picking && mapHint ? (
            <div className="map-hint" data-testid="map-pick-hint">
              {mapHint}
            </div>
          ) : null}
          {mapMenu && canCommand ? (
            <div
              className="map-menu"
              data-testid="map-menu"
              style={{ left: mapMenu.pixel.x, top: mapMenu.pixel.y }}
              role="menu"
            >
              <button
                type="button"
                role="menuitem"
                data-testid="map-menu-mark-person"
                disabled={busy}
                onClick={() => {
                  setMapMenu(null);
                  void sendBusy({ kind: 'mark-person', position: mapMenu.point });
                }}
              >
                Mark a person here
              </button>
              {nearPerson ? (
                <button
                  type="button"
                  role="menuitem"
                  data-testid="map-menu-remove-person"
                  data-person-id={nearPerson.id}
                  disabled={busy}
                  onClick={() => {
                    setMapMenu(null);
                    void sendBusy({ kind: 'remove-person', personId: nearPerson.id });
                  }}
                >
                  {nearPerson.source === 'marked' ? 'Remove this mark' : 'Not a person: remove'}
                </button>
              ) : null}
              <button
                type="button"
                role="menuitem"
                data-testid="map-menu-cancel"
                onClick={() => setMapMenu(null)}
              >
                Cancel
              </button>
            </div>
          ) : null}
        </div>
        <aside className="sidebar">
          {replayStatus ? (
            <ReplayEvents
              markers={replayStatus.markers}
              breaks={replayStatus.breaks}
              positionAxisMs={replayView?.positionAxisMs ?? replayStatus.positionAxisMs}
              onSeek={
                canControlReplay
                  ? (axisMs) => void replayControl({ action: 'seek', axisMs })
                  : undefined
              }
            />
          ) : null}
          {canCommand ? <AbortButton onAbort={abort} /> : null}
          {showChoice ? (
            <AbortChoice
              busy={busy}
              onReturnHome={() => void chooseAfterAbort('return-home')}
              onLand={() => void chooseAfterAbort('land')}
            />
          ) : null}
          {showSpeaker ? (
            <SpeakerControl
              speakerOn={speakerOn}
              onSpeaker={(on) =>
                void send({ kind: 'speaker', on }).then((ok) => {
                  if (ok) setSpeakerOn(on);
                })
              }
            />
          ) : null}
          <HazingPanel
            action={shownAction}
            envelope={envelope}
            canCommand={canCommand}
            busy={busy}
            onNudge={(nudge) => void sendBusy({ kind: 'nudge', nudge })}
            onClose={() => setClosedEventId(action?.eventId ?? null)}
          />
          {draft && draft.targetId === null ? (
            <section className="panel" data-testid="area-pattern-panel">
              {patternForm}
            </section>
          ) : null}
          {selectedTargetId !== null ? (
            <TargetPanel
              target={selectedTarget}
              targetId={selectedTargetId}
              canCommand={canCommand}
              draft={draft && draft.targetId === selectedTargetId ? draft : null}
              drone={position}
              busy={busy}
              onChoose={(kind) => choosePattern(kind, selectedTargetId)}
              onLookAt={() => lookAt(selectedTargetId)}
              onClose={() => {
                setSelectedTargetId(null);
                setDraft((current) => (current?.targetId === selectedTargetId ? null : current));
              }}
              form={patternForm}
            />
          ) : targets.length > 0 ? (
            <p className="hint panel" data-testid="target-hint">
              Tap a target on the map to see it{canCommand ? ' and haze it' : ''}.
            </p>
          ) : null}
          {canCommand ? (
            <Controls
              defaults={hello.defaults}
              vehicle={vehicle}
              stationUp={connection === 'open'}
              busy={busy}
              onTakeoff={(altitudeM) => void sendBusy({ kind: 'arm-takeoff', altitudeM })}
              onReturnHome={() => void send({ kind: 'return-home' })}
            />
          ) : null}
          <CameraControls
            gimbal={vehicle?.gimbal ?? null}
            headingDeg={vehicle?.attitude?.yawDeg ?? null}
            canCommand={canCommand}
            linkUp={connection === 'open' && vehicle?.link === 'connected'}
            onPoint={pointCamera}
          />
          <PeoplePanel
            people={people}
            drone={position}
            personRadiusM={envelope.personRadiusM}
            canCommand={canCommand}
            busy={busy}
            onRemove={(personId) => void sendBusy({ kind: 'remove-person', personId })}
          />
          <ZonePanel
            zones={zones}
            alerts={alerts}
            canCommand={canCommand}
            draft={zoneDraft}
            busy={busy}
            onStartDraw={() => {
              setDraft(null);
              setZoneDraft(newZoneDraft());
            }}
            onChange={setZoneDraft}
            onCancel={() => setZoneDraft(null)}
            onSave={(zone) => void saveZone(zone)}
            onDelete={(zoneId) => void sendBusy({ kind: 'delete-zone', zoneId })}
          />
          <HazingLog events={hazingEvents} />
          <EnvelopeSummary envelope={envelope} />
          <LinkPanel
            canCommand={canCommand}
            busy={busy}
            onSelectVehicle={(systemId) => void sendBusy({ kind: 'select-vehicle', systemId })}
          />
          <LogPanel log={log} />
        </aside>
      </main>
      {replayMode && replayStatus ? (
        <ReplayBar
          status={replayStatus}
          view={replayView}
          canControl={canControlReplay}
          onControl={replayControl}
        />
      ) : replayMode ? (
        <div className="replay-bar" data-testid="replay-bar-waiting">
          Opening the flight record…
        </div>
      ) : null}
      {askOperator && canCommand ? (
        <OperatorDialog
          current={hazingOperator}
          busy={busy}
          onSave={(operator) => void saveOperator(operator)}
          onCancel={() => setAskOperator(null)}
        />
      ) : null}
    </div>
  );
}

/** @param atMs a replay's time at the playhead, which ages the heartbeat instead of now */
function LinkLostBanner(props: { atMs?: number | null }) {
  const vehicle = useStation((state) => state.vehicle);
  const nowMs = useNow(1000);
  if (vehicle?.link !== 'lost') return null;
  const atMs = props.atMs === undefined ? nowMs : props.atMs;
  // A replay's playhead just after its log jumps back may sit before the last heartbeat heard.
  const ageMs =
    vehicle.lastHeartbeatMs !== null && atMs !== null && atMs >= vehicle.lastHeartbeatMs
      ? atMs - vehicle.lastHeartbeatMs
      : null;
  return (
    <div className="link-lost" data-testid="link-lost-banner" role="alert">
      LINK LOST{ageMs !== null ? ` · no heartbeat for ${formatAgeS(ageMs)}` : ''}
    </div>
  );
}
