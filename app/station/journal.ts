// The session journal: what the station told its clients and what its operators asked, beside
// the flight record (FOO.journal.jsonl next to FOO.tlog), so a replay can show the same picture
// a live client had at any moment. JSON Lines, one object a line, each with its wall-clock time:
//   {"t":ms,"session":{"version":1,"tlog":"FOO.tlog"}}          the first line
//   {"t":ms,"m":<ServerMessage>}                                 a broadcast message
//   {"t":ms,"command":{"id":n,"command":<OperatorCommand>}}      a command as it arrived
//   {"t":ms,"result":{"id":n,"outcome":<CommandOutcome>}}        its outcome when answered
//   {"t":ms,"stopped":"<why>"}                                    the last line, at its limit
// Video frames and telemetry are not here: the video file and the tlog hold them.

import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

import type { Disposable } from '../core/disposable';
import { createLogger } from '../core/log';
import type { OperatorCommand, ServerMessage, VideoStatus } from '../core/protocol';
import type { CommandOutcome } from '../core/types';
import { describeSettings } from './hazing/runner';

const log = createLogger('journal');

export const JOURNAL_VERSION = 1;
/** The most a replay reads of a journal: past it the journal stops, the flight goes on. */
export const JOURNAL_MAX_BYTES = 512 * 1024 * 1024;
/** Kept free under the limit for the line that says the journal stopped. */
const STOP_LINE_ROOM_BYTES = 128;

/** Message types the journal leaves out: the video and the tlog hold them, or they are noise. */
export const JOURNAL_SKIPPED_TYPES: ReadonlySet<ServerMessage['type']> = new Set([
  'frame',
  'vehicle',
  'vehicles',
  'links',
  'heartbeat',
  'command-result',
  'sim-truth',
]);

export type JournalLine =
  | { t: number; session: { version: number; tlog: string } }
  | { t: number; m: ServerMessage }
  | { t: number; command: { id: number; command: OperatorCommand } }
  | { t: number; result: { id: number; outcome: CommandOutcome } }
  | { t: number; stopped: string };

/** The files recorded beside a flight record FOO.tlog (each may be absent). */
export function sidecarPaths(tlogPath: string): {
  video: string;
  frameTable: string;
  journal: string;
  hazingLog: string;
} {
  const base = tlogPath.replace(/\.tlog$/i, '');
  return {
    video: `${base}.ts`,
    frameTable: `${base}.frames.csv`,
    journal: `${base}.journal.jsonl`,
    hazingLog: `${base}.hazing.jsonl`,
  };
}

export interface SessionJournalOptions {
  /**
   * Told once, in words for the operator, when the journal stops: writing failed or it reached
   * maxBytes.
   */
  onError?: (message: string) => void;
  /** The journal's size limit, its last line included; JOURNAL_MAX_BYTES by default. */
  maxBytes?: number;
}

export class SessionJournal implements Disposable {
  private fd: number | null;
  private failure: string | null = null;
  private bytesWritten = 0;
  private readonly maxBytes: number;
  /** The video status repeats every second: only a change of state or error is kept. */
  private lastVideo: Pick<VideoStatus, 'state' | 'error'> | null = null;

  private constructor(
    readonly filePath: string,
    fd: number,
    private readonly options: SessionJournalOptions,
  ) {
    this.fd = fd;
    this.maxBytes = options.maxBytes ?? JOURNAL_MAX_BYTES;
  }

