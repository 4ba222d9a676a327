// The simulator's command line. Pure parsing: bad input becomes an Error naming the option.

import { parseArgs } from 'node:util';

import type { SimHome } from './vehicle';

/** A farm near Conrad, Montana: grain bins, and bears in the coulees in autumn. */
export const DEFAULT_SIM_HOME: SimHome = { latDeg: 48.17, lonDeg: -111.95, altitudeMslM: 1060 };

export const SIM_USAGE = `Usage: sim --out HOST:PORT [--home LAT,LON,ALT_MSL] [--speed-factor N]

A simulated ArduCopter quadcopter speaking MAVLink v2 over UDP on 127.0.0.1.
  --out HOST:PORT         where to send telemetry first; it then replies to whoever talks to it
  --home LAT,LON,ALT_MSL  where it starts, on the ground and disarmed (default 48.17,-111.95,1060)
  --speed-factor N        simulated seconds per real second (default 1)

On stdout it prints one JSON line per event: {"event":"ready","localPort":N} once listening,
{"event":"gcs","systemId":S,"componentId":C} when a ground station is first heard.`;

export interface SimArgs {
  out: { host: string; port: number };
  home: SimHome;
  speedFactor: number;
  help: boolean;
}

export function parseSimArgs(argv: string[]): SimArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        home: { type: 'string' },
        'speed-factor': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new Error(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    return { out: { host: '', port: 0 }, home: DEFAULT_SIM_HOME, speedFactor: 1, help: true };
  }
  if (values.out === undefined) throw new Error('--out HOST:PORT is required');
  return {
    out: parseHostPort(values.out),
    home: values.home === undefined ? DEFAULT_SIM_HOME : parseHome(values.home),
    speedFactor: values['speed-factor'] === undefined ? 1 : parseSpeed(values['speed-factor']),
    help: false,
  };
}

function parseHostPort(text: string): { host: string; port: number } {
  const match = /^([A-Za-z0-9.-]+):(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`--out "${text}" is not HOST:PORT`);
  const port = Number(match[2]);
  if (port < 1 || port > 65535) throw new Error(`--out port ${port} is not between 1 and 65535`);
  return { host: match[1], port };
}

function parseHome(text: string): SimHome {
  const parts = text.split(',').map((part) => part.trim());
  const numbers = parts.map(Number);
  if (parts.length !== 3 || parts.some((p) => p === '') || !numbers.every(Number.isFinite)) {
    throw new Error(`--home "${text}" is not LAT,LON,ALT_MSL (three numbers)`);
  }
  const [latDeg, lonDeg, altitudeMslM] = numbers;
  if (Math.abs(latDeg) > 90) throw new Error(`--home latitude ${latDeg} is outside -90..90`);
  if (Math.abs(lonDeg) > 180) throw new Error(`--home longitude ${lonDeg} is outside -180..180`);
  if (altitudeMslM < -500 || altitudeMslM > 9000) {
    throw new Error(`--home altitude ${altitudeMslM} m is outside -500..9000`);
  }
  return { latDeg, lonDeg, altitudeMslM };
}

function parseSpeed(text: string): number {
  const speedFactor = Number(text);
  if (!Number.isFinite(speedFactor) || speedFactor <= 0 || speedFactor > 100) {
    throw new Error(`--speed-factor "${text}" must be a number above 0 and at most 100`);
  }
  return speedFactor;
}
