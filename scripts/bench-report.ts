// What every benchmark prints: figures for people, and one `BENCH {...}` line per result for
// tools, each against a baseline measured in the same run.

export function percentile(samplesMs: number[], fraction: number): number {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export function report(name: string, valueMs: number, baselineMs: number | null): void {
  const ratio = baselineMs === null ? null : round(valueMs / baselineMs);
  const line = { name, value: round(valueMs), unit: 'ms', baseline: baselineMs, ratio };
  process.stdout.write(`BENCH ${JSON.stringify(line)}\n`);
}

export function reportRate(name: string, value: number, unit: string, baseline: number): void {
  const line = {
    name,
    value: value >= 1000 ? Math.round(value) : round(value),
    unit,
    baseline: baseline >= 1000 ? Math.round(baseline) : round(baseline),
    ratio: round(value / baseline),
    better: 'higher',
  };
  process.stdout.write(`BENCH ${JSON.stringify(line)}\n`);
}