  /**
   * Creates the journal (never over an existing file) and writes its session line. Throws an
   * Error naming the file when it cannot be made.
   */
  static open(filePath: string, options: SessionJournalOptions = {}): SessionJournal {
    const maxBytes = options.maxBytes ?? JOURNAL_MAX_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) {
      throw new Error(`session journal maxBytes must be a whole number >= 1024, got ${maxBytes}`);
    }
    let fd: number;
    try {
      fd = openSync(filePath, 'wx', 0o644);
    } catch (error) {
      throw new Error(`cannot make the session journal ${filePath}: ${describe(error)}`);
    }
    const journal = new SessionJournal(filePath, fd, options);
    const tlog = path.basename(filePath).replace(/\.journal\.jsonl$/i, '') + '.tlog';
    journal.write({ t: Date.now(), session: { version: JOURNAL_VERSION, tlog } });
    return journal;
  }

  /** Why the journal stopped being written; null while every line reaches the file. */
  get writeError(): string | null {
    return this.failure;
  }

  /** Keeps a broadcast message, unless it is of a type the journal leaves out. */
  record(message: ServerMessage, timeMs = Date.now()): void {
    if (JOURNAL_SKIPPED_TYPES.has(message.type)) return;
    if (message.type === 'video-status') {
      const { state, error } = message.video;
      if (this.lastVideo?.state === state && this.lastVideo.error === error) return;
      this.lastVideo = { state, error };
    }
    this.write({ t: timeMs, m: message });
  }

  /** An operator command as it arrived; `id` pairs it with its result. */
  command(id: number, command: OperatorCommand, timeMs = Date.now()): void {
    this.write({ t: timeMs, command: { id, command } });
  }

  result(id: number, outcome: CommandOutcome, timeMs = Date.now()): void {
    this.write({ t: timeMs, result: { id, outcome } });
  }

  dispose(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      closeSync(fd);
    } catch (error) {
      this.fail(`cannot close the session journal ${this.filePath}: ${describe(error)}`);
    }
  }

  private write(line: JournalLine): void {
    if (this.fd === null) return;
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`, 'utf8');
    if (this.bytesWritten + bytes.length + STOP_LINE_ROOM_BYTES > this.maxBytes) {
      this.stopAtLimit(line.t);
      return;
    }
    this.writeBytes(bytes);
  }

  /** One last line says why the journal ends here, so a reader knows nothing was lost to a kill. */
  private stopAtLimit(timeMs: number): void {
    const why = `journal reached ${describeBytes(this.maxBytes)}`;
    const stopLine: JournalLine = { t: timeMs, stopped: why };
    if (!this.writeBytes(Buffer.from(`${JSON.stringify(stopLine)}\n`, 'utf8'))) return;
    this.closeAfterStop();
    this.fail(
      `session journal ${this.filePath} stopped: it reached ${describeBytes(this.maxBytes)}, ` +
        'the most a replay reads. The flight record goes on without it.',
    );
  }

  /** False when writing failed: the journal is then closed, stopped and said so. */
  private writeBytes(bytes: Buffer): boolean {
    if (this.fd === null) return false;
    // Synchronous, whole lines: a kill leaves every line written so far in the file.
    let offset = 0;
    try {
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset);
    } catch (error) {
      // Nothing more is written after the first failure, and the room a part-written line took
      // is given back: on a full disk the flight record needs it, and the journal keeps whole
      // lines.
      if (offset > 0) {
        try {
          ftruncateSync(this.fd, this.bytesWritten);
        } catch {
          // Already failing: the write error is the one reported.
        }
      }
      this.closeAfterStop();
      this.fail(
        `session journal ${this.filePath} stopped: ${describe(error)}. ` +
          'The flight record goes on without it.',
      );
      return false;
    }
    this.bytesWritten += offset;
    return true;
  }

  private closeAfterStop(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      closeSync(fd);
    } catch {
      // Already stopping: the reason for the stop is the one reported.
    }
  }

  private fail(message: string): void {
    if (this.failure !== null) return;
    this.failure = message;
    if (this.options.onError) this.options.onError(message);
    else log.error(message);
  }
}

/** Settings from a client are checked later; their words must not throw before that. */
function describeSettingsSafely(settings: unknown): string {
  try {
    return describeSettings(settings as Parameters<typeof describeSettings>[0]);
  } catch {
    return JSON.stringify(settings);
  }
}

/** An operator command in words, as the station log and the replay's event list say it. */
export function describeCommand(command: OperatorCommand): string {
  switch (command.kind) {
    case 'arm-takeoff':
      return `arm and take off to ${command.altitudeM} m`;
    case 'start-pattern':
      return (
        `start a pattern on target ${command.targetId ?? 'none'}: ` +
        describeSettingsSafely(command.settings)
      );
    case 'nudge':
      return (
        `nudge the pattern (turn ${command.nudge?.bearingDeltaDeg ?? 0} deg, ` +
        `distance ${command.nudge?.distanceDeltaM ?? 0} m)`
      );
    case 'abort':
      return 'ABORT';
    case 'return-home':
      return 'return home';
    case 'land':
      return 'land';
    case 'speaker':
      return `speaker ${command.on ? 'on' : 'off'}`;
    case 'set-operator':
      return (
        `hazing operator: ${command.operator?.operatorName} ` +
        `(${command.operator?.agencyOrPermitId})`
      );
    case 'mark-person':
      return `mark a person at ${command.position?.latDeg}, ${command.position?.lonDeg}`;
    case 'remove-person':
      return `remove person ${command.personId}`;
    case 'point-camera':
      return `point the camera to pitch ${command.pitchDeg} deg, yaw ${command.yawDeg ?? 0} deg`;
    case 'look-at':
      return `point the camera at target ${command.targetId}`;
    case 'select-vehicle':
      return `make vehicle ${command.systemId} active`;
    case 'save-zone':
      return command.zone?.id === undefined
        ? `add zone "${command.zone?.name}"`
        : `change zone ${command.zone.id} ("${command.zone.name}")`;
    case 'delete-zone':
      return `delete zone ${command.zoneId}`;
    case 'ack-alert':
      return `acknowledge alert ${command.alertId}`;
    case 'replay':
      return `replay ${command.control?.action ?? 'control'}`;
    default:
      return 'unknown command';
  }
}

function describeBytes(bytes: number): string {
  const mb = 1024 * 1024;
  return bytes % mb === 0 ? `${bytes / mb} MB` : `${bytes} bytes`;
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  return code && !text.includes(code) ? `${code}: ${text}` : text;
}
