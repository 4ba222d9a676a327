// The MAVLink mission protocol from the ground station's side, for the mission, fence and rally
// lists: upload (MISSION_COUNT, then the vehicle asks for each item), download
// (MISSION_REQUEST_LIST, MISSION_COUNT, then we ask for each item) and clear (MISSION_CLEAR_ALL).
// Every step is retried on its own timer, a transfer gives up only when nothing moves for a
// number of retries or it runs past its overall time, and one transfer runs at a time.

import { common, type MavLinkData } from 'node-mavlink';

import { createLogger } from '../../core/log';
import type { CommandOutcome } from '../../core/types';
import { build, type ReceivedMessage } from './codec';
import { isGlobalFrame } from './commands';
import { missionOutcome, missionResultName, TIMEOUT } from './outcome';
import type { VehicleAddress } from './vehicle-model';

const log = createLogger('mission');

export type MissionType = 'mission' | 'fence' | 'rally';

export const MISSION_TYPES: readonly MissionType[] = ['mission', 'fence', 'rally'];

const TYPE_CODES: Record<MissionType, common.MavMissionType> = {
  mission: common.MavMissionType.MISSION,
  fence: common.MavMissionType.FENCE,
  rally: common.MavMissionType.RALLY,
};

const TYPE_WORDS: Record<MissionType, string> = {
  mission: 'mission',
  fence: 'fence',
  rally: 'rally points',
};

export function missionTypeCode(type: MissionType): common.MavMissionType {
  return TYPE_CODES[type];
}

export function missionTypeFromCode(code: number): MissionType | null {
  return MISSION_TYPES.find((type) => TYPE_CODES[type] === code) ?? null;
}

/**
 * One item of a mission, fence or rally list, as MISSION_ITEM_INT carries it: in global frames
 * x and y are latitude and longitude in degE7 (integers), z is metres in the frame's datum.
 */
export interface MissionItem {
  seq: number;
  /** MAV_FRAME. */
  frame: number;
  /** MAV_CMD. */
  command: number;
  /** 1 for the item the vehicle should fly first, else 0. */
  current: number;
  autocontinue: number;
  param1: number;
  param2: number;
  param3: number;
  param4: number;
  x: number;
  y: number;
  z: number;
  missionType: MissionType;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const MAX_ITEMS = 0xffff;

/** Checks a list before it is sent; bad input is an Error naming the item and the field. */
export function checkMissionItems(type: MissionType, items: readonly MissionItem[]): void {
  if (!MISSION_TYPES.includes(type)) throw new Error(`unknown mission type "${String(type)}"`);
  if (!Array.isArray(items)) throw new Error('mission items must be an array');
  if (items.length > MAX_ITEMS) {
    throw new Error(`a ${type} list holds at most ${MAX_ITEMS} items, got ${items.length}`);
  }
  items.forEach((item, index) => {
    const where = `${type} item ${index}`;
    if (typeof item !== 'object' || item === null) throw new Error(`${where} is not an object`);
    if (item.seq !== index) {
      throw new Error(`${where} has seq ${item.seq}; items must be numbered 0, 1, 2... in order`);
    }
    if (item.missionType !== type) {
      throw new Error(`${where} is a ${item.missionType} item in a ${type} list`);
    }
    const integer = (field: keyof MissionItem, min: number, max: number): void => {
      const value = item[field];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        throw new Error(`${where}: ${field} must be an integer ${min} to ${max}, got ${value}`);
      }
    };
    integer('frame', 0, 255);
    integer('command', 0, 0xffff);
    integer('current', 0, 255);
    integer('autocontinue', 0, 255);
    integer('x', INT32_MIN, INT32_MAX);
    integer('y', INT32_MIN, INT32_MAX);
    for (const field of ['param1', 'param2', 'param3', 'param4', 'z'] as const) {
      // NaN is allowed: MAVLink uses it for "leave unchanged" in several commands.
      if (
        typeof item[field] !== 'number' ||
        (!Number.isFinite(item[field]) && !Number.isNaN(item[field]))
      ) {
        throw new Error(`${where}: ${field} must be a number, got ${item[field]}`);
      }
    }
  });
}

