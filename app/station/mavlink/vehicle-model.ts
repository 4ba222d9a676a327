// The station's picture of one vehicle, built from the telemetry it sends. It knows nothing of
// sockets or timers: feed it decoded messages and read back a VehicleState.

import { ardupilotmega, common, minimal } from 'node-mavlink';

import { gpsFixName } from '../../core/ardupilot-modes';
import { autopilotName, flightModeName } from '../../core/autopilot-modes';
import { normalizeDeg } from '../../core/geodesy';
import type {
  BatteryState,
  GimbalState,
  GlobalPosition,
  LinkStatus,
  StatusText,
  VehicleState,
} from '../../core/types';
import type { ReceivedMessage } from './codec';

const STATUS_TEXT_HISTORY = 30;
/** STATUSTEXT chunks of one long text that stop arriving are shown as they are after this. */
const STATUS_CHUNK_WAIT_MS = 2000;
const STATUS_TEXT_CHUNK_LENGTH = 50;
const UINT16_MAX = 0xffff;
/** Below the Dead Sea shore, with room for a bad barometer. */
const MIN_ALTITUDE_MSL_M = -1000;
/** Far above anything a drone reaches, far below the nonsense of a corrupt field. */
const MAX_ALTITUDE_M = 100_000;

/** Message ids the model reads; the decoder can skip the rest. */
export const MODEL_MESSAGE_IDS: ReadonlySet<number> = new Set([
  minimal.Heartbeat.MSG_ID,
  common.GlobalPositionInt.MSG_ID,
  common.Attitude.MSG_ID,
  common.SysStatus.MSG_ID,
  common.GpsRawInt.MSG_ID,
  common.BatteryStatus.MSG_ID,
  common.HomePosition.MSG_ID,
  common.StatusText.MSG_ID,
  ardupilotmega.MountStatus.MSG_ID,
  common.GimbalDeviceAttitudeStatus.MSG_ID,
]);

export interface VehicleAddress {
  systemId: number;
  componentId: number;
}

/** HEARTBEAT.autopilot and HEARTBEAT.type of the vehicle, as numbers. */
export interface VehicleIdentity {
  autopilot: number;
  mavType: number;
}

export interface ModelUpdate {
  changed: boolean;
  /** True when this was a HEARTBEAT from the vehicle's autopilot. */
  vehicleHeartbeat: boolean;
  statusTexts: StatusText[];
  /** Fields refused as impossible (out of range, not finite), e.g. "GLOBAL_POSITION_INT.lat". */
  rejected: string[];
}

const NO_UPDATE: ModelUpdate = {
  changed: false,
  vehicleHeartbeat: false,
  statusTexts: [],
  rejected: [],
};

function changed(rejected: string[] = []): ModelUpdate {
  return { changed: true, vehicleHeartbeat: false, statusTexts: [], rejected };
}

/** Keeps a field's last good value when the new one is impossible, and names what it refused. */
class FieldCheck {
  readonly rejected: string[] = [];

  constructor(private readonly messageName: string) {}

  /** `value` when it is finite and within [min, max], else `previous` (null: none yet). */
  pick(
    field: string,
    value: number,
    min: number,
    max: number,
    previous: number | null,
  ): number | null {
    if (Number.isFinite(value) && value >= min && value <= max) return value;
    this.rejected.push(`${this.messageName}.${field}`);
    return previous;
  }
}

function isAutopilotHeartbeat(heartbeat: minimal.Heartbeat): boolean {
  // Ground stations, gimbals and cameras send heartbeats too; only an autopilot is a vehicle.
  return (
    heartbeat.type !== minimal.MavType.GCS && heartbeat.autopilot !== minimal.MavAutopilot.INVALID
  );
}

/** True for a HEARTBEAT that an autopilot (a vehicle) sent. */
export function isVehicleHeartbeat(received: ReceivedMessage): boolean {
  return received.message instanceof minimal.Heartbeat && isAutopilotHeartbeat(received.message);
}

interface ChunkedText {
  severity: number;
  parts: string[];
  startedMs: number;
}

/** Everything a model holds, as plain data: a replay keeps one per keyframe of a log. */
export interface VehicleModelSnapshot {
  followSystemId: number | null;
  state: VehicleState;
  address: VehicleAddress | null;
  identity: VehicleIdentity | null;
  chunks: Array<[number, ChunkedText]>;
}

