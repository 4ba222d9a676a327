// The simulator's command line. Pure parsing: bad input becomes an Error naming the option.

import { parseArgs } from 'node:util';

import { parseSigningKey } from '../mavlink/signing';
import { checkLossOptions, NO_LOSS, type LossOptions } from './lossy';
import type { SimHome } from './vehicle';

/** A farm near Conrad, Montana: grain bins, and bears in the coulees in autumn. */
export const DEFAULT_SIM_HOME: SimHome = { latDeg: 48.17, lonDeg: -111.95, altitudeMslM: 1060 };

/** An outage lasts this long when --drop-every-s is given without --drop-for-s. */
const DEFAULT_DROP_FOR_S = 3;

export const SIM_USAGE = `Usage: sim --out HOST:PORT [options]

A simulated ArduCopter quadcopter speaking MAVLink v2 over UDP on 127.0.0.1.
  --out HOST:PORT         where to send telemetry first; it then replies to whoever talks to it
  --home LAT,LON,ALT_MSL  where it starts, on the ground and disarmed (default 48.17,-111.95,1060)
  --speed-factor N        simulated seconds per real second (default 1)
  --loss P                lose each datagram, both ways, with probability P (0 to below 1)
  --latency-ms N          delay each datagram by N ms ...
  --jitter-ms N           ... give or take up to N ms (datagrams then overtake each other)
  --drop-every-s N        every N seconds lose all traffic ...
  --drop-for-s N          ... for N seconds (default ${DEFAULT_DROP_FOR_S})
  --seed N                seed of the loss and delay choices (default: from the clock)
  --signing-key HEX       sign with this 32-byte key (64 hex digits) and refuse what is not
                          signed with it; without it SETUP_SIGNING over the link sets a key
  --no-message-interval   answer SET_MESSAGE_INTERVAL with UNSUPPORTED, as old firmware does

On stdout it prints one JSON line per event: {"event":"ready","localPort":N} once listening,
{"event":"gcs","systemId":S,"componentId":C} when a ground station is first heard, and
"command", "mission-stored", "param-set", "signing", "refused", "failsafe", "mode" and "rate"
events as they happen.`;

export interface SimArgs {
  out: { host: string; port: number };
  home: SimHome;
  speedFactor: number;
  loss: LossOptions;
  signingKey: Buffer | null;
  messageIntervals: boolean;
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
        loss: { type: 'string' },
        'latency-ms': { type: 'string' },
        'jitter-ms': { type: 'string' },
        'drop-every-s': { type: 'string' },
        'drop-for-s': { type: 'string' },
        seed: { type: 'string' },
        'signing-key': { type: 'string' },
        'no-message-interval': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new Error(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    return {
      out: { host: '', port: 0 },
      home: DEFAULT_SIM_HOME,
      speedFactor: 1,
      loss: NO_LOSS,
      signingKey: null,
      messageIntervals: true,
      help: true,
    };
  }
  if (values.out === undefined) throw new Error('--out HOST:PORT is required');
  const number = (option: string, text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) {
      throw new Error(`--${option} "${text}" is not a number`);
    }
    return value;
  };
  const dropEveryS = number('drop-every-s', values['drop-every-s'], 0);
  const loss: LossOptions = {
    lossProbability: number('loss', values.loss, 0),
    latencyMs: number('latency-ms', values['latency-ms'], 0),
    jitterMs: number('jitter-ms', values['jitter-ms'], 0),
    dropEveryS,
    dropForS: number('drop-for-s', values['drop-for-s'], dropEveryS > 0 ? DEFAULT_DROP_FOR_S : 0),
    seed: Math.trunc(number('seed', values.seed, Date.now() % 2 ** 31)),
  };
  try {
    checkLossOptions(loss);
  } catch (error) {
    throw new Error(`lossy link: ${(error as Error).message}`);
  }
  let signingKey: Buffer | null = null;
  if (values['signing-key'] !== undefined) {
    try {
      signingKey = parseSigningKey(values['signing-key']);
    } catch (error) {
      throw new Error(`--signing-key: ${(error as Error).message}`);
    }
  }
  return {
    out: parseHostPort(values.out),
    home: values.home === undefined ? DEFAULT_SIM_HOME : parseHome(values.home),
    speedFactor: values['speed-factor'] === undefined ? 1 : parseSpeed(values['speed-factor']),
    loss,
    signingKey,
    messageIntervals: !values['no-message-interval'],
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
