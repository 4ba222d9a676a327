// A set of listeners for one kind of event. A listener that throws is logged and the others
// still hear the event, so one broken consumer cannot silence the vehicle link.

import { toDisposable, type Disposable } from '../../core/disposable';
import type { Logger } from '../../core/log';

export class Listeners<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(
    private readonly what: string,
    private readonly log: Logger,
  ) {}

  add(listener: (value: T) => void): Disposable {
    this.listeners.add(listener);
    return toDisposable(() => {
      this.listeners.delete(listener);
    });
  }

  emit(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (error) {
        this.log.error(
          `a ${this.what} listener failed: ${error instanceof Error ? error.stack : error}`,
        );
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
