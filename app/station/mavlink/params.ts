// The MAVLink parameter protocol from the ground station's side: read the whole table
// (PARAM_REQUEST_LIST, then PARAM_REQUEST_READ by index for whatever the stream lost), read one
// by name, and set one and check the vehicle's echo (PARAM_SET, PARAM_VALUE). Values travel in a
// float: ArduPilot casts integers to it, PX4 copies their bytes into it.

import { common, type MavLinkData } from 'node-mavlink';

import { createLogger } from '../../core/log';
import type { CommandOutcome } from '../../core/types';
import { build } from './codec';
import { NOT_SENT, paramOutcome, TIMEOUT } from './outcome';
import type { VehicleAddress } from './vehicle-model';

const log = createLogger('params');

export type ParamType =
  | 'UINT8'
  | 'INT8'
  | 'UINT16'
  | 'INT16'
  | 'UINT32'
  | 'INT32'
  | 'UINT64'
  | 'INT64'
  | 'REAL32'
  | 'REAL64';

/** How integers travel in PARAM_VALUE's float: cast (ArduPilot) or byte for byte (PX4). */
export type ParamEncoding = 'cast' | 'bytewise';

export interface VehicleParam {
  name: string;
  value: number;
  type: ParamType;
  /** Position in the vehicle's table, or null for a value sent outside the list. */
  index: number | null;
}

export interface ParamListOutcome extends CommandOutcome {
  /** By index; complete when ok. */
  params: VehicleParam[];
}

export interface ParamOutcome extends CommandOutcome {
  /** What the vehicle holds now, when it said. */
  param: VehicleParam | null;
}

export interface ParamProgress {
  received: number;
  /** Null until the vehicle has said how many it has. */
  total: number | null;
}

const NAME_MAX_CHARS = 16;
/** PARAM_VALUE.param_index of a value that is not part of a list. */
const NOT_IN_LIST = 0xffff;

const RANGES: Partial<Record<ParamType, [number, number]>> = {
  UINT8: [0, 0xff],
  INT8: [-0x80, 0x7f],
  UINT16: [0, 0xffff],
  INT16: [-0x8000, 0x7fff],
  UINT32: [0, 0xffffffff],
  INT32: [-0x80000000, 0x7fffffff],
};

export function paramTypeName(code: number): ParamType | null {
  const name = common.MavParamType[code];
  return name !== undefined && name in TYPE_CODES ? (name as ParamType) : null;
}

const TYPE_CODES: Record<ParamType, common.MavParamType> = {
  UINT8: common.MavParamType.UINT8,
  INT8: common.MavParamType.INT8,
  UINT16: common.MavParamType.UINT16,
  INT16: common.MavParamType.INT16,
  UINT32: common.MavParamType.UINT32,
  INT32: common.MavParamType.INT32,
  UINT64: common.MavParamType.UINT64,
  INT64: common.MavParamType.INT64,
  REAL32: common.MavParamType.REAL32,
  REAL64: common.MavParamType.REAL64,
};

export function paramTypeCode(type: ParamType): common.MavParamType {
  return TYPE_CODES[type];
}

/** The number a PARAM_VALUE float stands for. */
export function decodeParamValue(wire: number, type: ParamType, encoding: ParamEncoding): number {
  if (encoding === 'cast' || type === 'REAL32' || type === 'REAL64') return wire;
  const bytes = Buffer.alloc(4);
  bytes.writeFloatLE(wire);
  switch (type) {
    case 'UINT8':
      return bytes.readUInt8(0);
    case 'INT8':
      return bytes.readInt8(0);
    case 'UINT16':
      return bytes.readUInt16LE(0);
    case 'INT16':
      return bytes.readInt16LE(0);
    case 'UINT32':
      return bytes.readUInt32LE(0);
    default:
      return bytes.readInt32LE(0);
  }
}

