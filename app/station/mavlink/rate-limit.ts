// A warning that can repeat every second (a bad datagram, a failed send) must not flood the log
// and hide everything else: the first one is said at once, the rest are counted and summed up
// at most once per interval.

import type { Logger } from '../../core/log';

export class RateLimitedWarning {
  private lastLoggedMs: number | null = null;
  private suppressed = 0;
  private total = 0;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** How many times it happened, said or not. */
  get count(): number {
    return this.total;
  }

  /** Says `message` now, or counts it and says it later with how often it happened. */
  report(message: string): void {
    this.total++;
    const now = this.nowMs();
    if (this.lastLoggedMs !== null && now - this.lastLoggedMs < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const more = this.suppressed > 0 ? ` (and ${this.suppressed} more like it before)` : '';
    this.log.warn(`${message}${more}`);
    this.lastLoggedMs = now;
    this.suppressed = 0;
  }

  /** Starts over: the next report is said at once (the trouble ended and may come back). */
  reset(): void {
    this.lastLoggedMs = null;
    this.suppressed = 0;
  }
}
