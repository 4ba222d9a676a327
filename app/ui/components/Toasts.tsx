// Command results, shown big for a few seconds where the operator is looking.

import { useEffect } from 'react';
import type { CommandOutcome } from '../../core/types';
import { commandLabel } from './format';

export interface Toast {
  id: number;
  ok: boolean;
  /** What the operator asked for, in the UI's words: "ABORT". */
  title: string;
  /** What came of it, in the station's words: "Holding position (BRAKE)". */
  text: string;
  /** The MAV_RESULT or station result name, kept for the record and the tooltip. */
  result: string;
  /** How many identical results in a row this one stands for. */
  count: number;
  createdMs: number;
}

const TOAST_MS = 6_000;
/** Two at most: more stacked down the map covered the bear and the drone. */
const MAX_TOASTS = 2;

const stem = (word: string): string =>
  word
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 5);

/**
 * The station's words without what the toast already says: the command's name when the
 * station starts with it ("Nudged: ..." under "Nudge"), and a result name in brackets that
 * the words already give ("accepted (ACCEPTED)").
 */
export function toastWords(
  title: string,
  text: string,
  result: string,
): { title: string; text: string } {
  let words = text.trim();
  const bracket = ` (${result})`;
  if (result && words.endsWith(bracket)) {
    const before = words.slice(0, -bracket.length);
    if (before.toLowerCase().includes(result.toLowerCase())) words = before;
  }
  const titleStem = stem(title.split(/\s+/)[0] ?? '');
  const textStem = stem(words.split(/\s+/)[0] ?? '');
  const sameStart =
    words.toLowerCase().startsWith(title.toLowerCase()) ||
    (titleStem.length >= 4 && titleStem === textStem);
  return sameStart ? { title: '', text: words } : { title, text: words };
}

/**
 * The station's text already says what happened (and carries the result name where the
 * vehicle gave one), so the toast adds only which command it answers: "ABORT: Holding
 * position (BRAKE)". Success or failure shows in the colour and the mark.
 */
export function commandToast(
  kind: string,
  outcome: CommandOutcome,
  id: number,
  nowMs: number,
): Toast {
  const words = toastWords(
    commandLabel(kind),
    outcome.text.trim() || (outcome.ok ? 'done' : outcome.result),
    outcome.result,
  );
  return {
    id,
    ok: outcome.ok,
    title: words.title,
    text: words.text,
    result: outcome.result,
    count: 1,
    createdMs: nowMs,
  };
}

/** Adds a toast; a repeat of the newest one (ABORT pressed again) refreshes it instead. */
export function addToast(toasts: Toast[], toast: Toast): Toast[] {
  const newest = toasts.at(-1);
  if (
    newest &&
    newest.ok === toast.ok &&
    newest.title === toast.title &&
    newest.text === toast.text
  ) {
    return [...toasts.slice(0, -1), { ...toast, count: newest.count + 1 }];
  }
  return [...toasts.slice(1 - MAX_TOASTS), toast];
}

export function Toasts(props: { toasts: Toast[]; onDismiss(id: number): void }) {
  const { toasts, onDismiss } = props;
  useEffect(() => {
    const nowMs = Date.now();
    const timers = toasts.map((toast) =>
      setTimeout(() => onDismiss(toast.id), Math.max(0, toast.createdMs + TOAST_MS - nowMs)),
    );
    return () => timers.forEach(clearTimeout);
  }, [toasts, onDismiss]);

  return (
    <div className="toasts" data-testid="toasts" aria-live="assertive">
      {/* Newest on top, where the eye lands first. */}
      {[...toasts].reverse().map((toast) => (
        <div
          key={toast.id}
          className={`toast ${toast.ok ? 'ok' : 'failed'}`}
          data-testid="toast"
          data-ok={toast.ok}
          data-result={toast.result}
          title={toast.result}
          role="status"
          onClick={() => onDismiss(toast.id)}
        >
          <span className="toast-mark" aria-label={toast.ok ? 'done' : 'failed'}>
            {toast.ok ? '✓' : '✕'}
          </span>{' '}
          {toast.title ? (
            <>
              <strong>{toast.title}:</strong>{' '}
            </>
          ) : null}
          {toast.text}
          {toast.count > 1 ? (
            <span className="toast-count" data-testid="toast-count">
              {' '}
              ×{toast.count}
            </span>
          ) : null}
        </div>
      ))}
    </div>
  );
}
