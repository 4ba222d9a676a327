// Before a hazing pattern starts, the vehicle's own failsafes are read: if the station's link
// drops or the battery runs low, the vehicle must act by itself, since the station can then no
// longer stop it. A missing or unsafe failsafe blocks the start, naming the parameter.

/** The longest GCS-failsafe wait the station accepts: a pattern flies near bears and people. */
export const MAX_GCS_TIMEOUT_S = 10;

/** One rule: what to read, and why the values read are unsafe (null when they are fine). */
export interface FailsafeRule {
  /** Parameters the rule reads; one that cannot be read blocks, unless listed in optional. */
  params: readonly string[];
  /** Parameters that may be absent on some firmware versions: null passes to check as null. */
  optional?: readonly string[];
  /** A switch read first: when it reads 0 the rule does not apply and nothing more is read. */
  appliesWhenNonZero?: string;
  check(values: Readonly<Record<string, number | null>>): string | null;
}

/** The station's MAVLink system id, as it sends its heartbeats. */
const STATION_SYSTEM_ID = 255;

const ARDUPILOT_RULES: readonly FailsafeRule[] = [
  {
    params: ['FS_GCS_ENABLE'],
    check: ({ FS_GCS_ENABLE }) =>
      FS_GCS_ENABLE === 0
        ? "FS_GCS_ENABLE is 0: the vehicle would keep flying if the station's link is lost; " +
          'set it to 1 (RTL)'
        : null,
  },
  {
    // Older ArduCopter has no FS_GCS_TIMEOUT and waits a fixed 5 s.
    params: ['FS_GCS_TIMEOUT'],
    optional: ['FS_GCS_TIMEOUT'],
    check: ({ FS_GCS_TIMEOUT }) =>
      FS_GCS_TIMEOUT !== null && FS_GCS_TIMEOUT > MAX_GCS_TIMEOUT_S
        ? `FS_GCS_TIMEOUT is ${FS_GCS_TIMEOUT} s: the vehicle would fly on that long after ` +
          `the station's link is lost; set it to ${MAX_GCS_TIMEOUT_S} s or less`
        : null,
  },
  {
    // Without a battery monitor there is nothing for a battery failsafe to act on.
    params: ['BATT_MONITOR', 'BATT_FS_LOW_ACT'],
    appliesWhenNonZero: 'BATT_MONITOR',
    check: ({ BATT_FS_LOW_ACT }) =>
      BATT_FS_LOW_ACT === 0
        ? 'BATT_FS_LOW_ACT is 0: the vehicle would do nothing on a low battery; ' +
          'set it to 2 (RTL) or 1 (land)'
        : null,
  },
  {
    // ArduCopter's GCS failsafe watches only heartbeats from SYSID_MYGCS: set to another id it
    // never fires on this station's link. Newer firmware renamed it; absent, it is not checked.
    params: ['SYSID_MYGCS'],
    optional: ['SYSID_MYGCS'],
    check: ({ SYSID_MYGCS }) =>
      SYSID_MYGCS !== null && SYSID_MYGCS !== STATION_SYSTEM_ID
        ? `SYSID_MYGCS is ${SYSID_MYGCS}: the vehicle's GCS failsafe listens for that ground ` +
          `station, not this one (${STATION_SYSTEM_ID}); set it to ${STATION_SYSTEM_ID}`
        : null,
  },
];

const PX4_RULES: readonly FailsafeRule[] = [
  {
    params: ['NAV_DLL_ACT'],
    check: ({ NAV_DLL_ACT }) =>
      NAV_DLL_ACT === 0
        ? "NAV_DLL_ACT is 0: the vehicle would keep flying if the station's link is lost; " +
          'set it to 2 (return)'
        : null,
  },
  {
    params: ['COM_LOW_BAT_ACT'],
    check: ({ COM_LOW_BAT_ACT }) =>
      COM_LOW_BAT_ACT === 0
        ? 'COM_LOW_BAT_ACT is 0: the vehicle would only warn on a low battery; ' +
          'set it to 3 (return at critical, land at emergency)'
        : null,
  },
];

/** The rules for each autopilot, as VehicleState.autopilot names it. */
export const FAILSAFE_RULES: Readonly<Record<string, readonly FailsafeRule[]>> = {
  ArduPilot: ARDUPILOT_RULES,
  PX4: PX4_RULES,
};

/**
 * Reads the vehicle's failsafe parameters rule by rule; null when every one is safe, else
 * words naming the first parameter that is missing or unsafe. readParam gives null for a
 * parameter it could not read (no answer, or no such parameter).
 */
export async function checkVehicleFailsafes(
  autopilot: string,
  readParam: (name: string) => Promise<number | null>,
): Promise<string | null> {
  const rules = Object.hasOwn(FAILSAFE_RULES, autopilot) ? FAILSAFE_RULES[autopilot] : undefined;
  if (!rules) return `cannot check the failsafes of a ${autopilot} autopilot`;
  for (const rule of rules) {
    const values: Record<string, number | null> = {};
    for (const name of rule.params) {
      let value: number | null;
      try {
        value = await readParam(name);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return `could not read ${name} (${reason})`;
      }
      if (value !== null && !Number.isFinite(value)) {
        return `could not read ${name} (the vehicle sent ${value})`;
      }
      if (value === null && !rule.optional?.includes(name)) return `could not read ${name}`;
      values[name] = value;
      if (name === rule.appliesWhenNonZero && value === 0) break;
    }
    if (rule.appliesWhenNonZero && values[rule.appliesWhenNonZero] === 0) continue;
    const problem = rule.check(values);
    if (problem !== null) return problem;
  }
  return null;
}
