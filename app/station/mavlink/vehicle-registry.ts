// Every vehicle the station hears, on every link, keyed by system id: a vehicle heard on a
// radio and on Wi-Fi at once is one vehicle. One of them is active (commands go to it): the
// first autopilot heard, until the operator picks another. It is never swapped silently; when
// it is lost while another is alive, the operator is told and picks.

import type { VehicleSummary } from '../../core/protocol';
import type { LinkStatus, VehicleState } from '../../core/types';

export type RegistryNotice = (level: 'info' | 'warn' | 'error', text: string) => void;

interface Sighting {
  linkName: string;
  state: VehicleState;
}

export class VehicleRegistry {
  /** By system id, then by link name. */
  private readonly sightings = new Map<number, Map<string, Sighting>>();
  private active: number | null = null;
  private readonly mergedStatus = new Map<number, LinkStatus>();
  /** The active vehicle's loss was already announced along with who else is alive. */
  private toldOthersAlive = false;

  constructor(private readonly notice: RegistryNotice) {}

  get activeSystemId(): number | null {
    return this.active;
  }

  get systemIds(): number[] {
    return [...this.sightings.keys()].sort((a, b) => a - b);
  }

  /** A link's current view of its vehicles. */
  update(linkName: string, vehicles: readonly VehicleState[]): void {
    for (const state of vehicles) {
      if (state.systemId === 0) continue;
      let byLink = this.sightings.get(state.systemId);
      if (!byLink) {
        byLink = new Map();
        this.sightings.set(state.systemId, byLink);
        if (this.active === null) {
          this.active = state.systemId;
          this.notice('info', `Vehicle ${state.systemId} heard on ${linkName}: it is active`);
        } else {
          this.notice(
            'warn',
            `Another vehicle, ${state.systemId}, heard on ${linkName}; ` +
              `commands still go to vehicle ${this.active}`,
          );
        }
      }
      byLink.set(linkName, { linkName, state });
    }
    this.checkStatuses();
  }

  /** Makes another vehicle active. Throws for one the station has not heard. */
  select(systemId: number): void {
    if (!this.sightings.has(systemId)) {
      const heard = this.systemIds.join(', ') || 'none';
      throw new Error(`vehicle ${systemId} has not been heard (heard: ${heard})`);
    }
    if (this.active === systemId) return;
    const before = this.active;
    this.active = systemId;
    this.toldOthersAlive = false;
    this.notice('warn', `Active vehicle changed from ${before} to ${systemId} by the operator`);
  }

  /** connected when any link hears it now, lost when all lost it. */
  status(systemId: number): LinkStatus | null {
    const byLink = this.sightings.get(systemId);
    if (!byLink) return null;
    const statuses = [...byLink.values()].map((s) => s.state.link);
    if (statuses.includes('connected')) return 'connected';
    return statuses.includes('lost') ? 'lost' : 'connecting';
  }

  /**
   * The links that hear a vehicle, best first: alive before lost, then by the newest
   * heartbeat. Commands go out on the first.
   */
  linksFor(systemId: number): string[] {
    const byLink = this.sightings.get(systemId);
    if (!byLink) return [];
    return [...byLink.values()]
      .sort((a, b) => {
        const aliveA = a.state.link === 'connected' ? 1 : 0;
        const aliveB = b.state.link === 'connected' ? 1 : 0;
        if (aliveA !== aliveB) return aliveB - aliveA;
        return (b.state.lastHeartbeatMs ?? -1) - (a.state.lastHeartbeatMs ?? -1);
      })
      .map((s) => s.linkName);
  }

  /** The vehicle's state as its best link sees it, with the status over all links. */
  state(systemId: number): VehicleState | null {
    const best = this.linksFor(systemId)[0];
    const sighting = best ? this.sightings.get(systemId)?.get(best) : undefined;
    if (!sighting) return null;
    return { ...sighting.state, link: this.status(systemId) ?? sighting.state.link };
  }

  summaries(nowMs: number): VehicleSummary[] {
    return this.systemIds.map((systemId) => {
      const state = this.state(systemId)!;
      return {
        systemId,
        link: state.link,
        autopilot: state.autopilot,
        vehicleType: state.vehicleType,
        modeName: state.modeName,
        armed: state.armed,
        position: state.position
          ? { latDeg: state.position.latDeg, lonDeg: state.position.lonDeg }
          : null,
        headingDeg: state.attitude?.yawDeg ?? null,
        heartbeatAgeMs:
          state.lastHeartbeatMs === null ? null : Math.max(0, nowMs - state.lastHeartbeatMs),
        links: this.linksFor(systemId),
      };
    });
  }

  private checkStatuses(): void {
    for (const systemId of this.sightings.keys()) {
      const status = this.status(systemId);
      if (!status) continue;
      const before = this.mergedStatus.get(systemId);
      if (before === status) continue;
      this.mergedStatus.set(systemId, status);
      if (systemId !== this.active && before !== undefined && status !== 'connecting') {
        this.notice('info', `Vehicle ${systemId} ${status === 'lost' ? 'lost' : 'heard again'}`);
      }
      if (systemId === this.active && status === 'connected') this.toldOthersAlive = false;
    }
    this.tellIfOthersAlive();
  }

  private tellIfOthersAlive(): void {
    const active = this.active;
    if (active === null || this.toldOthersAlive || this.status(active) !== 'lost') return;
    const alive = this.systemIds.filter((id) => id !== active && this.status(id) === 'connected');
    if (alive.length === 0) return;
    this.toldOthersAlive = true;
    const others =
      alive.length === 1 ? `vehicle ${alive[0]} is` : `vehicles ${alive.join(', ')} are`;
    this.notice(
      'error',
      `Active vehicle ${active} LOST, but ${others} alive. Commands still go to vehicle ` +
        `${active}: pick another vehicle to command it.`,
    );
  }
}
