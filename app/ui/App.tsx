// The station screen: map, video, status and controls. Operators command; observers watch.

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { bearingDeg } from '../core/geodesy';
import { planPush, type PushPlan } from '../core/hazing';
import type { OperatorCommand } from '../core/protocol';
import type { LatLon } from '../core/types';
import type { ZoneAlert, ZoneInput } from '../core/zones';
import { ActionPanel } from './components/ActionPanel';
import { AlertBanner } from './components/AlertBanner';
import { CameraControls } from './components/CameraControls';
import { Controls } from './components/Controls';
import { formatAgeS } from './components/format';
import { useClient, useNow, useStaleness, useStation } from './components/hooks';
import { LinkPanel } from './components/LinkPanel';
import { LogPanel } from './components/LogPanel';
import { MapView } from './components/MapView';
import { PushPanel, type PushDraft } from './components/PushPanel';
import { StatusBar } from './components/StatusBar';
import { addToast, commandToast, Toasts, type Toast } from './components/Toasts';
import { VideoPanel } from './components/VideoPanel';
import { newZoneDraft, ZonePanel, type ZoneDraft } from './components/ZonePanel';

/** Alert ids start again with the station: the time raised tells two alerts apart. */
function alertKey(alert: ZoneAlert): string {
  return `${alert.id}@${alert.raisedMs}`;
}

