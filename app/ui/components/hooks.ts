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

/**
 * The clock ages on screen count from, refreshed every periodMs: the wall clock live, the
 * playhead's time in a replay (a heartbeat from 2021 is seconds old there, not years).
 */
export function useNow(periodMs: number): number {
  const replayTimeMs = useStation((state) => state.replayView?.timeMs ?? null);
  const [nowMs, setNowMs] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNowMs(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [periodMs]);
  return replayTimeMs ?? nowMs;
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

export type AlarmSound = 'off' | 'sounding' | 'blocked';

const ALARM_PERIOD_MS = 1_400;
const ALARM_TONES_HZ = [880, 587];
const ALARM_TONE_S = 0.3;
const ALARM_GAIN = 0.6;

let audio: AudioContext | null = null;

/**
 * The page's one AudioContext. Browsers keep audio suspended until the user has touched the
 * page, so every touch tries to wake it: an operator who drew a zone has an alarm that sounds.
 */
function audioContext(): AudioContext | null {
  if (audio) return audio;
  const Context = window.AudioContext;
  if (!Context) return null;
  audio = new Context();
  const wake = (): void => {
    if (audio && audio.state === 'suspended') void audio.resume().catch(() => {});
  };
  window.addEventListener('pointerdown', wake, true);
  window.addEventListener('keydown', wake, true);
  return audio;
}

function playSiren(context: AudioContext): void {
  const startS = context.currentTime;
  const gain = context.createGain();
  gain.gain.setValueAtTime(ALARM_GAIN, startS);
  gain.gain.setValueAtTime(0, startS + ALARM_TONE_S * ALARM_TONES_HZ.length);
  gain.connect(context.destination);
  const oscillator = context.createOscillator();
  // A square wave carries over engine and wind noise better than a sine.
  oscillator.type = 'square';
  ALARM_TONES_HZ.forEach((hz, index) => {
    oscillator.frequency.setValueAtTime(hz, startS + index * ALARM_TONE_S);
  });
  oscillator.connect(gain);
  oscillator.start(startS);
  oscillator.stop(startS + ALARM_TONE_S * ALARM_TONES_HZ.length);
  oscillator.onended = () => gain.disconnect();
}

/** A loud two-tone alarm, repeating while `sounding`; says whether the browser lets it play. */
export function useAlarm(sounding: boolean): AlarmSound {
  const [state, setState] = useState<AlarmSound>('off');
  useEffect(() => {
    if (!sounding) {
      setState('off');
      return undefined;
    }
    const context = audioContext();
    if (!context) {
      setState('blocked');
      return undefined;
    }
    const tick = (): void => {
      if (context.state === 'suspended') void context.resume().catch(() => {});
      if (context.state === 'running') playSiren(context);
      setState(context.state === 'running' ? 'sounding' : 'blocked');
    };
    tick();
    const timer = setInterval(tick, ALARM_PERIOD_MS);
    return () => clearInterval(timer);
  }, [sounding]);
  return state;
}