/** MISSION_ITEM carries positions as floats: degrees in global frames, metres otherwise. */
function floatPositionScale(frame: number): number {
  return isGlobalFrame(frame as common.MavFrame) ? 1e7 : 1e4;
}

/** Both item messages, read alike; `positionScale` turns float positions into integers. */
function itemFromMessage(
  message: common.MissionItemInt | common.MissionItem,
  positionScale: number | null,
): MissionItem | null {
  const missionType = missionTypeFromCode(message.missionType);
  if (!missionType) return null;
  const position = (value: number): number =>
    positionScale === null ? value : Math.round(value * positionScale);
  return {
    seq: message.seq,
    frame: message.frame,
    command: message.command,
    current: message.current,
    autocontinue: message.autocontinue,
    param1: message.param1,
    param2: message.param2,
    param3: message.param3,
    param4: message.param4,
    x: position(message.x),
    y: position(message.y),
    z: message.z,
    missionType,
  };
}

export function missionItemFromInt(message: common.MissionItemInt): MissionItem | null {
  return itemFromMessage(message, null);
}

/** The older float MISSION_ITEM: global positions come in degrees and are rounded to degE7. */
export function missionItemFromFloat(message: common.MissionItem): MissionItem | null {
  return itemFromMessage(message, floatPositionScale(message.frame));
}

function messageFields(item: MissionItem, to: VehicleAddress, positionScale: number | null) {
  const position = (value: number): number =>
    positionScale === null ? value : value / positionScale;
  return {
    targetSystem: to.systemId,
    targetComponent: to.componentId,
    seq: item.seq,
    frame: item.frame as common.MavFrame,
    command: item.command as common.MavCmd,
    current: item.current,
    autocontinue: item.autocontinue,
    param1: item.param1,
    param2: item.param2,
    param3: item.param3,
    param4: item.param4,
    x: position(item.x),
    y: position(item.y),
    z: item.z,
    missionType: TYPE_CODES[item.missionType],
  };
}

export function missionItemToInt(item: MissionItem, to: VehicleAddress): common.MissionItemInt {
  return build(common.MissionItemInt, messageFields(item, to, null));
}

export function missionItemToFloat(item: MissionItem, to: VehicleAddress): common.MissionItem {
  return build(common.MissionItem, messageFields(item, to, floatPositionScale(item.frame)));
}

/**
 * An item as the vehicle will store it: MISSION_ITEM_INT carries params and z as 32-bit floats,
 * so a list read back equals the list sent only after this rounding.
 */
export function asSent(item: MissionItem): MissionItem {
  const f = Math.fround;
  return {
    ...item,
    param1: f(item.param1),
    param2: f(item.param2),
    param3: f(item.param3),
    param4: f(item.param4),
    z: f(item.z),
  };
}

/** Message ids the mission client reads. */
export const MISSION_MESSAGE_IDS: readonly number[] = [
  common.MissionRequest.MSG_ID,
  common.MissionRequestInt.MSG_ID,
  common.MissionAck.MSG_ID,
  common.MissionCount.MSG_ID,
  common.MissionItemInt.MSG_ID,
  common.MissionItem.MSG_ID,
];

export interface MissionProgress {
  /** Items moved so far. */
  done: number;
  total: number;
}

export interface MissionDownload extends CommandOutcome {
  items: MissionItem[];
}

export interface MissionClientOptions {
  send: (message: MavLinkData) => void;
  ownSystemId: number;
  ownComponentId: number;
  /** How long one step may take before it is sent again. */
  itemTimeoutMs: number;
  /** Resends in a row without progress before the transfer fails. */
  itemRetries: number;
  /** The longest any one transfer may take. */
  transferTimeoutMs: number;
}

interface Transfer {
  target: VehicleAddress;
  typeCode: common.MavMissionType;
  onMessage(message: MavLinkData): void;
  abort(reason: string): void;
}

