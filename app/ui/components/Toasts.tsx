// Command results, shown big for a few seconds where the operator is looking.

import { useEffect } from 'react';

export interface Toast {
  id: number;
  ok: boolean;
  title: string;
  text: string;
  createdMs: number;
}

const TOAST_MS = 6_000;

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
          role="status"
          onClick={() => onDismiss(toast.id)}
        >
          <strong>{toast.title}</strong> {toast.text}
        </div>
      ))}
    </div>
  );
}