/** The float that carries a value of this type in PARAM_SET. */
export function encodeParamValue(value: number, type: ParamType, encoding: ParamEncoding): number {
  if (encoding === 'cast' || type === 'REAL32' || type === 'REAL64') return Math.fround(value);
  const bytes = Buffer.alloc(4);
  switch (type) {
    case 'UINT8':
      bytes.writeUInt8(value, 0);
      break;
    case 'INT8':
      bytes.writeInt8(value, 0);
      break;
    case 'UINT16':
      bytes.writeUInt16LE(value, 0);
      break;
    case 'INT16':
      bytes.writeInt16LE(value, 0);
      break;
    case 'UINT32':
      bytes.writeUInt32LE(value, 0);
      break;
    default:
      bytes.writeInt32LE(value, 0);
  }
  return bytes.readFloatLE(0);
}

/** The value the vehicle will hold for a request, so the echo can be compared with it. */
export function storedValue(value: number, type: ParamType): number {
  return type === 'REAL32' ? Math.fround(value) : value;
}

export function checkParamName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > NAME_MAX_CHARS) {
    throw new Error(`a parameter name is 1 to ${NAME_MAX_CHARS} characters, got "${name}"`);
  }
  if (!/^[\x21-\x7e]+$/.test(name)) {
    throw new Error(`parameter name "${name}" has characters other than printable ASCII`);
  }
}

