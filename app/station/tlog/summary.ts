// What a flight record holds, in one JSON-friendly object: when, how long, which vehicles and
// flight modes, which messages, how high and where it flew, what the reader had to skip.
// Payloads are read straight from the frames (v2 drops trailing zeros; missing bytes read as
// zero), so a summary costs one pass over the file and decodes only five message types.

import { minimal, common } from 'mavlink-mappings';

import { flightModeName, MAV_AUTOPILOT_INVALID, MAV_TYPE_GCS } from '../../core/autopilot-modes';
import { STX_V1, frameHeader, messageName } from './frame';
import { TlogFileReader, type TlogReadStats, type TlogRecord } from './reader';

const HEARTBEAT = 0;
const GLOBAL_POSITION_INT = 33;
const MISSION_ITEM = 39;
const MISSION_ITEM_INT = 73;
/** A record more than this much older than the one before it starts another session. */
const TIME_JUMP_BACK_US = 1_000_000;

export interface TlogTime {
  iso: string;
  us: number;
}

export interface ModeCount {
  /** Heartbeats that reported the mode. */
  heartbeats: number;
  /** Times the vehicle went into the mode (the first heartbeat counts as one). */
  entries: number;
}

export interface TlogVehicle {
  systemId: number;
  componentId: number;
  /** MAV_TYPE name, for example QUADROTOR. */
  type: string;
  /** MAV_AUTOPILOT name, for example ARDUPILOTMEGA. */
  autopilot: string;
  heartbeats: number;
  flightModes: Record<string, ModeCount>;
}

export interface TlogMission {
  /** The vehicle the items belong to. */
  systemId: number;
  /** MISSION, FENCE or RALLY. */
  missionType: string;
  /** Distinct item numbers (seq) seen, in either direction. */
  items: number;
}

export interface TlogSummary {
  file: string;
  bytes: number;
  /** Earliest and latest record time; files that hold overlapping sessions are not in order. */
  firstTime: TlogTime | null;
  lastTime: TlogTime | null;
  durationS: number;
  /** Records more than a second older than the record before them. */
  timeJumpsBack: number;
  /** The longest forward step between two records in file order. */
  longestGapS: number;
  packets: number;
  /** MAVLink 1 and MAVLink 2 frames. */
  packetsByVersion: { v1: number; v2: number };
  /** Packets by message name, most frequent first. */
  packetsByMessage: Record<string, number>;
  /** Autopilots only: heartbeats from ground stations, gimbals and cameras are left out. */
  vehicles: TlogVehicle[];
  /** Over all vehicles. */
  flightModes: Record<string, ModeCount>;
  bytesSkipped: number;
  zeroBytesSkipped: number;
  crcErrors: number;
  unknownMessageIds: number;
  badTimestamps: number;
  truncatedTailBytes: number;
  /** From the vehicles' GLOBAL_POSITION_INT, positions at 0,0 (no estimate yet) left out. */
  positionBounds: {
    minLatDeg: number;
    minLonDeg: number;
    maxLatDeg: number;
    maxLonDeg: number;
  } | null;
  /** Highest relative_alt of GLOBAL_POSITION_INT: altitude above home. */
  maxAltitudeRelM: number | null;
  /** Distinct mission items seen over all missions. */
  missionItems: number;
  missions: TlogMission[];
  warnings: string[];
}

interface VehicleTally {
  vehicle: TlogVehicle;
  lastMode: string | null;
}

/** Takes records one at a time and builds the summary; never throws on a record's content. */
export class TlogSummarizer {
  private firstUs = Infinity;
  private lastUs = -Infinity;
  private previousUs: number | null = null;
  private jumpsBack = 0;
  private longestGapUs = 0;
  private packets = 0;
  private v1Packets = 0;
  private readonly byMessage = new Map<number, number>();
  private readonly vehicles = new Map<number, VehicleTally>();
  private readonly modes = new Map<string, ModeCount>();
  private readonly missionSeqs = new Map<string, Set<number>>();
  private bounds: TlogSummary['positionBounds'] = null;
  private maxAltitudeRelM: number | null = null;