/** Toast titles for the zone commands, in the operator's words. */
const ZONE_COMMAND_LABELS: Record<string, string> = {
  'save-zone': 'Save zone',
  'delete-zone': 'Delete zone',
  'ack-alert': 'Acknowledge alert',
};

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
  const connection = useStation((state) => state.connection);
  const { vehicleStale } = useStaleness();
  const videoPanelRef = useRef<HTMLElement | null>(null);

  const [selectedTargetId, setSelectedTargetId] = useState<number | null>(null);
  const [draft, setDraft] = useState<PushDraft | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [busy, setBusy] = useState(false);
  const [zoneDraft, setZoneDraft] = useState<ZoneDraft | null>(null);
  /** Alerts an observer silenced on this screen only, by alertKey. */
  const [silenced, setSilenced] = useState<ReadonlySet<string>>(new Set());
  const toastId = useRef(0);
  const canCommand = role === 'operator';

  const send = useCallback(
    async (command: OperatorCommand): Promise<boolean> => {
      const outcome = await client.command(command);
      toastId.current += 1;
      const label = ZONE_COMMAND_LABELS[command.kind] ?? command.kind;
      const toast = commandToast(label, outcome, toastId.current, Date.now());
      setToasts((current) => addToast(current, toast));
      return outcome.ok;
    },
    [client],
  );

  const dismissToast = useCallback((id: number) => {
    setToasts((current) => current.filter((toast) => toast.id !== id));
  }, []);

  const abort = useCallback(() => {
    setDraft(null);
    void send({ kind: 'abort' });
  }, [send]);

  useEffect(() => {
    if (!canCommand) return undefined;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        abort();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [canCommand, abort]);

  const selectedTarget = targets.find((target) => target.id === selectedTargetId) ?? null;
  const draftTarget = draft
    ? (targets.find((target) => target.id === draft.targetId) ?? null)
    : null;

  const plan = useMemo<PushPlan | { error: string } | null>(() => {
    if (!draft || !draftTarget || draft.safeBearingDeg === null) return null;
    const standoffM = Number(draft.standoffText);
    const altitudeM = Number(draft.altitudeText);
    if (draft.standoffText.trim() === '' || draft.altitudeText.trim() === '') {
      return { error: 'enter a standoff and an altitude' };
    }
    return planPush({
      bear: draftTarget.position,
      safeBearingDeg: draft.safeBearingDeg,
      standoffM,
      altitudeM,
    });
  }, [draft, draftTarget]);
  const previewPlan = plan && !('error' in plan) ? plan : null;

  const onTargetClick = useCallback((targetId: number) => {
    setSelectedTargetId(targetId);
    setDraft((current) => (current && current.targetId !== targetId ? null : current));
  }, []);

  const onMapClick = useCallback(
    (point: LatLon) => {
      setDraft((current) => {
        if (!current) return current;
        const target = targets.find((candidate) => candidate.id === current.targetId);
        if (!target) return current;
        return { ...current, safeBearingDeg: bearingDeg(target.position, point) };
      });
    },
    [targets],
  );

  const onZonePoint = useCallback((point: LatLon) => {
    setZoneDraft((current) =>
      current ? { ...current, corners: [...current.corners, point] } : null,
    );
  }, []);

  const saveZone = async (zone: ZoneInput) => {
    setBusy(true);
    try {
      if (await send({ kind: 'save-zone', zone })) setZoneDraft(null);
    } finally {
      setBusy(false);
    }
  };

  const deleteZone = async (zoneId: number) => {
    setBusy(true);
    try {
      await send({ kind: 'delete-zone', zoneId });
    } finally {
      setBusy(false);
    }
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

  const startPush = () => {
    if (!hello || selectedTargetId === null) return;
    setZoneDraft(null);
    setDraft({
      targetId: selectedTargetId,
      safeBearingDeg: null,
      standoffText: String(hello.defaults.standoffM),
      altitudeText: String(hello.defaults.pushAltitudeM),
    });
  };

  const confirmPush = async (confirmed: PushPlan) => {
    if (!draft) return;
    setBusy(true);
    try {
      const ok = await send({
        kind: 'push',
        targetId: draft.targetId,
        safeBearingDeg: confirmed.safeBearingDeg,
        standoffM: confirmed.standoffM,
        altitudeM: confirmed.altitudeM,
      });
      if (ok) setDraft(null);
    } finally {
      setBusy(false);
    }
  };

  // Aiming the camera moves nothing but the gimbal: it never waits on, or blocks, other buttons.
  const pointCamera = (pitchDeg: number, yawDeg: number) =>
    send({ kind: 'point-camera', pitchDeg, yawDeg });

  const lookAt = (targetId: number) => void send({ kind: 'look-at', targetId });

  const selectVehicle = async (systemId: number) => {
    setBusy(true);
    try {
      await send({ kind: 'select-vehicle', systemId });
    } finally {
      setBusy(false);
    }
  };

  const takeoff = async (altitudeM: number) => {
    setBusy(true);
    try {
      await send({ kind: 'arm-takeoff', altitudeM });
    } finally {
      setBusy(false);
    }
  };

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

  const picking = draft !== null && draftTarget !== null;
  return (
    <div className={`app role-${role ?? 'unknown'}`} data-testid="app" data-role={role ?? ''}>
      <StatusBar />
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
      <AlertBanner
        alerts={openAlerts}
        canCommand={canCommand}
        busy={busy}
        onAcknowledge={(alertIds) => void acknowledgeAlerts(alertIds)}
      />
      <main className="main">
        <div className="map-column">
          <MapView
            hello={hello}
            vehicle={vehicle}
            vehicleStale={vehicleStale}
            coverRef={videoPanelRef}
            targets={targets}
            others={vehicles?.vehicles.filter((v) => v.systemId !== vehicles.activeSystemId)}
            action={action}
            selectedTargetId={selectedTargetId}
            preview={previewPlan}
            picking={picking}
            onTargetClick={onTargetClick}
            onMapClick={onMapClick}
            zones={zones}
            alerts={alerts}
            zoneDraft={zoneDraft?.corners ?? null}
            onZonePoint={onZonePoint}
          />
          <VideoPanel panelRef={videoPanelRef} />
          <LinkLostBanner />
          <Toasts toasts={toasts} onDismiss={dismissToast} />
          {zoneDraft ? (
            <div className="map-hint" data-testid="zone-map-hint">
              Tap each corner of the zone ({zoneDraft.corners.length} so far)
            </div>
          ) : null}
          {picking && draft?.safeBearingDeg === null ? (
            <div className="map-hint" data-testid="map-pick-hint">
              Tap where the {draftTarget?.className ?? 'target'} should go
            </div>
          ) : null}
        </div>
        <aside className="sidebar">
          {canCommand ? (
            <button
              type="button"
              className="abort-button"
              data-testid="abort-button"
              onClick={abort}
            >
              ABORT <span className="key-hint">Esc</span>
            </button>
          ) : null}
          <ActionPanel action={action} />
          {selectedTargetId !== null ? (
            <PushPanel
              target={selectedTarget}
              targetId={selectedTargetId}
              canCommand={canCommand}
              draft={draft}
              plan={plan}
              drone={vehicle?.position ?? null}
              busy={busy}
              onStart={startPush}
              onChange={setDraft}
              onCancel={() => setDraft(null)}
              onConfirm={(confirmed) => void confirmPush(confirmed)}
              onLookAt={() => lookAt(selectedTargetId)}
              onClose={() => {
                setSelectedTargetId(null);
                setDraft(null);
              }}
            />
          ) : targets.length > 0 ? (
            <p className="hint panel" data-testid="target-hint">
              Tap a target on the map to see it{canCommand ? ' and push it away' : ''}.
            </p>
          ) : null}
          {canCommand ? (
            <Controls
              defaults={hello.defaults}
              vehicle={vehicle}
              stationUp={connection === 'open'}
              busy={busy}
              onTakeoff={(altitudeM) => void takeoff(altitudeM)}
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
            onDelete={(zoneId) => void deleteZone(zoneId)}
          />
          <LinkPanel
            canCommand={canCommand}
            busy={busy}
            onSelectVehicle={(systemId) => void selectVehicle(systemId)}
          />
          <LogPanel log={log} />
        </aside>
      </main>
    </div>
  );
}

function LinkLostBanner() {
  const vehicle = useStation((state) => state.vehicle);
  const nowMs = useNow(1000);
  if (vehicle?.link !== 'lost') return null;
  const ageMs = vehicle.lastHeartbeatMs !== null ? nowMs - vehicle.lastHeartbeatMs : null;
  return (
    <div className="link-lost" data-testid="link-lost-banner" role="alert">
      LINK LOST{ageMs !== null ? ` · no heartbeat for ${formatAgeS(ageMs)}` : ''}
    </div>
  );
}
