// A flight record indexed by time, once, so that the replay can show the vehicle anywhere in it
// at the same cost. One pass in file order gives every record its axis position (see
// core/timeline.ts), feeds the first autopilot's VehicleModel, and keeps a keyframe every N
// records: the model's whole state and where the record starts in the file. Seeking restores
// the keyframe at or before the playhead and reads forward from its offset, at most N records.
// The same pass keeps a thinned trail and the markers the log alone can give: flight modes and
// link losses.

import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { MavLinkProtocolV1, MavLinkProtocolV2, common, type MavLinkData } from 'node-mavlink';

import type { Disposable } from '../../core/disposable';
import type { LastKnown, ReplayMarker } from '../../core/replay';
import { nextAxisUs, TimelineBuilder, type TimelineAxis } from '../../core/timeline';
import type { GlobalPosition, LinkStatus, VehicleState } from '../../core/types';
import { REGISTRY, type ReceivedMessage } from '../mavlink/codec';
import {
  MODEL_MESSAGE_IDS,
  VehicleModel,
  type VehicleModelSnapshot,
} from '../mavlink/vehicle-model';
import { STX_V1, frameHeader } from '../tlog/frame';
import {
  TlogFileReader,
  TlogParser,
  describeFsError,
  type TlogReadStats,
  type TlogRecord,
} from '../tlog/reader';

const DEFAULT_KEYFRAME_EVERY_RECORDS = 2000;
/** Records handled between turns of the event loop while indexing. */
const YIELD_EVERY_RECORDS = 4000;
/** The vehicle's link counts as lost after this much log time without its heartbeat. */
export const LINK_LOST_AFTER_US = 5_000_000;
/**
 * A heartbeat up to this much later than the playhead still counts (a clamped step back in
 * the clock); later than that it belongs to another session in the file, so the link is lost.
 */
const HEARTBEAT_AHEAD_TOLERANCE_US = 1_000_000;
/** The trail keeps at most one position per this much log time. */
const TRAIL_MIN_STEP_US = 500_000;
/** Bytes read at a time when reading forward from a keyframe: about 2000 records. */
const SEEK_CHUNK_BYTES = 64 * 1024;

const PROTOCOL_V1 = new MavLinkProtocolV1();
const PROTOCOL_V2 = new MavLinkProtocolV2();

export interface TlogIndexOptions {
  keyframeEveryRecords?: number;
  onProgress?(doneBytes: number, totalBytes: number): void;
}

/** The vehicle's state before a record, and where that record starts. */
interface Keyframe {
  ordinal: number;
  offset: number;
  axisUs: number;
  timeUs: number;
  model: VehicleModelSnapshot;
  lastKnown: LastKnown | null;
}

interface TrailPoint {
  axisUs: number;
  point: GlobalPosition & { timeMs: number };
}

/** The link as the replay shows it: from the last vehicle heartbeat and the playhead's time. */
export function replayLinkStatus(lastHeartbeatMs: number | null, nowUs: number): LinkStatus {
  if (lastHeartbeatMs === null) return 'connecting';
  const sinceUs = nowUs - lastHeartbeatMs * 1000;
  return sinceUs <= LINK_LOST_AFTER_US && sinceUs >= -HEARTBEAT_AHEAD_TOLERANCE_US
    ? 'connected'
    : 'lost';
}

/** The model and where the vehicle was last known, fed record by record. */
class VehicleTrack {
  undecodable = 0;
  readonly rejected = new Set<string>();

  constructor(
    readonly model: VehicleModel,
    public lastKnown: LastKnown | null,
  ) {}

  /** Applies one record; returns the message when the model took it, else null. */
  apply(record: TlogRecord): { received: ReceivedMessage; heartbeat: boolean } | null {
    const received = decodeModelMessage(record);
    if (received === 'undecodable') {
      this.undecodable++;
      return null;
    }
    if (!received) return null;
    const timeMs = record.timeUs / 1000;
    const update = this.model.apply(received, timeMs);
    for (const field of update.rejected) this.rejected.add(field);
    if (!update.changed) return null;
    if (received.message instanceof common.GlobalPositionInt) {
      const position = this.model.position;
      if (position) {
        this.lastKnown = { position: { latDeg: position.latDeg, lonDeg: position.lonDeg }, timeMs };
      }
    }
    return { received, heartbeat: update.vehicleHeartbeat };
  }
}