  add(record: TlogRecord): void {
    const timeUs = record.timeUs;
    this.packets++;
    if (record.frame[0] === STX_V1) this.v1Packets++;
    this.byMessage.set(record.messageId, (this.byMessage.get(record.messageId) ?? 0) + 1);
    if (timeUs < this.firstUs) this.firstUs = timeUs;
    if (timeUs > this.lastUs) this.lastUs = timeUs;
    if (this.previousUs !== null) {
      const stepUs = timeUs - this.previousUs;
      if (stepUs < -TIME_JUMP_BACK_US) this.jumpsBack++;
      if (stepUs > this.longestGapUs) this.longestGapUs = stepUs;
    }
    this.previousUs = timeUs;
    if (!record.known) return;

    const header = frameHeader(record.frame);
    const payload = new Payload(header.payload);
    switch (record.messageId) {
      case HEARTBEAT:
        this.heartbeat(header.systemId, header.componentId, payload);
        break;
      case GLOBAL_POSITION_INT:
        this.position(header.systemId, header.componentId, payload);
        break;
      case MISSION_ITEM:
      case MISSION_ITEM_INT:
        this.missionItem(header.systemId, payload);
        break;
    }
  }

  summary(file: string, stats: TlogReadStats): TlogSummary {
    const hasPackets = this.packets > 0;
    const warnings: string[] = [];
    if (!hasPackets) warnings.push('no MAVLink packets found: this does not look like a tlog');
    if (this.jumpsBack > 0) {
      warnings.push(
        `time goes back ${this.jumpsBack} time(s): the file holds sessions written over ` +
          'each other; the duration is from the earliest to the latest record',
      );
    }
    if (stats.truncatedTailBytes > 0) {
      warnings.push(`the file ends inside a record (${stats.truncatedTailBytes} bytes left out)`);
    }
    const packetsByMessage: Record<string, number> = {};
    for (const [id, count] of [...this.byMessage].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
      const name = messageName(id);
      packetsByMessage[name] = (packetsByMessage[name] ?? 0) + count;
    }
    const missions: TlogMission[] = [...this.missionSeqs].map(([key, seqs]) => {
      const [systemId, missionType] = key.split(':').map(Number);
      return {
        systemId,
        missionType: common.MavMissionType[missionType] ?? `TYPE(${missionType})`,
        items: seqs.size,
      };
    });
    return {
      file,
      bytes: stats.bytesRead,
      firstTime: hasPackets ? time(this.firstUs) : null,
      lastTime: hasPackets ? time(this.lastUs) : null,
      durationS: hasPackets ? round((this.lastUs - this.firstUs) / 1e6, 6) : 0,
      timeJumpsBack: this.jumpsBack,
      longestGapS: round(this.longestGapUs / 1e6, 6),
      packets: this.packets,
      packetsByVersion: { v1: this.v1Packets, v2: this.packets - this.v1Packets },
      packetsByMessage,
      vehicles: [...this.vehicles.values()].map((tally) => tally.vehicle),
      flightModes: Object.fromEntries(this.modes),
      bytesSkipped: stats.bytesSkipped,
      zeroBytesSkipped: stats.zeroBytesSkipped,
      crcErrors: stats.crcErrors,
      unknownMessageIds: stats.unknownMessageIds,
      badTimestamps: stats.badTimestamps,
      truncatedTailBytes: stats.truncatedTailBytes,
      positionBounds: this.bounds,
      maxAltitudeRelM: this.maxAltitudeRelM,
      missionItems: missions.reduce((sum, mission) => sum + mission.items, 0),
      missions,
      warnings,
    };
  }

  private heartbeat(systemId: number, componentId: number, payload: Payload): void {
    const customMode = payload.u32(0);
    const type = payload.u8(4);
    const autopilot = payload.u8(5);
    if (type === MAV_TYPE_GCS || autopilot === MAV_AUTOPILOT_INVALID) return;
    let tally = this.vehicles.get(systemId);
    if (!tally) {
      tally = {
        vehicle: {
          systemId,
          componentId,
          type: minimal.MavType[type] ?? `TYPE(${type})`,
          autopilot: minimal.MavAutopilot[autopilot] ?? `AUTOPILOT(${autopilot})`,
          heartbeats: 0,
          flightModes: {},
        },
        lastMode: null,
      };
      this.vehicles.set(systemId, tally);
    }
    // Only the component that spoke first is the autopilot; companions may claim it too.
    if (tally.vehicle.componentId !== componentId) return;
    tally.vehicle.heartbeats++;
    const mode = flightModeName(autopilot, type, customMode);
    const entered = tally.lastMode !== mode;
    tally.lastMode = mode;
    count(tally.vehicle.flightModes, mode, entered);
    const overall = this.modes.get(mode) ?? { heartbeats: 0, entries: 0 };
    overall.heartbeats++;
    if (entered) overall.entries++;
    this.modes.set(mode, overall);
  }

