// The vehicle links and the vehicles on them: is each link alive, how many packets a second,
// how many lost, how long since the last heartbeat; which vehicle is active, and (operators
// only) a way to make another one active.

import type { LinkHealth, VehicleSummary } from '../../core/protocol';
import { formatAgeS } from './format';
import { useStation } from './hooks';

/** A heartbeat older than this is shown as a warning before the link counts as lost. */
const LATE_HEARTBEAT_MS = 1500;

function linkTone(link: LinkHealth): 'good' | 'warn' | 'bad' {
  if (!link.carrierUp || link.status === 'lost') return 'bad';
  if (link.status !== 'connected') return 'warn';
  if ((link.heartbeatAgeMs ?? 0) > LATE_HEARTBEAT_MS || (link.lossPct ?? 0) >= 10) return 'warn';
  return 'good';
}

function linkStateText(link: LinkHealth): string {
  if (!link.carrierUp) return link.name.startsWith('serial:') ? 'UNPLUGGED' : 'DISCONNECTED';
  return link.status === 'connected' ? 'OK' : link.status === 'lost' ? 'LOST' : 'WAITING';
}

function heartbeatText(ageMs: number | null): string {
  return ageMs === null ? '—' : `${formatAgeS(ageMs)} ago`;
}

function LinkRow(props: { link: LinkHealth }) {
  const { link } = props;
  const tone = linkTone(link);
  return (
    <li
      className={`link-row tone-${tone}`}
      data-testid="link-health"
      data-link={link.name}
      data-state={link.status}
      data-packets-per-second={link.packetsPerSecond}
      data-loss-pct={link.lossPct ?? undefined}
    >
      <div className="link-name" title={link.name}>
        <span className="link-state">{linkStateText(link)}</span> {link.name}
      </div>
      <div className="link-numbers">
        <span>{link.packetsPerSecond.toFixed(0)} pkt/s</span>
        <span>loss {link.lossPct === null ? '—' : `${link.lossPct.toFixed(0)}%`}</span>
        <span>heartbeat {heartbeatText(link.heartbeatAgeMs)}</span>
        {link.corruptFrames > 0 ? <span>{link.corruptFrames} corrupt</span> : null}
      </div>
    </li>
  );
}

function VehicleRow(props: {
  vehicle: VehicleSummary;
  active: boolean;
  canCommand: boolean;
  busy: boolean;
  onSelect(systemId: number): void;
}) {
  const { vehicle, active } = props;
  return (
    <li
      className={`vehicle-row${active ? ' active' : ''} link-${vehicle.link}`}
      data-testid="vehicle-row"
      data-system-id={vehicle.systemId}
      data-active={active ? 'true' : 'false'}
    >
      <span className="vehicle-name">
        #{vehicle.systemId} {vehicle.modeName}
        {vehicle.armed ? ' · ARMED' : ''}
        {vehicle.link === 'lost' ? ' · LOST' : ''}
      </span>
      {active ? (
        <span className="vehicle-active">ACTIVE</span>
      ) : props.canCommand ? (
        <button
          type="button"
          className="vehicle-select"
          data-testid="vehicle-select"
          disabled={props.busy}
          onClick={() => props.onSelect(vehicle.systemId)}
        >
          Make active
        </button>
      ) : null}
    </li>
  );
}

export function LinkPanel(props: {
  canCommand: boolean;
  busy: boolean;
  onSelectVehicle(systemId: number): void;
}) {
  const links = useStation((state) => state.links);
  const vehicles = useStation((state) => state.vehicles);
  if (links.length === 0) return null;
  const several = (vehicles?.vehicles.length ?? 0) > 1;
  return (
    <section className="panel link-panel" data-testid="link-panel" aria-label="Links">
      <div className="panel-title">
        <span>Links</span>
      </div>
      <ul className="link-list">
        {links.map((link) => (
          <LinkRow key={link.name} link={link} />
        ))}
      </ul>
      {several && vehicles ? (
        <ul className="vehicle-list" data-testid="vehicle-list">
          {vehicles.vehicles.map((vehicle) => (
            <VehicleRow
              key={vehicle.systemId}
              vehicle={vehicle}
              active={vehicle.systemId === vehicles.activeSystemId}
              canCommand={props.canCommand}
              busy={props.busy}
              onSelect={props.onSelectVehicle}
            />
          ))}
        </ul>
      ) : null}
    </section>
  );
}
