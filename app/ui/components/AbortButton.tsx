// ABORT: one press of the big red button or of Escape, anywhere on the page, no confirmation.
// A held Escape key repeats; only the first press sends, so one press is one abort.

import { useEffect, useRef } from 'react';

export function AbortButton(props: { onAbort(): void }) {
  const abortRef = useRef(props.onAbort);
  abortRef.current = props.onAbort;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      if (event.repeat) return;
      abortRef.current();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <button
      type="button"
      className="abort-button"
      data-testid="abort-button"
      onClick={() => props.onAbort()}
    >
      ABORT <span className="key-hint">Esc</span>
    </button>
  );
}
