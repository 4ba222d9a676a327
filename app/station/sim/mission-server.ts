// The vehicle's side of the mission protocol, as ArduPilot's AP_MissionItemProtocol does it: one
// upload at a time per list, asking for each item in order and asking again after a second of
// silence; downloads answered item by item; MISSION_CLEAR_ALL. Mission, fence and rally lists
// are kept apart. A list replaces the old one only once every item has arrived.

import { common, type MavLinkData } from 'node-mavlink';

import { createLogger } from '../../core/log';
import { build } from '../mavlink/codec';
import {
  MISSION_TYPES,
  missionItemFromFloat,
  missionItemFromInt,
  missionItemToFloat,
  missionItemToInt,
  missionTypeCode,
  missionTypeFromCode,
  type MissionItem,
  type MissionType,
} from '../mavlink/mission';
import type { VehicleAddress } from '../mavlink/vehicle-model';

const log = createLogger('sim-mission');

const { MavCmd, MavMissionResult } = common;

/** ArduPilot asks again for an item after this long without one. */
const REREQUEST_MS = 1000;
/** ArduPilot gives an upload up after this long without an item. */
const UPLOAD_TIMEOUT_MS = 8000;
const MAX_ITEMS: Record<MissionType, number> = { mission: 724, fence: 84, rally: 20 };

const FENCE_COMMANDS = new Set<number>([
  MavCmd.NAV_FENCE_RETURN_POINT,
  MavCmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION,
  MavCmd.NAV_FENCE_POLYGON_VERTEX_EXCLUSION,
  MavCmd.NAV_FENCE_CIRCLE_INCLUSION,
  MavCmd.NAV_FENCE_CIRCLE_EXCLUSION,
]);
const RALLY_COMMANDS = new Set<number>([MavCmd.NAV_RALLY_POINT]);
const SUPPORTED_FRAMES = new Set<number>([
  common.MavFrame.GLOBAL,
  common.MavFrame.GLOBAL_RELATIVE_ALT,
  common.MavFrame.GLOBAL_INT,
  common.MavFrame.GLOBAL_RELATIVE_ALT_INT,
  common.MavFrame.GLOBAL_TERRAIN_ALT,
  common.MavFrame.GLOBAL_TERRAIN_ALT_INT,
  common.MavFrame.MISSION,
]);

interface Upload {
  type: MissionType;
  count: number;
  items: MissionItem[];
  from: VehicleAddress;
  lastItemMs: number;
  lastRequestMs: number;
}

export interface MissionServerHooks {
  send: (message: MavLinkData) => void;
  /** A list was replaced (or cleared). */
  stored: (type: MissionType, items: MissionItem[]) => void;
  nowMs: () => number;
}

export class SimMissionServer {
  private readonly lists: Record<MissionType, MissionItem[]> = {
    mission: [],
    fence: [],
    rally: [],
  };
  private readonly uploads = new Map<MissionType, Upload>();
  /** The last finished upload of each type, to answer a repeated last item with the ACK again. */
  private readonly finished = new Map<MissionType, { lastItem: MissionItem | null }>();

  constructor(private readonly hooks: MissionServerHooks) {}

  list(type: MissionType): MissionItem[] {
    return this.lists[type];
  }

  /** Takes mission messages addressed to us; true when it was one. */
  handle(message: MavLinkData, from: VehicleAddress): boolean {
    if (message instanceof common.MissionCount) {
      this.onCount(message, from);
    } else if (message instanceof common.MissionItemInt || message instanceof common.MissionItem) {
      this.onItem(message, from);
    } else if (message instanceof common.MissionRequestList) {
      this.withType(message.missionType, from, (type) => this.sendCount(type, from));
    } else if (
      message instanceof common.MissionRequestInt ||
      message instanceof common.MissionRequest
    ) {
      this.withType(message.missionType, from, (type) =>
        this.sendItem(type, message.seq, from, message instanceof common.MissionRequest),
      );
    } else if (message instanceof common.MissionClearAll) {
      this.onClear(message, from);
    } else if (message instanceof common.MissionAck) {
      // The end of a download: nothing to do.
    } else {
      return false;
    }
    return true;
  }

  /** Asks again for items that did not come, and gives up stale uploads. */
  tick(): void {
    const nowMs = this.hooks.nowMs();
    for (const upload of [...this.uploads.values()]) {
      if (nowMs - upload.lastItemMs > UPLOAD_TIMEOUT_MS) {
        log.warn(`${upload.type} upload timed out at item ${upload.items.length}`);
        this.uploads.delete(upload.type);
        this.ack(upload.from, upload.type, MavMissionResult.OPERATION_CANCELLED);
      } else if (nowMs - upload.lastRequestMs > REREQUEST_MS) {
        this.request(upload);
      }
    }
  }

  private onCount(message: common.MissionCount, from: VehicleAddress): void {
    this.withType(message.missionType, from, (type) => {
      const current = this.uploads.get(type);
      // A repeated MISSION_COUNT: the GCS did not hear our first request. Ask again.
      if (current && current.count === message.count && current.items.length === 0) {
        this.request(current);
        return;
      }
      if (current && current.count === message.count) return;
      if (message.count > MAX_ITEMS[type]) {
        this.ack(from, type, MavMissionResult.NO_SPACE);
        return;
      }
      if (message.count === 0) {
        this.uploads.delete(type);
        this.store(type, [], from);
        return;
      }
      const nowMs = this.hooks.nowMs();
      const upload: Upload = {
        type,
        count: message.count,
        items: [],
        from,
        lastItemMs: nowMs,
        lastRequestMs: nowMs,
      };
      this.uploads.set(type, upload);
      this.finished.delete(type);
      this.request(upload);
    });
  }