export function initialVehicleState(): VehicleState {
  return {
    systemId: 0,
    link: 'connecting',
    lastHeartbeatMs: null,
    autopilot: 'UNKNOWN',
    vehicleType: 'UNKNOWN',
    customMode: null,
    modeName: 'UNKNOWN',
    armed: false,
    position: null,
    velocity: null,
    attitude: null,
    home: null,
    gimbal: null,
    battery: null,
    gps: null,
    statusTexts: [],
  };
}

export class VehicleModel {
  private current = initialVehicleState();
  private address: VehicleAddress | null = null;
  private identified: VehicleIdentity | null = null;
  private readonly chunks = new Map<number, ChunkedText>();

  /**
   * @param systemId the system to follow; null follows the first autopilot heard. Several
   *   vehicles on one link are told apart by system id, one model each.
   */
  constructor(private readonly systemId: number | null = null) {}

  /** A model in exactly the state of the one that took the snapshot. */
  static fromSnapshot(snapshot: VehicleModelSnapshot): VehicleModel {
    const copy = structuredClone(snapshot);
    const model = new VehicleModel(copy.followSystemId);
    model.current = copy.state;
    model.address = copy.address;
    model.identified = copy.identity;
    for (const [id, chunked] of copy.chunks) model.chunks.set(id, chunked);
    return model;
  }

  /** A deep copy of the whole state, half-received status texts included. */
  snapshot(): VehicleModelSnapshot {
    return structuredClone({
      followSystemId: this.systemId,
      state: this.current,
      address: this.address,
      identity: this.identified,
      chunks: [...this.chunks],
    });
  }

  /** The autopilot this model follows, null before its first heartbeat. */
  get vehicle(): VehicleAddress | null {
    return this.address;
  }

  /** Which autopilot and vehicle type, from its last heartbeat; null before the first. */
  get identity(): VehicleIdentity | null {
    return this.identified;
  }

  /** A copy the caller may keep or change. */
  get state(): VehicleState {
    return structuredClone(this.current);
  }

  get link(): LinkStatus {
    return this.current.link;
  }

  get modeName(): string {
    return this.current.modeName;
  }

  get armed(): boolean {
    return this.current.armed;
  }

  get lastHeartbeatMs(): number | null {
    return this.current.lastHeartbeatMs;
  }

  /** A copy of the position, without copying the whole state. */
  get position(): GlobalPosition | null {
    const position = this.current.position;
    return position ? { ...position } : null;
  }

  get altitudeRelM(): number | null {
    return this.current.position?.altitudeRelM ?? null;
  }

  setLink(link: LinkStatus): boolean {
    if (this.current.link === link) return false;
    this.current.link = link;
    return true;
  }

  /** Newest status texts first within the last `withinMs`. */
  recentStatusTexts(nowMs: number, withinMs: number): StatusText[] {
    return this.current.statusTexts.filter((t) => nowMs - t.timeMs <= withinMs).reverse();
  }

