// A bad radio between the simulator and the station: each datagram is lost with some
// probability and delayed by a latency with jitter (so datagrams also overtake each other), and
// every so often everything is lost for a few seconds, as when the vehicle flies behind a hill.
// The random choices come from a seeded generator so a failing run can be repeated.

export interface LossOptions {
  /** Probability, 0 to 1, that a datagram is lost, in each direction. */
  lossProbability: number;
  latencyMs: number;
  /** The delay varies uniformly by up to this much either side of the latency. */
  jitterMs: number;
  /** Every this many seconds all traffic stops for dropForS seconds; 0 for never. */
  dropEveryS: number;
  dropForS: number;
  seed: number;
}

export const NO_LOSS: LossOptions = {
  lossProbability: 0,
  latencyMs: 0,
  jitterMs: 0,
  dropEveryS: 0,
  dropForS: 0,
  seed: 1,
};

export interface LossCounts {
  passed: number;
  lost: number;
  /** Lost in the periodic outages. */
  blackedOut: number;
}

/** mulberry32: small, fast and good enough to decide which datagrams a radio loses. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class LossyChannel {
  private readonly random: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly startedMs: number;
  private readonly tally: LossCounts = { passed: 0, lost: 0, blackedOut: 0 };
  private closed = false;

  constructor(
    private readonly options: LossOptions,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    checkLossOptions(options);
    this.random = seededRandom(options.seed);
    this.startedMs = nowMs();
  }

  get counts(): LossCounts {
    return { ...this.tally };
  }

  get perfect(): boolean {
    const o = this.options;
    return o.lossProbability === 0 && o.latencyMs === 0 && o.jitterMs === 0 && o.dropEveryS === 0;
  }

  /** Runs `deliver` later, or never if the datagram is lost. */
  pass(deliver: () => void): void {
    if (this.closed) return;
    if (this.blackedOut()) {
      this.tally.blackedOut++;
      return;
    }
    if (this.options.lossProbability > 0 && this.random() < this.options.lossProbability) {
      this.tally.lost++;
      return;
    }
    this.tally.passed++;
    const { latencyMs, jitterMs } = this.options;
    const delayMs = Math.max(0, latencyMs + (this.random() * 2 - 1) * jitterMs);
    if (delayMs === 0) {
      deliver();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) deliver();
    }, delayMs);
    this.timers.add(timer);
  }

  /** Inside one of the periodic outages: from N s after start, for dropForS, every N s. */
  blackedOut(): boolean {
    const { dropEveryS, dropForS } = this.options;
    if (dropEveryS <= 0 || dropForS <= 0) return false;
    const elapsedS = (this.nowMs() - this.startedMs) / 1000;
    return elapsedS >= dropEveryS && elapsedS % dropEveryS < dropForS;
  }

  dispose(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

export function checkLossOptions(options: LossOptions): void {
  const { lossProbability, latencyMs, jitterMs, dropEveryS, dropForS } = options;
  if (!(lossProbability >= 0 && lossProbability < 1)) {
    throw new Error(`loss must be at least 0 and below 1, got ${lossProbability}`);
  }
  if (!(latencyMs >= 0 && latencyMs <= 10_000)) {
    throw new Error(`latency must be 0 to 10000 ms, got ${latencyMs}`);
  }
  if (!(jitterMs >= 0 && jitterMs <= 10_000)) {
    throw new Error(`jitter must be 0 to 10000 ms, got ${jitterMs}`);
  }
  if (!(dropEveryS >= 0 && Number.isFinite(dropEveryS))) {
    throw new Error(`drop-every must be 0 or more seconds, got ${dropEveryS}`);
  }
  if (!(dropForS >= 0 && Number.isFinite(dropForS))) {
    throw new Error(`drop-for must be 0 or more seconds, got ${dropForS}`);
  }
  if (dropEveryS > 0 && dropForS >= dropEveryS) {
    throw new Error(`drop-for (${dropForS} s) must be shorter than drop-every (${dropEveryS} s)`);
  }
}