export class MissionClient {
  private active: Transfer | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(private readonly options: MissionClientOptions) {}

  /** Uploads a whole list; the vehicle's list of that type is replaced by exactly these items. */
  upload(
    type: MissionType,
    items: readonly MissionItem[],
    target: VehicleAddress,
    onProgress?: (progress: MissionProgress) => void,
  ): Promise<CommandOutcome> {
    checkMissionItems(type, items);
    const copy = items.map((item) => ({ ...item }));
    const action = `Upload ${TYPE_WORDS[type]} (${plural(copy.length, 'item')})`;
    return this.enqueue(async () => {
      const outcome = await this.runUpload(type, copy, target, action, onProgress);
      return outcome;
    });
  }

  download(
    type: MissionType,
    target: VehicleAddress,
    onProgress?: (progress: MissionProgress) => void,
  ): Promise<MissionDownload> {
    if (!MISSION_TYPES.includes(type)) throw new Error(`unknown mission type "${String(type)}"`);
    return this.enqueue(() =>
      this.runDownload(type, target, `Download ${TYPE_WORDS[type]}`, onProgress),
    );
  }

  clear(type: MissionType, target: VehicleAddress): Promise<CommandOutcome> {
    if (!MISSION_TYPES.includes(type)) throw new Error(`unknown mission type "${String(type)}"`);
    return this.enqueue(() => this.runClear(type, target, `Clear ${TYPE_WORDS[type]}`));
  }

  /** Takes the mission messages of the transfer in progress; true when it was one of them. */
  handle(received: ReceivedMessage): boolean {
    const { message } = received;
    if (!MISSION_MESSAGE_IDS.includes(received.messageId)) return false;
    const transfer = this.active;
    if (!transfer) return true;
    if (
      received.systemId !== transfer.target.systemId ||
      received.componentId !== transfer.target.componentId
    ) {
      return true;
    }
    const addressed = message as unknown as { targetSystem: number; targetComponent: number };
    const forUs =
      (addressed.targetSystem === 0 || addressed.targetSystem === this.options.ownSystemId) &&
      (addressed.targetComponent === 0 ||
        addressed.targetComponent === this.options.ownComponentId);
    const typeCode = (message as unknown as { missionType: number }).missionType;
    if (forUs && typeCode === transfer.typeCode) transfer.onMessage(message);
    return true;
  }