  private position(systemId: number, componentId: number, payload: Payload): void {
    const vehicle = this.vehicles.get(systemId)?.vehicle;
    if (!vehicle || vehicle.componentId !== componentId) return;
    const latE7 = payload.i32(4);
    const lonE7 = payload.i32(8);
    // 0,0 until the autopilot has an estimate; out-of-range values are corrupt.
    if ((latE7 === 0 && lonE7 === 0) || Math.abs(latE7) > 90e7 || Math.abs(lonE7) > 180e7) {
      return;
    }
    const latDeg = latE7 / 1e7;
    const lonDeg = lonE7 / 1e7;
    const b = this.bounds;
    this.bounds = b
      ? {
          minLatDeg: Math.min(b.minLatDeg, latDeg),
          minLonDeg: Math.min(b.minLonDeg, lonDeg),
          maxLatDeg: Math.max(b.maxLatDeg, latDeg),
          maxLonDeg: Math.max(b.maxLonDeg, lonDeg),
        }
      : { minLatDeg: latDeg, minLonDeg: lonDeg, maxLatDeg: latDeg, maxLonDeg: lonDeg };
    const altitudeRelM = payload.i32(16) / 1000;
    if (this.maxAltitudeRelM === null || altitudeRelM > this.maxAltitudeRelM) {
      this.maxAltitudeRelM = altitudeRelM;
    }
  }

  private missionItem(systemId: number, payload: Payload): void {
    const seq = payload.u16(28);
    const targetSystem = payload.u8(32);
    const missionType = payload.u8(37);
    // Items a vehicle sends are its own; items a ground station uploads, the target's.
    const vehicleId = this.vehicles.has(systemId) ? systemId : targetSystem;
    const key = `${vehicleId}:${missionType}`;
    let seqs = this.missionSeqs.get(key);
    if (!seqs) {
      seqs = new Set();
      this.missionSeqs.set(key, seqs);
    }
    seqs.add(seq);
  }
}

/** Reads a whole tlog file and summarises it. Throws a clear Error when it cannot be read. */
export function summarizeTlogFile(file: string): TlogSummary {
  const reader = TlogFileReader.open(file);
  try {
    const summarizer = new TlogSummarizer();
    for (let record = reader.next(); record; record = reader.next()) summarizer.add(record);
    return summarizer.summary(file, reader.stats);
  } finally {
    reader.dispose();
  }
}

/** Little-endian fields of a payload, zero past its end as MAVLink v2 truncation implies. */
class Payload {
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(at: number): number {
    return at < this.bytes.length ? this.bytes[at] : 0;
  }

  u16(at: number): number {
    return at + 2 <= this.bytes.length
      ? this.view.getUint16(at, true)
      : this.u8(at) | (this.u8(at + 1) << 8);
  }

  u32(at: number): number {
    return at + 4 <= this.bytes.length ? this.view.getUint32(at, true) : this.i32(at) >>> 0;
  }

  i32(at: number): number {
    if (at + 4 <= this.bytes.length) return this.view.getInt32(at, true);
    return this.u8(at) | (this.u8(at + 1) << 8) | (this.u8(at + 2) << 16) | (this.u8(at + 3) << 24);
  }
}

function count(modes: Record<string, ModeCount>, mode: string, entered: boolean): void {
  const current = modes[mode] ?? { heartbeats: 0, entries: 0 };
  current.heartbeats++;
  if (entered) current.entries++;
  modes[mode] = current;
}

function time(us: number): TlogTime {
  return { iso: new Date(Math.floor(us / 1000)).toISOString(), us };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
