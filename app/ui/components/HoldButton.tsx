// Press and hold to confirm: a brush of a gloved thumb or a single click never sends a
// command that moves the drone toward a bear.

import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from 'react';

export interface HoldButtonProps {
  label: string;
  holdMs?: number;
  disabled?: boolean;
  testId: string;
  onConfirm(): void;
}

export const DEFAULT_HOLD_MS = 1500;
/** How long a press that let go too early shows how to do it right. */
const HINT_MS = 2500;
export const HOLD_HINT = 'Press and hold to confirm';

export function HoldButton(props: HoldButtonProps) {
  const holdMs = props.holdMs ?? DEFAULT_HOLD_MS;
  const [progress, setProgress] = useState(0);
  const [hinting, setHinting] = useState(false);
  const startRef = useRef<number | null>(null);
  const frameRef = useRef<number | null>(null);
  const hintTimerRef = useRef<ReturnType<typeof setTimeout> | null>(null);
  const confirmRef = useRef(props.onConfirm);
  confirmRef.current = props.onConfirm;

  const stop = useCallback(() => {
    startRef.current = null;
    if (frameRef.current !== null) cancelAnimationFrame(frameRef.current);
    frameRef.current = null;
    setProgress(0);
  }, []);

  const tick = useCallback(() => {
    const startMs = startRef.current;
    if (startMs === null) return;
    const fraction = Math.min(1, (performance.now() - startMs) / holdMs);
    setProgress(fraction);
    if (fraction >= 1) {
      stop();
      confirmRef.current();
      return;
    }
    frameRef.current = requestAnimationFrame(tick);
  }, [holdMs, stop]);

  const clearHint = useCallback(() => {
    if (hintTimerRef.current !== null) clearTimeout(hintTimerRef.current);
    hintTimerRef.current = null;
    setHinting(false);
  }, []);

  const start = useCallback(() => {
    if (props.disabled || startRef.current !== null) return;
    clearHint();
    startRef.current = performance.now();
    frameRef.current = requestAnimationFrame(tick);
  }, [props.disabled, tick, clearHint]);

  /** Letting go before the hold completes: a click does nothing, so say what would. */
  const release = useCallback(() => {
    const released = startRef.current !== null;
    stop();
    if (!released) return;
    clearHint();
    setHinting(true);
    hintTimerRef.current = setTimeout(() => {
      hintTimerRef.current = null;
      setHinting(false);
    }, HINT_MS);
  }, [stop, clearHint]);

  useEffect(() => stop, [stop]);
  useEffect(() => clearHint, [clearHint]);
  useEffect(() => {
    if (props.disabled) stop();
  }, [props.disabled, stop]);

  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    if ((event.key === ' ' || event.key === 'Enter') && !event.repeat) {
      event.preventDefault();
      start();
    }
  };
  const onKeyUp = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key === ' ' || event.key === 'Enter') release();
  };

  const holding = progress > 0;
  return (
    <button
      type="button"
      className={`hold-button${holding ? ' holding' : ''}${hinting && !holding ? ' hinting' : ''}`}
      data-testid={props.testId}
      data-progress={progress.toFixed(2)}
      data-hint={hinting && !holding ? 'true' : undefined}
      disabled={props.disabled}
      onPointerDown={(event) => {
        if (event.button !== 0) return;
        event.currentTarget.setPointerCapture(event.pointerId);
        start();
      }}
      onPointerUp={release}
      onPointerCancel={stop}
      onLostPointerCapture={stop}
      onKeyDown={onKeyDown}
      onKeyUp={onKeyUp}
      onBlur={stop}
      onContextMenu={(event) => event.preventDefault()}
    >
      <span className="hold-fill" style={{ width: `${progress * 100}%` }} />
      <span className="hold-text">
        {holding
          ? `Keep holding… ${Math.ceil(((1 - progress) * holdMs) / 100) / 10} s`
          : hinting
            ? HOLD_HINT
            : props.label}
      </span>
    </button>
  );
}
