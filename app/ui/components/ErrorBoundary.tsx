// Catches what fails while the screen draws (a render, an effect): the operator gets a plain
// panel that says what failed and a Reload button, never a blank page over a flying drone. The
// failure goes to the app's logger too, for whoever reads the console or the Electron log.

import { Component, type ErrorInfo, type ReactNode } from 'react';
import { createLogger } from '../../core/log';

const log = createLogger('ui');

/** The message of anything thrown: an Error's message, else the value in words. */
export function thrownMessage(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message || thrown.name;
  if (typeof thrown === 'string') return thrown;
  try {
    return JSON.stringify(thrown) ?? String(thrown);
  } catch {
    return String(thrown);
  }
}

/** What the panel says, before its Reload button: "The screen failed to draw: <message>." */
export function failedScreenText(thrown: unknown): string {
  return `The screen failed to draw: ${thrownMessage(thrown).replace(/\.+$/, '')}.`;
}

export interface ErrorBoundaryProps {
  children?: ReactNode;
  /** What Reload does; the page reloads where absent. */
  onReload?(): void;
}

interface ErrorBoundaryState {
  error: { thrown: unknown } | null;
}

export class ErrorBoundary extends Component<ErrorBoundaryProps, ErrorBoundaryState> {
  override state: ErrorBoundaryState = { error: null };

  static getDerivedStateFromError(thrown: unknown): ErrorBoundaryState {
    // Wrapped: a bare thrown null or undefined must still count as a failure.
    return { error: { thrown } };
  }

  override componentDidCatch(thrown: unknown, info: ErrorInfo): void {
    const where = info.componentStack?.trim().split('\n')[0]?.trim();
    log.error(`the screen failed to draw: ${thrownMessage(thrown)}${where ? ` (${where})` : ''}`);
    if (thrown instanceof Error && thrown.stack) log.debug(thrown.stack);
  }

  override render(): ReactNode {
    const error = this.state.error;
    if (!error) return this.props.children;
    const reload = this.props.onReload ?? (() => window.location.reload());
    return (
      <div className="screen-failed" role="alert" data-testid="screen-failed">
        <p data-testid="screen-failed-text">{failedScreenText(error.thrown)}</p>
        <button
          type="button"
          className="big-button"
          data-testid="screen-failed-reload"
          onClick={() => reload()}
        >
          Reload
        </button>
      </div>
    );
  }
}