  apply(received: ReceivedMessage, nowMs: number): ModelUpdate {
    const { message, systemId, componentId } = received;
    if (message instanceof minimal.Heartbeat) {
      return this.applyHeartbeat(message, systemId, componentId, nowMs);
    }
    const vehicle = this.address;
    if (!vehicle || systemId !== vehicle.systemId) return NO_UPDATE;

    // Gimbals and companions speak for the same system from their own component ids.
    if (message instanceof common.StatusText) return this.applyStatusText(message, nowMs);
    if (message instanceof ardupilotmega.MountStatus) return this.setGimbal(mountGimbal(message));
    if (message instanceof common.GimbalDeviceAttitudeStatus) {
      return this.setGimbal(gimbalDeviceGimbal(message));
    }
    if (componentId !== vehicle.componentId) return NO_UPDATE;

    const state = this.current;
    if (message instanceof common.GlobalPositionInt) {
      return this.applyGlobalPosition(message);
    } else if (message instanceof common.Attitude) {
      const angles = [message.roll, message.pitch, message.yaw];
      // A NaN angle would turn every georeferenced detection into NaN.
      if (!angles.every(Number.isFinite)) return { ...NO_UPDATE, rejected: ['ATTITUDE'] };
      state.attitude = {
        rollDeg: toDeg(message.roll),
        pitchDeg: toDeg(message.pitch),
        yawDeg: normalizeDeg(toDeg(message.yaw)),
      };
    } else if (message instanceof common.SysStatus) {
      state.battery = {
        voltageV: message.voltageBattery === UINT16_MAX ? null : message.voltageBattery / 1000,
        currentA: message.currentBattery < 0 ? null : message.currentBattery / 100,
        remainingPct: message.batteryRemaining < 0 ? null : message.batteryRemaining,
      };
    } else if (message instanceof common.BatteryStatus) {
      if (message.id !== 0) return NO_UPDATE;
      state.battery = batteryFromStatus(message);
    } else if (message instanceof common.GpsRawInt) {
      state.gps = {
        fixType: message.fixType,
        fixName: gpsFixName(message.fixType),
        satellites: message.satellitesVisible === 255 ? null : message.satellitesVisible,
        hdop: message.eph === UINT16_MAX ? null : message.eph / 100,
      };
    } else if (message instanceof common.HomePosition) {
      const latDeg = message.latitude / 1e7;
      const lonDeg = message.longitude / 1e7;
      const altitudeMslM = message.altitude / 1000;
      const valid =
        Math.abs(latDeg) <= 90 &&
        Math.abs(lonDeg) <= 180 &&
        altitudeMslM >= MIN_ALTITUDE_MSL_M &&
        altitudeMslM <= MAX_ALTITUDE_M;
      if (!valid) return { ...NO_UPDATE, rejected: ['HOME_POSITION'] };
      state.home = { latDeg, lonDeg, altitudeMslM };
    } else {
      return NO_UPDATE;
    }
    return changed();
  }

  /**
   * Each field is checked on its own: an impossible one (a corrupt frame that passed its
   * checksum, a confused autopilot) keeps its last good value and is named in the update.
   */
  private applyGlobalPosition(message: common.GlobalPositionInt): ModelUpdate {
    const state = this.current;
    // ArduPilot reports 0,0 until it has a position estimate.
    if (message.lat === 0 && message.lon === 0) {
      state.position = null;
    } else {
      const check = new FieldCheck('GLOBAL_POSITION_INT');
      const last = state.position;
      const latDeg = check.pick('lat', message.lat / 1e7, -90, 90, last?.latDeg ?? null);
      const lonDeg = check.pick('lon', message.lon / 1e7, -180, 180, last?.lonDeg ?? null);
      const altitudeMslM = check.pick(
        'alt',
        message.alt / 1000,
        MIN_ALTITUDE_MSL_M,
        MAX_ALTITUDE_M,
        last?.altitudeMslM ?? null,
      );
      const altitudeRelM = check.pick(
        'relative_alt',
        message.relativeAlt / 1000,
        -MAX_ALTITUDE_M,
        MAX_ALTITUDE_M,
        last?.altitudeRelM ?? null,
      );
      if (latDeg !== null && lonDeg !== null && altitudeMslM !== null && altitudeRelM !== null) {
        state.position = { latDeg, lonDeg, altitudeMslM, altitudeRelM };
      }
      if (check.rejected.length > 0) {
        this.setVelocity(message);
        return changed(check.rejected);
      }
    }
    this.setVelocity(message);
    return changed();
  }

  private setVelocity(message: common.GlobalPositionInt): void {
    // int16 centimetres per second cannot be impossible; they are taken as they come.
    this.current.velocity = {
      northMps: message.vx / 100,
      eastMps: message.vy / 100,
      downMps: message.vz / 100,
    };
  }

  private applyHeartbeat(
    heartbeat: minimal.Heartbeat,
    systemId: number,
    componentId: number,
    nowMs: number,
  ): ModelUpdate {
    if (!isAutopilotHeartbeat(heartbeat)) return NO_UPDATE;
    if (this.systemId !== null && systemId !== this.systemId) return NO_UPDATE;
    if (!this.address) this.address = { systemId, componentId };
    const vehicle = this.address;
    if (vehicle.systemId !== systemId || vehicle.componentId !== componentId) return NO_UPDATE;

    const state = this.current;
    state.systemId = systemId;
    state.lastHeartbeatMs = nowMs;
    this.identified = { autopilot: heartbeat.autopilot, mavType: heartbeat.type };
    state.autopilot = autopilotName(heartbeat.autopilot);
    state.vehicleType = minimal.MavType[heartbeat.type] ?? `TYPE(${heartbeat.type})`;
    state.customMode = heartbeat.customMode;
    state.modeName = flightModeName(heartbeat.autopilot, heartbeat.type, heartbeat.customMode);
    state.armed = (heartbeat.baseMode & minimal.MavModeFlag.SAFETY_ARMED) !== 0;
    return { changed: true, vehicleHeartbeat: true, statusTexts: [], rejected: [] };
  }