  private onItem(message: common.MissionItemInt | common.MissionItem, from: VehicleAddress): void {
    const item =
      message instanceof common.MissionItemInt
        ? missionItemFromInt(message)
        : missionItemFromFloat(message);
    if (!item) {
      this.ack(from, 'mission', MavMissionResult.UNSUPPORTED);
      return;
    }
    const upload = this.uploads.get(item.missionType);
    if (!upload) {
      // The GCS repeats the last item when our final ACK was lost: say it again.
      const done = this.finished.get(item.missionType);
      if (done?.lastItem && sameItem(done.lastItem, item)) {
        this.ack(from, item.missionType, MavMissionResult.ACCEPTED);
      }
      return;
    }
    if (item.seq !== upload.items.length) {
      // A copy of one we have, or one ahead of its turn: ask for the one we need.
      this.request(upload);
      return;
    }
    const problem = this.check(item);
    if (problem !== null) {
      log.warn(`${item.missionType} item ${item.seq} refused: ${MavMissionResult[problem]}`);
      this.uploads.delete(upload.type);
      this.ack(from, upload.type, problem);
      return;
    }
    upload.items.push(item);
    upload.lastItemMs = this.hooks.nowMs();
    if (upload.items.length < upload.count) {
      this.request(upload);
      return;
    }
    this.uploads.delete(upload.type);
    this.finished.set(upload.type, { lastItem: item });
    this.store(upload.type, upload.items, from);
  }

  private onClear(message: common.MissionClearAll, from: VehicleAddress): void {
    const types =
      message.missionType === common.MavMissionType.ALL
        ? [...MISSION_TYPES]
        : [missionTypeFromCode(message.missionType)];
    if (types.some((type) => type === null)) {
      this.ack(from, 'mission', MavMissionResult.UNSUPPORTED, message.missionType);
      return;
    }
    for (const type of types as MissionType[]) {
      this.uploads.delete(type);
      this.finished.delete(type);
      this.lists[type] = [];
      this.hooks.stored(type, []);
    }
    this.ack(
      from,
      types.length === 1 ? (types[0] as MissionType) : 'mission',
      MavMissionResult.ACCEPTED,
      message.missionType,
    );
  }

  private store(type: MissionType, items: MissionItem[], from: VehicleAddress): void {
    this.lists[type] = items;
    log.info(`${type} stored: ${items.length} item(s)`);
    this.hooks.stored(type, items);
    this.ack(from, type, MavMissionResult.ACCEPTED);
  }

  private check(item: MissionItem): common.MavMissionResult | null {
    if (!SUPPORTED_FRAMES.has(item.frame)) return MavMissionResult.UNSUPPORTED_FRAME;
    if (item.missionType === 'fence' && !FENCE_COMMANDS.has(item.command)) {
      return MavMissionResult.UNSUPPORTED;
    }
    if (item.missionType === 'rally' && !RALLY_COMMANDS.has(item.command)) {
      return MavMissionResult.UNSUPPORTED;
    }
    if (
      item.missionType === 'mission' &&
      (FENCE_COMMANDS.has(item.command) || RALLY_COMMANDS.has(item.command))
    ) {
      return MavMissionResult.UNSUPPORTED;
    }
    return null;
  }

  private request(upload: Upload): void {
    upload.lastRequestMs = this.hooks.nowMs();
    this.hooks.send(
      build(common.MissionRequestInt, {
        targetSystem: upload.from.systemId,
        targetComponent: upload.from.componentId,
        seq: upload.items.length,
        missionType: missionTypeCode(upload.type),
      }),
    );
  }

  private sendCount(type: MissionType, to: VehicleAddress): void {
    this.hooks.send(
      build(common.MissionCount, {
        targetSystem: to.systemId,
        targetComponent: to.componentId,
        count: this.lists[type].length,
        missionType: missionTypeCode(type),
        opaqueId: 0,
      }),
    );
  }

  private sendItem(type: MissionType, seq: number, to: VehicleAddress, float: boolean): void {
    const item = this.lists[type][seq];
    if (!item) {
      this.ack(to, type, MavMissionResult.INVALID_SEQUENCE);
      return;
    }
    this.hooks.send(float ? missionItemToFloat(item, to) : missionItemToInt(item, to));
  }

  private withType(code: number, from: VehicleAddress, run: (type: MissionType) => void): void {
    const type = missionTypeFromCode(code);
    if (type === null) {
      this.ack(from, 'mission', MavMissionResult.UNSUPPORTED, code);
      return;
    }
    run(type);
  }

  private ack(
    to: VehicleAddress,
    type: MissionType,
    result: common.MavMissionResult,
    typeCode: number = missionTypeCode(type),
  ): void {
    this.hooks.send(
      build(common.MissionAck, {
        targetSystem: to.systemId,
        targetComponent: to.componentId,
        type: result,
        missionType: typeCode as common.MavMissionType,
        opaqueId: 0,
      }),
    );
  }
}

function sameItem(a: MissionItem, b: MissionItem): boolean {
  return (Object.keys(a) as Array<keyof MissionItem>).every((key) => Object.is(a[key], b[key]));
}
