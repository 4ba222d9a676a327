// The hazing log on disk: a legal record, so every change (operator set, event start, each
// operator action, event end) is appended as one JSON line and fsync'd before the call returns;
// a kill -9 or a power cut loses nothing that was acknowledged. A disk that fails is reported
// once and the log goes on in memory: the station never stops over it.

import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { Disposable } from '../../core/disposable';
import { distanceM } from '../../core/geodesy';
import {
  checkHazingOperator,
  hazingEventsToCsv,
  type HazingEvent,
  type HazingOperator,
  type HazingOutcome,
} from '../../core/hazing-log';
import { createLogger } from '../../core/log';
import type { LatLon } from '../../core/types';
import { makeFolder } from '../fs-util';

const log = createLogger('hazing-log');

export type HazingEventStart = Omit<
  HazingEvent,
  | 'id'
  | 'endedMs'
  | 'bearEnd'
  | 'droneEnd'
  | 'bearMovedM'
  | 'durationS'
  | 'outcome'
  | 'actions'
  | 'operator'
>;

export interface HazingEventEnd {
  outcome: HazingOutcome;
  bearEnd: LatLon | null;
  droneEnd: LatLon | null;
  endedMs?: number;
}

/** One line of the file. Each event line holds the whole event as it stands after the change. */
export type HazingLogLine =
  | { kind: 'operator'; timeMs: number; operator: HazingOperator }
  | { kind: 'event'; change: 'start' | 'action' | 'end'; timeMs: number; event: HazingEvent };

export const HAZING_OUTCOMES: readonly HazingOutcome[] = [
  'success',
  'finished',
  'aborted',
  'failed',
  'battery',
  'link-lost',
  'mode-changed',
  'lost-bear',
];

export interface HazingLogStoreOptions {
  /** The JSON Lines file, appended to; null keeps the log in memory only. */
  filePath: string | null;
}

export class HazingLogStore implements Disposable {
  private readonly filePath: string | null;
  private fd: number | null = null;
  private failure: string | null = null;
  private disposed = false;
  private current: HazingOperator | null = null;
  private readonly byId = new Map<string, HazingEvent>();
  private readonly listeners = new Set<(event: HazingEvent) => void>();
  /** Ids already in the file from an earlier run, so a new id never repeats one. */
  private readonly takenIds = new Set<string>();
  private sequence = 0;
  /** The file ends in a line cut short by an earlier crash: end it before appending. */
  private tornLastLine = false;

  constructor(options: HazingLogStoreOptions) {
    this.filePath = options.filePath === null ? null : path.resolve(options.filePath);
    if (this.filePath === null) return;
    let torn = false;
    // Only a regular file is read back: a device or a pipe would never end.
    if (isRegularFile(this.filePath)) {
      try {
        const earlier = readHazingLogFile(this.filePath);
        for (const event of earlier.events) this.takenIds.add(event.id);
        torn = earlier.tornLastLine;
      } catch (error) {
        this.fail('read', error);
      }
    }
    this.tornLastLine = torn;
    // The file itself is made at the first record (a session that hazes nothing leaves none),
    // but a folder it could never be written to is said now.
    try {
      const folder = path.dirname(this.filePath);
      makeFolder(folder);
      accessSync(folder, constants.W_OK);
    } catch (error) {
      this.fail('open', error);
    }
  }

  private open(): void {
    if (this.fd !== null || this.filePath === null || this.failure !== null) return;
    try {
      this.fd = openSync(this.filePath, 'a', 0o644);
      // A line cut short by an earlier crash is ended, so it cannot swallow the next record.
      if (this.tornLastLine) writeSync(this.fd, '\n');
      this.tornLastLine = false;
    } catch (error) {
      this.fail('open', error);
    }
  }

  /** Where the log is written; null when it is kept in memory only. */
  get file(): string | null {
    return this.filePath;
  }

  /** Why the file stopped being written; null while every change reaches the disk. */
  get writeError(): string | null {
    return this.failure;
  }

  get operator(): HazingOperator | null {
    return this.current ? { ...this.current } : null;
  }