  private setGimbal(gimbal: GimbalState | null): ModelUpdate {
    if (!gimbal) return NO_UPDATE;
    this.current.gimbal = gimbal;
    return changed();
  }

  private applyStatusText(message: common.StatusText, nowMs: number): ModelUpdate {
    const texts: StatusText[] = this.flushStaleChunks(nowMs);
    const severity = message.severity;
    if (message.id === 0) {
      texts.push({ timeMs: nowMs, severity, text: message.text });
    } else {
      // A long text comes as numbered chunks; the last one is shorter than a full chunk.
      const chunked = this.chunks.get(message.id) ?? { severity, parts: [], startedMs: nowMs };
      chunked.parts[message.chunkSeq] = message.text;
      this.chunks.set(message.id, chunked);
      if (message.text.length < STATUS_TEXT_CHUNK_LENGTH) {
        this.chunks.delete(message.id);
        texts.push({ timeMs: nowMs, severity, text: chunked.parts.join('') });
      }
    }
    for (const text of texts) this.current.statusTexts.push(text);
    const excess = this.current.statusTexts.length - STATUS_TEXT_HISTORY;
    if (excess > 0) this.current.statusTexts.splice(0, excess);
    return { changed: texts.length > 0, vehicleHeartbeat: false, statusTexts: texts, rejected: [] };
  }

  private flushStaleChunks(nowMs: number): StatusText[] {
    const texts: StatusText[] = [];
    for (const [id, chunked] of this.chunks) {
      if (nowMs - chunked.startedMs < STATUS_CHUNK_WAIT_MS) continue;
      this.chunks.delete(id);
      texts.push({ timeMs: nowMs, severity: chunked.severity, text: chunked.parts.join('') });
    }
    return texts;
  }
}

function toDeg(rad: number): number {
  return (rad * 180) / Math.PI;
}

function batteryFromStatus(message: common.BatteryStatus): BatteryState {
  const cellsMv = [...message.voltages, ...message.voltagesExt].filter(
    (mv) => mv !== UINT16_MAX && mv !== 0,
  );
  return {
    voltageV: cellsMv.length > 0 ? cellsMv.reduce((sum, mv) => sum + mv, 0) / 1000 : null,
    currentA: message.currentBattery < 0 ? null : message.currentBattery / 100,
    remainingPct: message.batteryRemaining < 0 ? null : message.batteryRemaining,
  };
}

/** ArduPilot's MOUNT_STATUS carries pitch, roll and body-frame yaw in centidegrees. */
function mountGimbal(message: ardupilotmega.MountStatus): GimbalState {
  return {
    pitchDeg: message.pointingA / 100,
    rollDeg: message.pointingB / 100,
    yawDeg: message.pointingC / 100,
    yawFrame: 'vehicle',
  };
}

function gimbalDeviceGimbal(message: common.GimbalDeviceAttitudeStatus): GimbalState | null {
  const [w, x, y, z] = message.q;
  if (![w, x, y, z].every(Number.isFinite)) return null;
  const flags = message.flags;
  const { YAW_IN_EARTH_FRAME, YAW_IN_VEHICLE_FRAME, YAW_LOCK } = common.GimbalDeviceFlags;
  // Newer gimbals say the frame outright; older ones imply earth frame by YAW_LOCK.
  const earth =
    (flags & YAW_IN_EARTH_FRAME) !== 0 ||
    ((flags & YAW_IN_VEHICLE_FRAME) === 0 && (flags & YAW_LOCK) !== 0);
  const rollDeg = toDeg(Math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y)));
  const pitchDeg = toDeg(Math.asin(Math.max(-1, Math.min(1, 2 * (w * y - z * x)))));
  const yawDeg = toDeg(Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)));
  return {
    pitchDeg,
    rollDeg,
    yawDeg: earth ? normalizeDeg(yawDeg) : yawDeg,
    yawFrame: earth ? 'earth' : 'vehicle',
  };
}
