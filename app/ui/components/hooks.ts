// React glue for the station client: one context, slice selectors, a ticking clock, staleness.

import { createContext, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import type { StationClient, StationState } from '../api/client';

export const StationContext = createContext<StationClient | null>(null);

export function useClient(): StationClient {
  const client = useContext(StationContext);
  if (!client) throw new Error('useClient needs a StationContext provider');
  return client;
}

/** Re-renders only when the selected slice changes; select must return state as stored. */
export function useStation<T>(select: (state: StationState) => T): T {
  const client = useClient();
  return useSyncExternalStore(client.subscribe, () => select(client.getState()));
}

/** The wall clock, refreshed every periodMs, for ages that count up on screen. */
export function useNow(periodMs: number): number {
  const [nowMs, setNowMs] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNowMs(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [periodMs]);
  return nowMs;
}

/**
 * What the station connection and the vehicle link let the screen claim. Nothing may look
 * live and healthy while the numbers behind it are frozen.
 */
export function useStaleness(): { stationDown: boolean; vehicleStale: boolean } {
  const connection = useStation((state) => state.connection);
  const link = useStation((state) => state.vehicle?.link ?? null);
  const stationDown = connection !== 'open';
  return { stationDown, vehicleStale: stationDown || link === 'lost' };
}