  /** Who hazes under what authority for the rest of the session. Throws on a bad operator. */
  setOperator(operator: HazingOperator): void {
    const checked = checkHazingOperator(operator);
    this.current = checked;
    this.append({ kind: 'operator', timeMs: Date.now(), operator: checked });
  }

  /** Opens an event; its first action is the start. Throws when no operator is set. */
  start(init: HazingEventStart): HazingEvent {
    if (this.current === null) {
      throw new Error(
        'no hazing operator: give the operator name and agency or permit id before hazing',
      );
    }
    if (!Number.isFinite(init.startedMs)) {
      throw new Error(`hazing event start time ${init.startedMs} is not a time`);
    }
    const event: HazingEvent = {
      id: this.nextId(init.startedMs),
      operator: { ...this.current },
      trackId: init.trackId,
      pattern: structuredClone(init.pattern),
      startedMs: init.startedMs,
      endedMs: null,
      bearStart: copyPoint(init.bearStart),
      bearEnd: null,
      droneStart: copyPoint(init.droneStart),
      droneEnd: null,
      bearMovedM: null,
      durationS: null,
      outcome: null,
      actions: [
        {
          timeMs: init.startedMs,
          action: 'start',
          detail:
            init.trackId === null
              ? init.pattern.kind
              : `${init.pattern.kind} bear track ${init.trackId}`,
        },
      ],
    };
    this.byId.set(event.id, event);
    return this.changed('start', event, init.startedMs);
  }

  /**
   * Records an operator action (nudge, abort, return-home, land, speaker-on, hold...). Actions
   * after the end are kept too: after an ABORT the operator still chooses return or land.
   */
  action(eventId: string, action: string, detail: string, timeMs = Date.now()): HazingEvent {
    const event = this.get(eventId);
    if (typeof action !== 'string' || action.trim() === '') {
      throw new Error(`hazing event ${eventId}: an action needs a name`);
    }
    if (!Number.isFinite(timeMs)) throw new Error(`hazing event ${eventId}: time ${timeMs}`);
    event.actions.push({ timeMs, action: action.trim(), detail: String(detail) });
    return this.changed('action', event, timeMs);
  }

  /** Closes an event: outcome, end positions, how far the bear moved, how long it took. */
  end(eventId: string, end: HazingEventEnd): HazingEvent {
    const event = this.get(eventId);
    if (event.outcome !== null) {
      throw new Error(`hazing event ${eventId} already ended (${event.outcome})`);
    }
    if (!HAZING_OUTCOMES.includes(end.outcome)) {
      throw new Error(`hazing event ${eventId}: unknown outcome ${JSON.stringify(end.outcome)}`);
    }
    const endedMs = end.endedMs ?? Date.now();
    if (!Number.isFinite(endedMs)) throw new Error(`hazing event ${eventId}: end time ${endedMs}`);
    event.endedMs = endedMs;
    event.outcome = end.outcome;
    event.bearEnd = copyPoint(end.bearEnd);
    event.droneEnd = copyPoint(end.droneEnd);
    event.bearMovedM =
      event.bearStart && event.bearEnd ? distanceM(event.bearStart, event.bearEnd) : null;
    event.durationS = Math.max(0, endedMs - event.startedMs) / 1000;
    return this.changed('end', event, endedMs);
  }

  /** Every event of this session, oldest first, as copies. */
  events(): HazingEvent[] {
    return [...this.byId.values()].map((event) => structuredClone(event));
  }

  /** Hears every change to an event: its start, each action, its end. */
  onChange(listener: (event: HazingEvent) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  toJson(): string {
    return `${JSON.stringify({ operator: this.current, events: this.events() }, null, 2)}\n`;
  }

  toCsv(): string {
    return hazingEventsToCsv(this.events());
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.listeners.clear();
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      try {
        closeSync(fd);
      } catch (error) {
        this.fail('close', error);
      }
    }
  }

  private get(eventId: string): HazingEvent {
    const event = this.byId.get(eventId);
    if (!event) throw new Error(`no hazing event ${JSON.stringify(eventId)}`);
    return event;
  }

