// A station link and a simulator process talking over real UDP on 127.0.0.1, for tests.

import type { LinkStatus, VehicleState } from '../../app/core/types';
import { VehicleLink, type VehicleLinkOptions } from '../../app/station/mavlink/vehicle-link';
import {
  spawnSimulator,
  type SimulatorOptions,
  type SimulatorProcess,
} from '../../app/station/sim/spawn';

export const SIM_HOME = { latDeg: 48.17, lonDeg: -111.95, altitudeMslM: 1060 };

export interface SimLink {
  link: VehicleLink;
  sim: SimulatorProcess;
  dispose(): Promise<void>;
}

/** 30% of datagrams lost each way, with jitter: the radio the protocol tests fly through. */
export const LOSSY_RADIO: NonNullable<SimulatorOptions['loss']> = {
  lossProbability: 0.3,
  latencyMs: 30,
  jitterMs: 20,
};

/** Link settings that ride out a lossy radio: short waits, many tries, no false link loss. */
export const LOSSY_LINK_OPTIONS: VehicleLinkOptions = {
  heartbeatTimeoutMs: 10_000,
  commandAckTimeoutMs: 250,
  commandAttempts: 30,
  missionItemTimeoutMs: 150,
  missionItemRetries: 40,
  paramTimeoutMs: 150,
  paramRetries: 40,
};

export async function startSimLink(
  options: {
    speedFactor?: number;
    link?: VehicleLinkOptions;
    sim?: Omit<SimulatorOptions, 'targetHost' | 'targetPort' | 'home' | 'speedFactor'>;
  } = {},
): Promise<SimLink> {
  const link = await VehicleLink.open('udpin:127.0.0.1:0', options.link);
  let sim: SimulatorProcess;
  try {
    const port = link.localPort;
    if (port === null) throw new Error('udpin:127.0.0.1:0 reported no local port');
    sim = await spawnSimulator({
      targetHost: '127.0.0.1',
      targetPort: port,
      home: SIM_HOME,
      speedFactor: options.speedFactor,
      ...options.sim,
    });
  } catch (error) {
    await link.dispose();
    throw error;
  }
  return {
    link,
    sim,
    async dispose() {
      await sim.dispose();
      await link.dispose();
    },
  };
}

/** Resolves with the first state (now or later) that satisfies `accept`. */
export function waitForState(
  link: VehicleLink,
  accept: (state: VehicleState) => boolean,
  timeoutMs: number,
  what: string,
): Promise<VehicleState> {
  const now = link.state;
  if (accept(now)) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    let last = now;
    const subscription = link.onState((state) => {
      last = state;
      if (!accept(state)) return;
      clearTimeout(timer);
      void subscription.dispose();
      resolve(state);
    });
    const timer = setTimeout(() => {
      void subscription.dispose();
      reject(new Error(`timed out waiting for ${what}; last state: ${summarize(last)}`));
    }, timeoutMs);
  });
}

/**
 * Arms and takes off (the take-off must be accepted), then waits until the vehicle is above
 * `reachedM`, a little under the asked altitude.
 */
export async function takeOffTo(
  link: VehicleLink,
  altitudeM: number,
  reachedM: number,
  timeoutMs: number,
): Promise<VehicleState> {
  const takeoff = await link.armAndTakeoff(altitudeM);
  if (!takeoff.ok) throw new Error(`take off to ${altitudeM} m refused: ${takeoff.text}`);
  return waitForState(
    link,
    (s) => (s.position?.altitudeRelM ?? 0) > reachedM,
    timeoutMs,
    `climbing to ${altitudeM} m`,
  );
}

export function waitForLink(
  link: VehicleLink,
  status: LinkStatus,
  timeoutMs: number,
): Promise<void> {
  if (link.state.link === status) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const subscription = link.onLinkChange((changed) => {
      if (changed !== status) return;
      clearTimeout(timer);
      void subscription.dispose();
      resolve();
    });
    const timer = setTimeout(() => {
      void subscription.dispose();
      reject(new Error(`the link did not become ${status} within ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

function summarize(state: VehicleState): string {
  const p = state.position;
  const where = p
    ? `${p.latDeg.toFixed(6)},${p.lonDeg.toFixed(6)} rel ${p.altitudeRelM} m`
    : 'none';
  return `${state.link} ${state.modeName} ${state.armed ? 'armed' : 'disarmed'} position ${where}`;
}
