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
const MAX_TOASTS = 4;

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
  return {
    id,
    ok: outcome.ok,
    title: commandLabel(kind),
    text: outcome.text.trim() || (outcome.ok ? 'done' : outcome.result),
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
    <div className="toasts" aria-live="assertive">
      {toasts.map((toast) => (
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
          <strong>{toast.title}:</strong> {toast.text}
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