  dispose(): void {
    this.disposed = true;
    this.active?.abort('the link was closed');
  }

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const result = this.queue.then(run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Runs one transfer: retry timer, overall deadline and message routing. */
  private transfer<T>(
    type: MissionType,
    target: VehicleAddress,
    body: (step: StepControl<T>) => Transfer['onMessage'],
    onRetry: (retry: number) => void,
    onGiveUp: () => T,
    onDeadline: () => T,
  ): Promise<T> {
    const { itemTimeoutMs, itemRetries, transferTimeoutMs } = this.options;
    return new Promise<T>((resolve) => {
      let stepTimer: NodeJS.Timeout | null = null;
      let retries = 0;
      let finished = false;
      const deadline = setTimeout(() => finish(onDeadline()), transferTimeoutMs);
      const arm = (): void => {
        if (stepTimer) clearTimeout(stepTimer);
        stepTimer = setTimeout(() => {
          retries++;
          if (retries > itemRetries) {
            finish(onGiveUp());
            return;
          }
          onRetry(retries);
          arm();
        }, itemTimeoutMs);
      };
      const finish = (value: T): void => {
        if (finished) return;
        finished = true;
        clearTimeout(deadline);
        if (stepTimer) clearTimeout(stepTimer);
        if (this.active === transfer) this.active = null;
        resolve(value);
      };
      const control: StepControl<T> = {
        progressed: () => {
          retries = 0;
        },
        rearm: arm,
        finish,
      };
      const transfer: Transfer = {
        target,
        typeCode: TYPE_CODES[type],
        onMessage: body(control),
        abort: () => finish(onDeadline()),
      };
      if (this.disposed) {
        finish(onDeadline());
        return;
      }
      this.active = transfer;
      arm();
    });
  }

  private runUpload(
    type: MissionType,
    items: MissionItem[],
    target: VehicleAddress,
    action: string,
    onProgress?: (progress: MissionProgress) => void,
  ): Promise<CommandOutcome> {
    const count = items.length;
    const typeCode = TYPE_CODES[type];
    let highestRequested = -1;
    let lastSent: { seq: number; float: boolean } | null = null;
    const sendCount = (): void =>
      this.options.send(
        build(common.MissionCount, {
          targetSystem: target.systemId,
          targetComponent: target.componentId,
          count,
          missionType: typeCode,
          opaqueId: 0,
        }),
      );
    const sendItem = (seq: number, float: boolean): void => {
      const item = items[seq];
      this.options.send(float ? missionItemToFloat(item, target) : missionItemToInt(item, target));
      lastSent = { seq, float };
    };
    const promise = this.transfer<CommandOutcome>(
      type,
      target,
      (step) => (message) => {
        if (
          message instanceof common.MissionRequestInt ||
          message instanceof common.MissionRequest
        ) {
          const seq = message.seq;
          if (seq >= count) {
            log.warn(`${action}: the vehicle asked for item ${seq} of ${count}`);
            return;
          }
          if (seq > highestRequested) {
            highestRequested = seq;
            step.progressed();
            this.report(onProgress, { done: seq, total: count });
          }
          sendItem(seq, message instanceof common.MissionRequest);
          step.rearm();
        } else if (message instanceof common.MissionAck) {
          const result = missionResultName(message.type);
          if (result === 'ACCEPTED') {
            // An ACCEPTED before the last item went out is left over from an earlier transfer.
            if (count > 0 && highestRequested < count - 1) return;
            this.report(onProgress, { done: count, total: count });
            step.finish(missionOutcome(action, 'ACCEPTED'));
          } else if (result === 'INVALID_SEQUENCE') {
            // The vehicle got a copy it had already stored; it asks again for what it needs.
            log.debug(`${action}: the vehicle ignored an item out of sequence`);
          } else {
            step.finish(missionOutcome(action, result));
          }
        }
      },
      () => {
        // Nothing came: repeat the last thing we said, which the vehicle may not have heard.
        if (lastSent === null) sendCount();
        else sendItem(lastSent.seq, lastSent.float);
      },
      () => {
        this.cancel(target, typeCode);
        const reason =
          highestRequested < 0
            ? 'the vehicle never asked for the items'
            : highestRequested === count - 1
              ? `the vehicle did not confirm the last item; download to check`
              : `the vehicle stopped asking after item ${highestRequested + 1} of ${count}`;
        return missionOutcome(action, TIMEOUT, reason);
      },
      () => {
        this.cancel(target, typeCode);
        return missionOutcome(action, TIMEOUT, this.overallReason(highestRequested + 1, count));
      },
    );
    sendCount();
    return promise;
  }

  private runDownload(
    type: MissionType,
    target: VehicleAddress,
    action: string,
    onProgress?: (progress: MissionProgress) => void,
  ): Promise<MissionDownload> {
    const typeCode = TYPE_CODES[type];
    let count: number | null = null;
    const items: MissionItem[] = [];
    const requestList = (): void =>
      this.options.send(
        build(common.MissionRequestList, {
          targetSystem: target.systemId,
          targetComponent: target.componentId,
          missionType: typeCode,
        }),
      );
    const requestItem = (seq: number): void =>
      this.options.send(
        build(common.MissionRequestInt, {
          targetSystem: target.systemId,
          targetComponent: target.componentId,
          seq,
          missionType: typeCode,
        }),
      );
    const failed = (result: string, reason: string | null): MissionDownload => ({
      ...missionOutcome(action, result, reason),
      items: [],
    });
    const promise = this.transfer<MissionDownload>(
      type,
      target,
      (step) => (message) => {
        if (message instanceof common.MissionCount) {
          if (count !== null) return;
          count = message.count;
          step.progressed();
          this.report(onProgress, { done: 0, total: count });
          if (count === 0) {
            this.sendAck(target, typeCode, common.MavMissionResult.ACCEPTED);
            step.finish({ ...missionOutcome(action, 'ACCEPTED', 'the vehicle has none'), items });
            return;
          }
          requestItem(0);
          step.rearm();
        } else if (
          message instanceof common.MissionItemInt ||
          message instanceof common.MissionItem
        ) {
          if (count === null || message.seq !== items.length) return;
          const item =
            message instanceof common.MissionItemInt
              ? missionItemFromInt(message)
              : missionItemFromFloat(message);
          if (!item) return;
          items.push(item);
          step.progressed();
          this.report(onProgress, { done: items.length, total: count });
          if (items.length === count) {
            this.sendAck(target, typeCode, common.MavMissionResult.ACCEPTED);
            step.finish({ ...missionOutcome(action, 'ACCEPTED', plural(count, 'item')), items });
            return;
          }
          requestItem(items.length);
          step.rearm();
        } else if (message instanceof common.MissionAck) {
          const result = missionResultName(message.type);
          // A vehicle that cannot list this type says so with an error ACK.
          if (result !== 'ACCEPTED' && result !== 'INVALID_SEQUENCE') {
            step.finish(failed(result, null));
          }
        }
      },
      () => {
        if (count === null) requestList();
        else requestItem(items.length);
      },
      () => {
        this.cancel(target, typeCode);
        const reason =
          count === null
            ? 'the vehicle did not say how many items it has'
            : `the vehicle stopped answering at item ${items.length + 1} of ${count}`;
        return failed(TIMEOUT, reason);
      },
      () => {
        this.cancel(target, typeCode);
        return failed(TIMEOUT, this.overallReason(items.length, count));
      },
    );
    requestList();
    return promise;
  }

  private runClear(
    type: MissionType,
    target: VehicleAddress,
    action: string,
  ): Promise<CommandOutcome> {
    const typeCode = TYPE_CODES[type];
    const clear = (): void =>
      this.options.send(
        build(common.MissionClearAll, {
          targetSystem: target.systemId,
          targetComponent: target.componentId,
          missionType: typeCode,
        }),
      );
    const promise = this.transfer<CommandOutcome>(
      type,
      target,
      (step) => (message) => {
        if (message instanceof common.MissionAck) {
          step.finish(missionOutcome(action, missionResultName(message.type)));
        }
      },
      clear,
      () => missionOutcome(action, TIMEOUT, null),
      () => missionOutcome(action, TIMEOUT, null),
    );
    clear();
    return promise;
  }

  private overallReason(done: number, total: number | null): string {
    const seconds = Math.round(this.options.transferTimeoutMs / 1000);
    const where = total === null ? '' : ` (${done} of ${total} items done)`;
    return `the transfer took longer than ${seconds} s${where}`;
  }

  /** Tells the vehicle we gave up, so it stops waiting for the rest of the transfer. */
  private cancel(target: VehicleAddress, typeCode: common.MavMissionType): void {
    this.sendAck(target, typeCode, common.MavMissionResult.OPERATION_CANCELLED);
  }

  private sendAck(
    target: VehicleAddress,
    typeCode: common.MavMissionType,
    result: common.MavMissionResult,
  ): void {
    this.options.send(
      build(common.MissionAck, {
        targetSystem: target.systemId,
        targetComponent: target.componentId,
        type: result,
        missionType: typeCode,
        opaqueId: 0,
      }),
    );
  }

  private report(
    onProgress: ((progress: MissionProgress) => void) | undefined,
    progress: MissionProgress,
  ): void {
    try {
      onProgress?.(progress);
    } catch (error) {
      log.error(`a mission progress listener failed: ${String(error)}`);
    }
  }
}

interface StepControl<T> {
  /** Something moved: the retry count starts again. */
  progressed(): void;
  /** Restart the step timer after sending something new. */
  rearm(): void;
  finish(value: T): void;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
