// The reference the replay index is checked against, written apart from it and simply: read
// the log from its start in file order, give each record its axis with a TimelineBuilder, and
// feed a fresh VehicleModel (through the station's own decoder) every record whose axis is at
// or before the target, stopping at the first beyond it. Several targets share the one read:
// the state for a target is taken when the first record beyond it comes, which is what a read
// of its own would end with.

import { common } from 'node-mavlink';

import type { LastKnown } from '../../app/core/replay';
import { TimelineBuilder, type TimelineAxis } from '../../app/core/timeline';
import type { VehicleState } from '../../app/core/types';
import { MavlinkDecoder, type ReceivedMessage } from '../../app/station/mavlink/codec';
import { MODEL_MESSAGE_IDS, VehicleModel } from '../../app/station/mavlink/vehicle-model';
import { TlogFileReader } from '../../app/station/tlog/reader';

export interface StraightAnswer {
  vehicle: VehicleState | null;
  lastKnown: LastKnown | null;
}

export interface StraightRead {
  /** In the order the targets were given. */
  answers: StraightAnswer[];
  /** The axis of every record, in file order. */
  recordAxesUs: number[];
  timeline: TimelineAxis;
}

/** The link rule of the replay, restated: 5 s after the last heartbeat, or 1 s before it. */
function linkAt(lastHeartbeatMs: number | null, nowUs: number): VehicleState['link'] {
  if (lastHeartbeatMs === null) return 'connecting';
  const sinceMs = nowUs / 1000 - lastHeartbeatMs;
  return sinceMs <= 5000 && sinceMs >= -1000 ? 'connected' : 'lost';
}

export function readStraight(filePath: string, targetsAxisUs: number[]): StraightRead {
  const order = targetsAxisUs.map((_, i) => i).sort((a, b) => targetsAxisUs[a] - targetsAxisUs[b]);
  const captured: Array<{ vehicle: VehicleState | null; lastKnown: LastKnown | null }> = [];
  const model = new VehicleModel();
  let lastKnown: LastKnown | null = null;
  let next = 0;
  const capture = (): void => {
    captured[order[next]] = {
      vehicle: model.vehicle ? model.state : null,
      lastKnown: lastKnown ? structuredClone(lastKnown) : null,
    };
    next++;
  };

  let received: ReceivedMessage | null = null;
  const decoder = new MavlinkDecoder((message) => (received = message), MODEL_MESSAGE_IDS);
  const builder = new TimelineBuilder();
  const recordAxesUs: number[] = [];
  const reader = TlogFileReader.open(filePath);
  try {
    for (let record = reader.next(); record; record = reader.next()) {
      const axisUs = builder.add(record.timeUs);
      recordAxesUs.push(axisUs);
      while (next < order.length && targetsAxisUs[order[next]] < axisUs) capture();
      received = null;
      const frame = record.frame;
      decoder.pushDatagram(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
      const message = received as ReceivedMessage | null;
      if (!message) continue;
      const timeMs = record.timeUs / 1000;
      const update = model.apply(message, timeMs);
      if (update.changed && message.message instanceof common.GlobalPositionInt) {
        const position = model.state.position;
        if (position) {
          lastKnown = { position: { latDeg: position.latDeg, lonDeg: position.lonDeg }, timeMs };
        }
      }
    }
  } finally {
    reader.dispose();
    decoder.dispose();
  }
  while (next < order.length) capture();

  const timeline = builder.build();
  const answers = targetsAxisUs.map((axisUs, i) => {
    const { vehicle, lastKnown: known } = captured[i];
    if (vehicle) {
      vehicle.link = linkAt(vehicle.lastHeartbeatMs, timeline.axisToTimeUs(axisUs).timeUs);
    }
    return { vehicle, lastKnown: known };
  });
  return { answers, recordAxesUs, timeline };
}