/** A model message of a record, null for any other, 'undecodable' when it cannot be read. */
function decodeModelMessage(record: TlogRecord): ReceivedMessage | null | 'undecodable' {
  if (!record.known || !MODEL_MESSAGE_IDS.has(record.messageId)) return null;
  const ctor = REGISTRY[record.messageId];
  if (!ctor) return null;
  const frame = record.frame;
  const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const header = frameHeader(frame);
  let message: MavLinkData;
  try {
    const protocol = frame[0] === STX_V1 ? PROTOCOL_V1 : PROTOCOL_V2;
    message = protocol.data(protocol.payload(bytes), ctor);
  } catch {
    return 'undecodable';
  }
  return {
    systemId: header.systemId,
    componentId: header.componentId,
    messageId: record.messageId,
    message,
    signed: header.signed,
  };
}

function checkFinite(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${name} must be a finite number, got ${String(value)}`);
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class TlogIndex implements Disposable {
  private fd: number | null;

  private constructor(
    readonly filePath: string,
    readonly bytes: number,
    readonly records: number,
    readonly stats: TlogReadStats,
    readonly timeline: TimelineAxis,
    readonly markers: ReplayMarker[],
    readonly warnings: string[],
    private readonly keyframes: Keyframe[],
    private readonly trailPoints: TrailPoint[],
    fd: number,
  ) {
    this.fd = fd;
  }

  /**
   * Reads the whole file once, yielding to the event loop as it goes. Throws an Error naming
   * the file when it cannot be read or holds no records.
   */
  static async build(filePath: string, options: TlogIndexOptions = {}): Promise<TlogIndex> {
    const keyframeEvery = options.keyframeEveryRecords ?? DEFAULT_KEYFRAME_EVERY_RECORDS;
    if (!Number.isInteger(keyframeEvery) || keyframeEvery < 1) {
      throw new Error(`keyframeEveryRecords must be a positive whole number, got ${keyframeEvery}`);
    }
    let stat: Stats;
    try {
      stat = statSync(filePath);
    } catch (error) {
      throw new Error(`cannot index tlog ${filePath}: ${describeFsError(error)}`);
    }
    if (stat.isDirectory()) throw new Error(`cannot index tlog ${filePath}: it is a folder`);
    const totalBytes = stat.size;
    const reader = TlogFileReader.open(filePath);
    let pass: IndexPass;
    try {
      pass = new IndexPass(keyframeEvery);
      let sinceYield = 0;
      for (let record = reader.next(); record; record = reader.next()) {
        pass.add(record);
        if (++sinceYield >= YIELD_EVERY_RECORDS) {
          sinceYield = 0;
          options.onProgress?.(Math.min(record.offset, totalBytes), totalBytes);
          await yieldToEventLoop();
        }
      }
    } finally {
      reader.dispose();
    }
    const stats = reader.stats;
    if (stats.records === 0) {
      throw new Error(
        `${filePath} holds no tlog records (${totalBytes} bytes): it is not a telemetry log`,
      );
    }
    options.onProgress?.(totalBytes, totalBytes);
    const timeline = pass.timeline.build();
    let fd: number;
    try {
      fd = openSync(filePath, 'r');
    } catch (error) {
      throw new Error(`cannot open tlog ${filePath}: ${describeFsError(error)}`);
    }
    return new TlogIndex(
      filePath,
      totalBytes,
      stats.records,
      stats,
      timeline,
      pass.markers,
      pass.warnings(stats, timeline),
      pass.keyframes,
      pass.trail,
      fd,
    );
  }

  /**
   * The first autopilot heard, as VehicleModel builds it from every record at or before the
   * playhead, read from the nearest keyframe. The link is 'connected' within 5 s of its last
   * heartbeat at the playhead's time, 'lost' after, 'connecting' before the first. nowUs, when
   * given, is the time the link is judged at (inside a gap, later than the last record).
   */
  vehicleAt(
    axisUs: number,
    nowUs?: number,
  ): { vehicle: VehicleState | null; lastKnown: LastKnown | null } {
    checkFinite('vehicleAt: axisUs', axisUs);
    if (nowUs !== undefined) checkFinite('vehicleAt: nowUs', nowUs);
    const keyframe = this.keyframeAtAxis(axisUs);
    if (!keyframe) return { vehicle: null, lastKnown: null };
    const track = new VehicleTrack(
      VehicleModel.fromSnapshot(keyframe.model),
      keyframe.lastKnown ? structuredClone(keyframe.lastKnown) : null,
    );
    this.scanFrom(keyframe, (record, recordAxisUs) => {
      if (recordAxisUs > axisUs) return false;
      track.apply(record);
      return true;
    });
    const model = track.model;
    if (!model.vehicle) return { vehicle: null, lastKnown: track.lastKnown };
    const vehicle = model.state;
    const linkUs = nowUs ?? this.timeline.axisToTimeUs(axisUs).timeUs;
    vehicle.link = replayLinkStatus(vehicle.lastHeartbeatMs, linkUs);
    return { vehicle, lastKnown: track.lastKnown };
  }

  /** The thinned path between two axis positions, evenly cut down to maxPoints, oldest first. */
  trail(
    fromAxisUs: number,
    toAxisUs: number,
    maxPoints: number,
  ): Array<GlobalPosition & { timeMs: number }> {
    checkFinite('trail: fromAxisUs', fromAxisUs);
    checkFinite('trail: toAxisUs', toAxisUs);
    if (!Number.isInteger(maxPoints) || maxPoints < 1) {
      throw new Error(`trail: maxPoints must be a positive whole number, got ${maxPoints}`);
    }
    const points = this.trailPoints;
    const first = firstIndex(points.length, (i) => points[i].axisUs >= fromAxisUs);
    const end = firstIndex(points.length, (i) => points[i].axisUs > toAxisUs);
    const count = end - first;
    if (count <= 0) return [];
    if (count <= maxPoints) return points.slice(first, end).map((p) => ({ ...p.point }));
    if (maxPoints === 1) return [{ ...points[end - 1].point }];
    const out: Array<GlobalPosition & { timeMs: number }> = [];
    for (let k = 0; k < maxPoints; k++) {
      const index = first + Math.round((k * (count - 1)) / (maxPoints - 1));
      out.push({ ...points[index].point });
    }
    return out;
  }

  /**
   * The axis of the record `records` away (+ forward, - back), counted from the last record at
   * or before the playhead going forward, from the first at or after it going back; held at
   * the first and the last record.
   */
  stepAxisUs(axisUs: number, records: number): number {
    checkFinite('stepAxisUs: axisUs', axisUs);
    if (!Number.isInteger(records)) {
      throw new Error(`stepAxisUs: records must be a whole number, got ${records}`);
    }
    if (records === 0) return axisUs;
    let base: number;
    if (records > 0) {
      // The last record at or before the playhead; -1 before the first.
      base = -1;
      const keyframe = this.keyframeAtAxis(axisUs);
      if (keyframe) {
        this.scanFrom(keyframe, (_, recordAxisUs, ordinal) => {
          if (recordAxisUs > axisUs) return false;
          base = ordinal;
          return true;
        });
      }
    } else {
      // The first record at or after the playhead; past the last when there is none.
      base = this.records;
      const keyframe = this.keyframeBeforeAxis(axisUs);
      this.scanFrom(keyframe, (_, recordAxisUs, ordinal) => {
        if (recordAxisUs < axisUs) return true;
        base = ordinal;
        return false;
      });
    }
    const target = Math.min(this.records - 1, Math.max(0, base + records));
    const keyframes = this.keyframes;
    const keyframe =
      keyframes[firstIndex(keyframes.length, (i) => keyframes[i].ordinal > target) - 1];
    let targetAxisUs = keyframe.axisUs;
    this.scanFrom(keyframe, (_, recordAxisUs, ordinal) => {
      targetAxisUs = recordAxisUs;
      return ordinal < target;
    });
    return targetAxisUs;
  }

  /** Null while the file is as long as when indexed; else why the index no longer holds. */
  changedSinceIndexed(): string | null {
    const bytes = statSync(this.filePath, { throwIfNoEntry: false })?.size;
    if (bytes === undefined) return `${this.filePath} is gone since it was indexed: reopen it`;
    if (bytes < this.bytes) {
      return (
        `${this.filePath} changed since it was indexed: reopen it ` +
        `(${this.bytes} bytes then, ${bytes} now)`
      );
    }
    return null;
  }

  dispose(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }

  /** The last keyframe at or before the playhead; null before the first record. */
  private keyframeAtAxis(axisUs: number): Keyframe | null {
    const keyframes = this.keyframes;
    const index = firstIndex(keyframes.length, (i) => keyframes[i].axisUs > axisUs) - 1;
    return index >= 0 ? keyframes[index] : null;
  }

  /** The last keyframe strictly before the playhead, or the first. */
  private keyframeBeforeAxis(axisUs: number): Keyframe {
    const keyframes = this.keyframes;
    const index = firstIndex(keyframes.length, (i) => keyframes[i].axisUs >= axisUs) - 1;
    return keyframes[Math.max(0, index)];
  }

  /**
   * Reads records from a keyframe on, in file order, with their axis and ordinal, until the
   * visitor says stop or the file ends. Work is bounded by what the visitor asks for.
   */
  private scanFrom(
    keyframe: Keyframe,
    visit: (record: TlogRecord, axisUs: number, ordinal: number) => boolean,
  ): void {
    const fd = this.fd;
    if (fd === null) throw new Error(`the index of ${this.filePath} is disposed`);
    const parser = new TlogParser();
    const chunk = Buffer.alloc(SEEK_CHUNK_BYTES);
    let position = keyframe.offset;
    let ordinal = keyframe.ordinal;
    let previousUs = keyframe.timeUs;
    let axisUs = keyframe.axisUs;
    let ended = false;
    for (;;) {
      const record = parser.next();
      if (!record) {
        if (ended) return;
        let read: number;
        try {
          read = readSync(fd, chunk, 0, chunk.length, position);
        } catch (error) {
          throw new Error(`cannot read tlog ${this.filePath}: ${describeFsError(error)}`);
        }
        position += read;
        ended = read === 0;
        if (ended) parser.end();
        else parser.push(Uint8Array.prototype.slice.call(chunk, 0, read));
        continue;
      }
      if (ordinal === keyframe.ordinal) {
        if (record.offset !== 0 || record.timeUs !== keyframe.timeUs) {
          throw new Error(`tlog ${this.filePath} changed since it was indexed`);
        }
      } else {
        axisUs = nextAxisUs(previousUs, axisUs, record.timeUs);
      }
      previousUs = record.timeUs;
      if (!visit(record, axisUs, ordinal++)) return;
    }
  }
}

/** The one pass over the file that builds everything the index keeps. */
class IndexPass {
  readonly timeline = new TimelineBuilder();
  readonly keyframes: Keyframe[] = [];
  readonly trail: TrailPoint[] = [];
  readonly markers: ReplayMarker[] = [];
  private readonly track = new VehicleTrack(new VehicleModel(), null);
  private ordinal = 0;
  private previous: { timeUs: number; axisUs: number } | null = null;
  private link: LinkStatus = 'connecting';
  private modeName: string | null = null;
  private lastTrailUs: number | null = null;

  constructor(private readonly keyframeEvery: number) {}

  add(record: TlogRecord): void {
    const timeUs = record.timeUs;
    const axisUs = this.timeline.add(timeUs);
    if (this.ordinal % this.keyframeEvery === 0) {
      this.keyframes.push({
        ordinal: this.ordinal,
        offset: record.offset,
        axisUs,
        timeUs,
        model: this.track.model.snapshot(),
        lastKnown: this.track.lastKnown ? structuredClone(this.track.lastKnown) : null,
      });
    }
    this.ordinal++;
    this.linkLostBefore(timeUs, axisUs);
    const applied = this.track.apply(record);
    if (applied) {
      const message = applied.received.message;
      if (applied.heartbeat) this.heartbeat(timeUs, axisUs);
      if (message instanceof common.GlobalPositionInt) this.trailPoint(timeUs, axisUs);
    }
    const link = replayLinkStatus(this.track.model.lastHeartbeatMs, timeUs);
    this.linkChange(link, timeUs, axisUs);
    this.previous = { timeUs, axisUs };
  }

  warnings(stats: TlogReadStats, timeline: TimelineAxis): string[] {
    const warnings: string[] = [];
    const notMavlink = stats.bytesSkipped - stats.zeroBytesSkipped;
    if (notMavlink > 0) warnings.push(`skipped ${notMavlink} bytes that were not MAVLink records`);
    if (stats.zeroBytesSkipped > 0) {
      warnings.push(`skipped ${stats.zeroBytesSkipped} bytes of zero padding`);
    }
    if (stats.crcErrors > 0) {
      warnings.push(`skipped ${stats.crcErrors} frame(s) whose checksum did not hold`);
    }
    if (stats.badTimestamps > 0) {
      warnings.push(`skipped ${stats.badTimestamps} frame(s) behind an impossible timestamp`);
    }
    if (stats.truncatedTailBytes > 0) {
      warnings.push(`the file ends inside a record (${stats.truncatedTailBytes} bytes left out)`);
    }
    if (stats.unknownMessageIds > 0) {
      warnings.push(`kept ${stats.unknownMessageIds} record(s) of message ids no dialect defines`);
    }
    if (this.track.undecodable > 0) {
      warnings.push(`skipped ${this.track.undecodable} message(s) that could not be decoded`);
    }
    if (this.track.rejected.size > 0) {
      warnings.push(
        `refused impossible values (${[...this.track.rejected].join(', ')}); ` +
          'kept the last good ones',
      );
    }
    // A loop, not Math.max(...): a log can hold more breaks than a call takes arguments.
    let gaps = 0;
    let longestUs = 0;
    for (const b of timeline.breaks) {
      if (b.kind !== 'gap') continue;
      gaps++;
      longestUs = Math.max(longestUs, b.toUs - b.fromUs);
    }
    if (gaps > 0) {
      const longestS = longestUs / 1e6;
      warnings.push(
        `the log has ${gaps} gap(s) of more than 5 s (the longest ${longestS.toFixed(1)} ` +
          's), shown as breaks',
      );
    }
    const jumps = timeline.breaks.length - gaps;
    if (jumps > 0) {
      warnings.push(
        `the log's clock jumps back ${jumps} time(s) (sessions written into the same file), ` +
          'shown as breaks',
      );
    }
    if (!this.track.model.vehicle) warnings.push('no autopilot heartbeat in the log: no vehicle');
    return warnings;
  }

  /** A loss of link that happened between the record before and this one, where it happened. */
  private linkLostBefore(timeUs: number, axisUs: number): void {
    const previous = this.previous;
    const lastHeartbeatMs = this.track.model.lastHeartbeatMs;
    if (this.link !== 'connected' || !previous || lastHeartbeatMs === null) return;
    const lostUs = lastHeartbeatMs * 1000 + LINK_LOST_AFTER_US;
    if (timeUs <= lostUs || timeUs <= previous.timeUs) return;
    // Time is linear from the record before to this one, across a gap too.
    const fraction = (lostUs - previous.timeUs) / (timeUs - previous.timeUs);
    const lostAxisUs = previous.axisUs + fraction * (axisUs - previous.axisUs);
    this.link = 'lost';
    this.markers.push({
      kind: 'link-lost',
      axisMs: lostAxisUs / 1000,
      timeMs: lostUs / 1000,
      label: 'Link lost: no heartbeat for 5 s',
    });
  }

  private linkChange(link: LinkStatus, timeUs: number, axisUs: number): void {
    const before = this.link;
    this.link = link;
    if (before === link || before === 'connecting') return;
    const lost = link === 'lost';
    this.markers.push({
      kind: lost ? 'link-lost' : 'link-back',
      axisMs: axisUs / 1000,
      timeMs: timeUs / 1000,
      label: lost ? 'Link lost: the heartbeat is from another session' : 'Link back',
    });
  }

  private heartbeat(timeUs: number, axisUs: number): void {
    const modeName = this.track.model.modeName;
    const before = this.modeName;
    this.modeName = modeName;
    if (before === modeName) return;
    this.markers.push({
      kind: 'mode',
      axisMs: axisUs / 1000,
      timeMs: timeUs / 1000,
      label: before === null ? `Mode ${modeName}` : `Mode ${before} -> ${modeName}`,
    });
  }

  private trailPoint(timeUs: number, axisUs: number): void {
    const position = this.track.model.position;
    if (!position) return;
    const lastUs = this.lastTrailUs;
    if (lastUs !== null && Math.abs(timeUs - lastUs) < TRAIL_MIN_STEP_US) return;
    this.lastTrailUs = timeUs;
    this.trail.push({ axisUs, point: { ...position, timeMs: timeUs / 1000 } });
  }
}

/** The first index in [0, length) where `past` holds (it holds from some index on). */
function firstIndex(length: number, past: (index: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (past(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}
