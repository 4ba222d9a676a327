// ArduCopter flight modes and GPS fix types, as numbers on the wire and names for people.
// Pure: the station, the simulator and the UI all share these tables.

/** ArduCopter's custom_mode numbers (ArduCopter/mode.h, Mode::Number). */
export const ARDUCOPTER_MODES: Readonly<Record<string, number>> = Object.freeze({
  STABILIZE: 0,
  ACRO: 1,
  ALT_HOLD: 2,
  AUTO: 3,
  GUIDED: 4,
  LOITER: 5,
  RTL: 6,
  CIRCLE: 7,
  LAND: 9,
  DRIFT: 11,
  SPORT: 13,
  FLIP: 14,
  AUTOTUNE: 15,
  POSHOLD: 16,
  BRAKE: 17,
  THROW: 18,
  AVOID_ADSB: 19,
  GUIDED_NOGPS: 20,
  SMART_RTL: 21,
  FLOWHOLD: 22,
  FOLLOW: 23,
  ZIGZAG: 24,
  SYSTEMID: 25,
  AUTOROTATE: 26,
  AUTO_RTL: 27,
  TURTLE: 28,
});

const MODE_NAMES_BY_NUMBER = new Map<number, string>(
  Object.entries(ARDUCOPTER_MODES).map(([name, modeNumber]) => [modeNumber, name]),
);

/** The mode's name, or "MODE(n)" for a number ArduCopter does not define. */
export function arduCopterModeName(customMode: number): string {
  return MODE_NAMES_BY_NUMBER.get(customMode) ?? `MODE(${customMode})`;
}

/** The mode's number for a name in any letter case, or null when there is no such mode. */
export function arduCopterModeNumber(name: string): number | null {
  const key = name.trim().toUpperCase();
  return Object.hasOwn(ARDUCOPTER_MODES, key) ? ARDUCOPTER_MODES[key] : null;
}

export function isArduCopterMode(customMode: number): boolean {
  return MODE_NAMES_BY_NUMBER.has(customMode);
}

/** GPS_FIX_TYPE from GPS_RAW_INT.fix_type. */
const GPS_FIX_NAMES: readonly string[] = [
  'No GPS',
  'No fix',
  '2D',
  '3D',
  'DGPS',
  'RTK float',
  'RTK fixed',
  'Static',
  'PPP',
];

export function gpsFixName(fixType: number): string {
  return GPS_FIX_NAMES[fixType] ?? `FIX(${fixType})`;
}