export function checkParamValue(name: string, value: number, type: ParamType): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${name} must be set to a finite number, got ${value}`);
  }
  const range = RANGES[type];
  if (range) {
    if (!Number.isInteger(value)) {
      throw new Error(`${name} is an integer parameter (${type}); ${value} is not a whole number`);
    }
    if (value < range[0] || value > range[1]) {
      throw new Error(`${name} (${type}) takes ${range[0]} to ${range[1]}, got ${value}`);
    }
  }
  if (type === 'UINT64' || type === 'INT64' || type === 'REAL64') {
    throw new Error(`${name} is ${type}, which PARAM_SET cannot carry`);
  }
}

export interface ParamClientOptions {
  send: (message: MavLinkData) => void;
  /** How integers travel, decided by the autopilot at the time of each message. */
  encoding: () => ParamEncoding;
  /** How long to wait for an answer (or, reading all, for the stream to go quiet). */
  timeoutMs: number;
  /** Resends in a row without progress before giving up. */
  retries: number;
  /** The longest a whole-table read may take. */
  listTimeoutMs: number;
  /** Missing indices asked for at once after the stream went quiet. */
  rereadBatch: number;
}

type ValueListener = (param: VehicleParam, count: number) => void;

export class ParamClient {
  private readonly table = new Map<string, VehicleParam>();
  private readonly listeners = new Set<ValueListener>();
  private target: VehicleAddress | null = null;
  /** The table's size once it has been read whole. */
  private completeCount: number | null = null;
  private disposed = false;
  private readonly aborts = new Set<() => void>();

  constructor(private readonly options: ParamClientOptions) {}

  /** Every value heard so far, by name. */
  get cache(): ReadonlyMap<string, VehicleParam> {
    return this.table;
  }

  /** Takes PARAM_VALUE from the vehicle. */
  handle(message: common.ParamValue, from: VehicleAddress): void {
    // Gimbals and cameras have parameters too; only the vehicle asked counts.
    const target = this.target;
    if (!target || from.systemId !== target.systemId || from.componentId !== target.componentId) {
      return;
    }
    const type = paramTypeName(message.paramType);
    if (!type) {
      log.debug(`${message.paramId}: unknown parameter type ${message.paramType}`);
      return;
    }
    const param: VehicleParam = {
      name: message.paramId,
      value: decodeParamValue(message.paramValue, type, this.options.encoding()),
      type,
      index: message.paramIndex === NOT_IN_LIST ? null : message.paramIndex,
    };
    this.table.set(param.name, param);
    for (const listener of [...this.listeners]) listener(param, message.paramCount);
  }

  readAll(
    target: VehicleAddress,
    onProgress?: (progress: ParamProgress) => void,
  ): Promise<ParamListOutcome> {
    this.target = target;
    const action = 'Read all parameters';
    const { timeoutMs, retries: maxRetries, listTimeoutMs, rereadBatch } = this.options;
    return new Promise<ParamListOutcome>((resolve) => {
      const byIndex = new Map<number, VehicleParam>();
      let total: number | null = null;
      let retries = 0;
      let quietTimer: NodeJS.Timeout | null = null;
      let rereadFrom = 0;
      const report = (): void => {
        try {
          onProgress?.({ received: byIndex.size, total });
        } catch (error) {
          log.error(`a parameter progress listener failed: ${String(error)}`);
        }
      };
      const finish = (result: string, detail: string): void => {
        clearTimeout(deadline);
        if (quietTimer) clearTimeout(quietTimer);
        this.listeners.delete(listener);
        this.aborts.delete(abort);
        const params = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
        resolve({ ...paramOutcome(action, result, detail), params });
      };
      const missing = (): number[] => {
        if (total === null) return [];
        const gaps: number[] = [];
        for (let i = 0; i < total && gaps.length < rereadBatch; i++) {
          const index = (rereadFrom + i) % total;
          if (!byIndex.has(index)) gaps.push(index);
        }
        return gaps;
      };
      const armQuiet = (): void => {
        if (quietTimer) clearTimeout(quietTimer);
        quietTimer = setTimeout(onQuiet, timeoutMs);
      };
      const onQuiet = (): void => {
        retries++;
        if (retries > maxRetries) {
          finish(TIMEOUT, `got ${byIndex.size} of ${total ?? 'an unknown number of'} parameters`);
          return;
        }
        if (total === null) {
          this.sendRequestList(target);
        } else {
          const gaps = missing();
          if (gaps.length > 0) rereadFrom = gaps[gaps.length - 1] + 1;
          for (const index of gaps) this.sendRequestRead(target, '', index);
        }
        armQuiet();
      };
      const listener: ValueListener = (param, count) => {
        if (param.index === null || count === 0 || param.index >= count) return;
        if (total !== count) total = count;
        if (byIndex.has(param.index)) return;
        byIndex.set(param.index, param);
        retries = 0;
        report();
        if (byIndex.size >= total) {
          this.completeCount = total;
          finish('ACCEPTED', `${total} parameters`);
          return;
        }
        armQuiet();
      };
      const abort = (): void => finish(NOT_SENT, 'the link was closed');
      const deadline = setTimeout(() => {
        const seconds = Math.round(listTimeoutMs / 1000);
        finish(TIMEOUT, `took longer than ${seconds} s (${byIndex.size} of ${total ?? '?'} read)`);
      }, listTimeoutMs);
      if (this.disposed) {
        abort();
        return;
      }
      this.listeners.add(listener);
      this.aborts.add(abort);
      this.sendRequestList(target);
      armQuiet();
    });
  }

  read(target: VehicleAddress, name: string): Promise<ParamOutcome> {
    checkParamName(name);
    this.target = target;
    const action = `Read ${name}`;
    return this.exchange(
      action,
      () => this.sendRequestRead(target, name, -1),
      (param, done) => {
        if (param.name === name) done('ACCEPTED', `${formatValue(param.value)}`, param);
      },
      () =>
        this.completeCount !== null && !this.table.has(name)
          ? `the vehicle has no parameter named ${name}`
          : `no answer from the vehicle (does it have a parameter named ${name}?)`,
    );
  }

  /**
   * Sets a parameter and checks the vehicle's echo. Its type comes from the table read before,
   * or from reading it first. Bad values (wrong type, out of range) are an Error.
   */
  async set(target: VehicleAddress, name: string, value: number): Promise<ParamOutcome> {
    checkParamName(name);
    this.target = target;
    let known = this.table.get(name) ?? null;
    if (!known) {
      const read = await this.read(target, name);
      if (!read.ok || !read.param) {
        return { ...paramOutcome(`Set ${name}`, read.result, reasonOf(read.text)), param: null };
      }
      known = read.param;
    }
    const { type } = known;
    checkParamValue(name, value, type);
    const previous = known.value;
    const wanted = storedValue(value, type);
    const action = `Set ${name} to ${formatValue(value)}`;
    let sends = 0;
    let lastMismatch: number | null = null;
    const send = (): void => {
      sends++;
      this.options.send(
        build(common.ParamSet, {
          targetSystem: target.systemId,
          targetComponent: target.componentId,
          paramId: name,
          paramValue: encodeParamValue(value, type, this.options.encoding()),
          paramType: TYPE_CODES[type],
        }),
      );
    };
    return this.exchange(
      action,
      send,
      (param, done, resend) => {
        if (param.name !== name) return;
        if (param.value === wanted) {
          done('ACCEPTED', 'the vehicle holds the new value', param);
          return;
        }
        // One different echo may be an old value still on its way; two say the vehicle decided.
        if (lastMismatch === param.value || sends >= this.options.retries + 1) {
          if (param.value === previous) {
            done('REFUSED', `the vehicle kept ${formatValue(param.value)}`, param);
          } else {
            const held = formatValue(param.value);
            done('CLAMPED', `the vehicle set ${held} instead (its limit)`, param);
          }
          return;
        }
        lastMismatch = param.value;
        resend();
      },
      () => `no answer from the vehicle; it may not accept ${name}`,
    );
  }

  dispose(): void {
    this.disposed = true;
    for (const abort of [...this.aborts]) abort();
    this.listeners.clear();
  }

  /** One request and its answer: resend on timeout, give up after the retries. */
  private exchange(
    action: string,
    send: () => void,
    onValue: (
      param: VehicleParam,
      done: (result: string, detail: string, param: VehicleParam | null) => void,
      resend: () => void,
    ) => void,
    timeoutDetail: () => string,
  ): Promise<ParamOutcome> {
    const { timeoutMs, retries } = this.options;
    return new Promise<ParamOutcome>((resolve) => {
      let attempts = 0;
      let timer: NodeJS.Timeout | null = null;
      let finished = false;
      const done = (result: string, detail: string, param: VehicleParam | null): void => {
        if (finished) return;
        finished = true;
        if (timer) clearTimeout(timer);
        this.listeners.delete(listener);
        this.aborts.delete(abort);
        resolve({ ...paramOutcome(action, result, detail), param });
      };
      const transmit = (): void => {
        if (finished) return;
        if (attempts > retries) {
          done(TIMEOUT, timeoutDetail(), null);
          return;
        }
        attempts++;
        send();
        if (timer) clearTimeout(timer);
        timer = setTimeout(transmit, timeoutMs);
      };
      const listener: ValueListener = (param) => onValue(param, done, transmit);
      const abort = (): void => done(NOT_SENT, 'the link was closed', null);
      if (this.disposed) {
        abort();
        return;
      }
      this.listeners.add(listener);
      this.aborts.add(abort);
      transmit();
    });
  }

  private sendRequestList(target: VehicleAddress): void {
    this.options.send(
      build(common.ParamRequestList, {
        targetSystem: target.systemId,
        targetComponent: target.componentId,
      }),
    );
  }

  private sendRequestRead(target: VehicleAddress, name: string, index: number): void {
    this.options.send(
      build(common.ParamRequestRead, {
        targetSystem: target.systemId,
        targetComponent: target.componentId,
        paramId: name,
        paramIndex: index,
      }),
    );
  }
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(7)));
}

/** The detail of an outcome text, without the action and the bracketed result. */
function reasonOf(text: string): string {
  return text.replace(/^[^:]*: /, '').replace(/ \([A-Z_]+\)$/, '');
}