  private nextId(startedMs: number): string {
    // Readable in a file listing, and unique within the store and the file it appends to.
    const stamp = new Date(startedMs)
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')
      .replace(/:/g, '-');
    for (;;) {
      this.sequence += 1;
      const id = `${stamp}-${this.sequence}`;
      if (!this.byId.has(id) && !this.takenIds.has(id)) return id;
    }
  }

  private changed(change: 'start' | 'action' | 'end', event: HazingEvent, timeMs: number) {
    this.append({ kind: 'event', change, timeMs, event });
    for (const listener of this.listeners) {
      try {
        listener(structuredClone(event));
      } catch (error) {
        log.error(`a hazing log listener failed: ${describe(error)}`);
      }
    }
    return structuredClone(event);
  }

  private append(line: HazingLogLine): void {
    if (this.disposed) return;
    this.open();
    if (this.fd === null) return;
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`, 'utf8');
    try {
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset);
    } catch (error) {
      this.writeFailed(error);
      return;
    }
    try {
      fsyncSync(this.fd);
    } catch (error) {
      // A pipe or terminal cannot be synced (EINVAL); what was written is all there is.
      if ((error as NodeJS.ErrnoException).code !== 'EINVAL') this.writeFailed(error);
    }
  }

  private writeFailed(error: unknown): void {
    this.fail('write', error);
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // Already failing: the first error is the one reported.
    }
    this.fd = null;
  }

  private fail(what: 'read' | 'open' | 'write' | 'close', error: unknown): void {
    if (this.failure !== null) return;
    this.failure = `cannot ${what} the hazing log ${this.filePath} (${describe(error)})`;
    log.error(`${this.failure}: it is kept in memory only from now on`);
  }
}

export interface HazingLogRead {
  events: HazingEvent[];
  /** Every operator set, in order: who hazed when. */
  operators: Array<{ timeMs: number; operator: HazingOperator }>;
  /** Lines that were not whole JSON records, for example a last line cut short by a crash. */
  skippedLines: number;
  /** The last line was cut short (a kill during a write): it was skipped. */
  tornLastLine: boolean;
}

/** Rebuilds the log from its JSON Lines file, for replay: the newest state of each event. */
export function readHazingLogFile(filePath: string): HazingLogRead {
  const text = readFileSync(filePath, 'utf8');
  const lines = text.split('\n');
  // A file that ends in a newline has an empty last piece; one that does not was cut short.
  const tornCandidate = lines.at(-1) !== '' ? lines.length - 1 : -1;
  const byId = new Map<string, HazingEvent>();
  const operators: HazingLogRead['operators'] = [];
  let skippedLines = 0;
  let tornLastLine = false;
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    const line = parseLine(raw);
    if (line === null) {
      skippedLines += 1;
      if (index === tornCandidate) tornLastLine = true;
      return;
    }
    if (line.kind === 'operator') operators.push({ timeMs: line.timeMs, operator: line.operator });
    else byId.set(line.event.id, line.event);
  });
  if (skippedLines > 0) {
    log.warn(`${filePath}: skipped ${skippedLines} line(s) that were not whole records`);
  }
  return { events: [...byId.values()], operators, skippedLines, tornLastLine };
}

/** The events of a hazing log file, for replay; see readHazingLogFile for what was skipped. */
export function readHazingLog(filePath: string): HazingEvent[] {
  return readHazingLogFile(filePath).events;
}

function parseLine(raw: string): HazingLogLine | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const line = value as Partial<HazingLogLine> & Record<string, unknown>;
  if (line.kind === 'operator' && isRecord(line.operator) && typeof line.timeMs === 'number') {
    return line as HazingLogLine;
  }
  if (line.kind === 'event' && isRecord(line.event) && typeof line.event.id === 'string') {
    return line as HazingLogLine;
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    // Missing, or under something that is not a folder: opening it says why.
    return false;
  }
}

function copyPoint(point: LatLon | null): LatLon | null {
  return point ? { latDeg: point.latDeg, lonDeg: point.lonDeg } : null;
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  return code && !text.includes(code) ? `${code}: ${text}` : text;
}
