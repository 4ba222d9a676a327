// A test's own WebSocket client of the station (/ws): an operator with the token, or an
// observer without one. It keeps what it hears and sends commands the way the UI does.

import WebSocket from 'ws';

import type { OperatorCommand, ServerMessage } from '../../app/core/protocol';
import type { CommandOutcome } from '../../app/core/types';

export interface StationClientOptions {
  /** How long waitFor and command wait before they fail. */
  waitMs: number;
  /**
   * Keep every message (messages, received). Off for long runs: the station sends each video
   * frame too, and a listener (onMessage) can keep only what it needs.
   */
  keep?: boolean;
}

/** The station's WebSocket URL for its observers' URL, with the operator token if given. */
export function stationWsUrl(observersUrl: string, token?: string): string {
  const wsUrl = `${observersUrl.replace(/^http/, 'ws')}ws`;
  return token === undefined ? wsUrl : `${wsUrl}?token=${token}`;
}

export class StationClient {
  /** Every message heard, in order (when kept). */
  readonly messages: ServerMessage[] = [];
  /** The same messages with the time each came (Date.now()). */
  readonly received: Array<{ atMs: number; message: ServerMessage }> = [];
  private readonly results = new Map<string, CommandOutcome>();
  private readonly listeners: Array<(message: ServerMessage, atMs: number) => void> = [];
  private counter = 0;

  private constructor(
    private readonly socket: WebSocket,
    private readonly options: StationClientOptions,
  ) {
    socket.on('message', (data) => this.hear(JSON.parse(String(data)) as ServerMessage));
  }

  static async open(url: string, options: StationClientOptions): Promise<StationClient> {
    const socket = new WebSocket(url);
    const client = new StationClient(socket, options);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Calls `listener` with each message from now on, kept or not. */
  onMessage(listener: (message: ServerMessage, atMs: number) => void): void {
    this.listeners.push(listener);
  }

  /** The first kept message at or after index `from` that `match` accepts, now or later. */
  waitFor<T extends ServerMessage>(
    what: string,
    match: (message: ServerMessage) => message is T,
    from?: number,
  ): Promise<T>;
  waitFor(
    what: string,
    match: (message: ServerMessage) => boolean,
    from?: number,
  ): Promise<ServerMessage>;
  async waitFor(
    what: string,
    match: (message: ServerMessage) => boolean,
    from = 0,
  ): Promise<ServerMessage> {
    if (this.options.keep === false) throw new Error('waitFor needs a client that keeps messages');
    return this.poll(`no ${what} from the station`, () => this.messages.slice(from).find(match));
  }

  async command(command: OperatorCommand): Promise<CommandOutcome> {
    const requestId = `test-${++this.counter}`;
    this.socket.send(JSON.stringify({ type: 'command', requestId, command }));
    return this.poll(`no result of ${command.kind} from the station`, () =>
      this.results.get(requestId),
    );
  }

  close(): void {
    this.socket.close();
  }

  private hear(message: ServerMessage): void {
    const atMs = Date.now();
    if (message.type === 'command-result') this.results.set(message.requestId, message.outcome);
    if (this.options.keep !== false) {
      this.messages.push(message);
      this.received.push({ atMs, message });
    }
    for (const listener of this.listeners) listener(message, atMs);
  }

  private async poll<T>(failure: string, probe: () => T | undefined): Promise<T> {
    const deadline = Date.now() + this.options.waitMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(failure);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
