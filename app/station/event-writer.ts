// The headless event stream's output: stdout or a file, one JSON object per line. Losing the
// stream (a reader that went away, a full disk) stops the events, never the station.

import { closeSync, openSync, writeSync } from 'node:fs';
import { createLogger } from '../core/log';
import type { Disposable } from '../core/disposable';
import type { ZoneAlert } from '../core/zones';

const log = createLogger('events');

export class EventWriter implements Disposable {
  private failed = false;

  private constructor(
    private readonly description: string,
    private readonly fd: number,
    private readonly ownsFd: boolean,
  ) {}

  /** `-` is stdout; anything else is a file, appended to. Throws when it cannot be opened. */
  static open(target: string): EventWriter {
    if (target === '-') return new EventWriter('stdout', 1, false);
    try {
      return new EventWriter(target, openSync(target, 'a'), true);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new Error(`--events: cannot write to ${target} (${reason})`);
    }
  }

  write(event: object): void {
    if (this.failed) return;
    const line = Buffer.from(`${JSON.stringify(event)}\n`);
    try {
      // Synchronous on purpose: events are small, and a kill leaves no half-written buffer.
      let offset = 0;
      while (offset < line.length) offset += writeSync(this.fd, line, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return;
      this.failed = true;
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      log.error(`writing events to ${this.description} failed (${reason}): events stopped`);
    }
  }

  dispose(): void {
    if (this.ownsFd) closeSync(this.fd);
  }
}

/** An alert's event line: once when raised, once more when acknowledged. */
export function alertEvent(alert: ZoneAlert): object {
  return {
    type: 'alert',
    t: alert.acknowledgedMs ?? alert.raisedMs,
    state: alert.acknowledgedMs === null ? 'raised' : 'acknowledged',
    alertId: alert.id,
    trackId: alert.trackId,
    cls: alert.className,
    zoneId: alert.zoneId,
    zone: alert.zoneName,
    inside: alert.inside,
    distanceM: Number(alert.distanceM.toFixed(1)),
    lat: alert.position.latDeg,
    lon: alert.position.lonDeg,
  };
}
