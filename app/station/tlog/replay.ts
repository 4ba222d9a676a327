// A flight record as a link: its frames come into the station paced by their timestamps (times
// the replay speed), so every view works on a recorded flight. Long gaps and the jumps back of
// files that hold several sessions are shortened and logged. Nothing is ever sent to it.

import type { DataHandler, Transport } from '../mavlink/transport';
import { formatLinkUri, type TlogLinkSpec } from '../mavlink/uri';
import { createLogger } from '../../core/log';
import { TlogFileReader, type TlogRecord } from './reader';

const log = createLogger('replay');

/** Gaps in the log longer than this are shortened to REPLAY_GAP_US. */
export const REPLAY_MAX_GAP_US = 5_000_000;
const REPLAY_GAP_US = 1_000_000;
/** The timer never sleeps longer than this, so dispose and slow clocks are noticed. */
const MAX_SLEEP_MS = 200;
/** Records handed over per turn of the event loop at most, so a high speed cannot starve it. */
const MAX_RECORDS_PER_TURN = 2000;

export class TlogReplayTransport implements Transport {
  readonly description: string;
  readonly localPort = null;
  private readonly reader: TlogFileReader;
  private timer: NodeJS.Timeout | null = null;
  private pending: { record: TlogRecord; dueMs: number } | null = null;
  private previousUs: number | null = null;
  /** The wall time (performance.now) at which the log time anchorUs is due. */
  private anchorWallMs = 0;
  private anchorUs = 0;
  private replayed = 0;
  private disposed = false;

  private constructor(
    private readonly spec: TlogLinkSpec,
    private readonly onData: DataHandler,
  ) {
    this.description = formatLinkUri(spec);
    this.reader = TlogFileReader.open(spec.path);
  }

  /** Starts replaying at once. Throws a clear Error when the file cannot be opened. */
  static open(spec: TlogLinkSpec, onData: DataHandler): TlogReplayTransport {
    const transport = new TlogReplayTransport(spec, onData);
    log.info(`replaying ${spec.path} at ${spec.speed}x`);
    transport.schedule(0);
    return transport;
  }

  /** Packets handed to the station so far. */
  get packetsReplayed(): number {
    return this.replayed;
  }

  /** A recording cannot take commands; they are dropped here and refused above. */
  send(): void {}

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.reader.dispose();
  }

  private schedule(delayMs: number): void {
    if (this.disposed) return;
    this.timer = setTimeout(() => this.tick(), Math.min(MAX_SLEEP_MS, Math.max(0, delayMs)));
  }

  private tick(): void {
    this.timer = null;
    if (this.disposed) return;
    let record: TlogRecord | null;
    try {
      for (let handed = 0; handed < MAX_RECORDS_PER_TURN; handed++) {
        const pending = this.pending;
        this.pending = null;
        record = pending ? pending.record : this.reader.next();
        if (!record) {
          this.finish();
          return;
        }
        const dueMs = pending ? pending.dueMs : this.dueWallMs(record);
        const waitMs = dueMs - performance.now();
        if (waitMs > 0) {
          this.pending = { record, dueMs };
          this.schedule(waitMs);
          return;
        }
        this.replayed++;
        const frame = record.frame;
        this.onData(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
      }
    } catch (error) {
      log.error(`${this.description}: replay stopped: ${String(error)}`);
      void this.dispose();
      return;
    }
    setImmediate(() => this.tick());
  }

  /** When this record is due, re-anchoring the clock at the start, at gaps and jumps back. */
  private dueWallMs(record: TlogRecord): number {
    const timeUs = record.timeUs;
    const previousUs = this.previousUs;
    if (previousUs === null) {
      this.anchor(timeUs, performance.now());
    } else {
      const stepUs = timeUs - previousUs;
      if (stepUs < 0 || stepUs > REPLAY_MAX_GAP_US) {
        const previousDueMs =
          this.anchorWallMs + (previousUs - this.anchorUs) / 1000 / this.spec.speed;
        this.anchor(timeUs, previousDueMs + REPLAY_GAP_US / 1000 / this.spec.speed);
        const what =
          stepUs < 0
            ? `jumps back ${(-stepUs / 1e6).toFixed(1)} s (another session in the same file)`
            : `has a ${(stepUs / 1e6).toFixed(1)} s gap`;
        log.info(
          `${this.description}: the log ${what} at ${new Date(timeUs / 1000).toISOString()}; ` +
            `replaying it as ${REPLAY_GAP_US / 1e6} s`,
        );
      }
    }
    this.previousUs = timeUs;
    return this.anchorWallMs + (timeUs - this.anchorUs) / 1000 / this.spec.speed;
  }

  private anchor(timeUs: number, wallMs: number): void {
    this.anchorUs = timeUs;
    this.anchorWallMs = wallMs;
  }

  private finish(): void {
    const stats = this.reader.stats;
    log.info(
      `${this.description}: replay finished: ${this.replayed} packets; skipped ` +
        `${stats.bytesSkipped} bytes, ${stats.crcErrors} CRC errors`,
    );
    this.reader.dispose();
  }
}
