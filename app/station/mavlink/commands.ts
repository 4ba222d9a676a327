// The MAVLink command protocol from the sending side: send COMMAND_LONG or COMMAND_INT, send it
// again while no COMMAND_ACK comes, and settle on the vehicle's answer or TIMEOUT.
// An ACK names only the command id, so one command of each id is in flight at a time, and after
// a command that was sent more than once the next one of that id waits until the late ACKs of
// the copies have come in (or a guard time has passed): a late ACK of the last command must not
// be taken as the answer to the next.

import { common, type MavLinkData } from 'node-mavlink';

import { createLogger } from '../../core/log';
import { build } from './codec';
import { mavResultName, TIMEOUT, type CommandResultName } from './outcome';
import type { VehicleAddress } from './vehicle-model';

const log = createLogger('commands');

/** COMMAND_ACK.progress when the vehicle does not say how far it is. */
const PROGRESS_UNKNOWN = 255;

export type CommandRequest =
  | {
      kind: 'long';
      command: common.MavCmd;
      params: [number, number, number, number, number, number, number];
    }
  | {
      kind: 'int';
      command: common.MavCmd;
      frame: common.MavFrame;
      params: [number, number, number, number];
      /** Latitude and longitude in degrees (sent as degE7), or raw x/y for local frames. */
      xDeg: number;
      yDeg: number;
      z: number;
    };

export interface CommandAnswer {
  result: CommandResultName;
  /** Set when the station, not the vehicle, decided the result. */
  reason: string | null;
  /** How many times the command went out. */
  sends: number;
  /** The last progress the vehicle reported while IN_PROGRESS, 0 to 100; null if none. */
  progressPct: number | null;
  /** COMMAND_ACK.result_param2: extra detail some commands give with their result. */
  resultParam2: number;
}

export interface CommandProgress {
  /** 0 to 100, or null when the vehicle does not say. */
  progressPct: number | null;
}

export interface RunOptions {
  /** Called for each IN_PROGRESS answer. */
  onProgress?: (progress: CommandProgress) => void;
}

export interface CommandSenderOptions {
  send: (message: MavLinkData) => void;
  /** Who we are, so ACKs addressed to another ground station are ignored. */
  ownSystemId: number;
  ownComponentId: number;
  ackTimeoutMs: number;
  /** Sends in all, the first included. */
  attempts: number;
  /** After IN_PROGRESS, how long to wait for the next word from the vehicle. */
  inProgressTimeoutMs: number;
  /** How long the next command of an id waits for late ACKs of a command sent several times. */
  duplicateGuardMs: number;
}

/** The exchange for one command id; it outlives its answer while late ACKs may still come. */
interface Exchange {
  target: VehicleAddress;
  onAck: (ack: common.CommandAck) => void;
  /** Settles with TIMEOUT and ends any guard wait. */
  abort: (reason: string) => void;
}

export class CommandSender {
  private readonly exchanges = new Map<number, Exchange>();
  private readonly queues = new Map<number, Promise<unknown>>();
  private readonly counts = { acks: 0, duplicateAcks: 0, strayAcks: 0 };
  private disposed = false;

  constructor(private readonly options: CommandSenderOptions) {}

  /** ACKs seen in all, late duplicates absorbed, and ACKs for no command of ours. */
  get stats(): { acks: number; duplicateAcks: number; strayAcks: number } {
    return { ...this.counts };
  }

  run(
    request: CommandRequest,
    target: VehicleAddress,
    runOptions: RunOptions = {},
  ): Promise<CommandAnswer> {
    const previous = this.queues.get(request.command) ?? Promise.resolve();
    let answered!: (answer: CommandAnswer) => void;
    const answer = new Promise<CommandAnswer>((resolve) => (answered = resolve));
    const done = previous.then(() => this.exchange(request, target, runOptions, answered));
    const tail = done.catch(() => undefined);
    this.queues.set(request.command, tail);
    void tail.then(() => {
      if (this.queues.get(request.command) === tail) this.queues.delete(request.command);
    });
    return answer;
  }

  handleAck(ack: common.CommandAck, fromSystemId: number): void {
    this.counts.acks++;
    const exchange = this.exchanges.get(ack.command);
    if (!exchange || fromSystemId !== exchange.target.systemId) {
      this.counts.strayAcks++;
      return;
    }
    // target_system is an extension field: 0 when the vehicle leaves it out.
    const forUs =
      (ack.targetSystem === 0 || ack.targetSystem === this.options.ownSystemId) &&
      (ack.targetComponent === 0 || ack.targetComponent === this.options.ownComponentId);
    if (!forUs) {
      this.counts.strayAcks++;
      return;
    }
    exchange.onAck(ack);
  }

  /** Settles every waiting command as TIMEOUT. */
  dispose(): void {
    this.disposed = true;
    for (const exchange of [...this.exchanges.values()]) {
      exchange.abort('the link was closed before the vehicle answered');
    }
  }

  /** Resolves when the id is free for the next command, which may be after the answer. */
  private exchange(
    request: CommandRequest,
    target: VehicleAddress,
    runOptions: RunOptions,
    answered: (answer: CommandAnswer) => void,
  ): Promise<void> {
    if (this.disposed) {
      answered(answerOf(TIMEOUT, 'the link is closed', 0, null, 0));
      return Promise.resolve();
    }
    const { ackTimeoutMs, attempts, inProgressTimeoutMs, duplicateGuardMs } = this.options;
    const name = common.MavCmd[request.command] ?? `MAV_CMD ${request.command}`;
    return new Promise<void>((free) => {
      let sends = 0;
      /** Final (not IN_PROGRESS) ACKs: one is expected for each copy the vehicle got. */
      let finalAcks = 0;
      let progressPct: number | null = null;
      let settled = false;
      let timer: NodeJS.Timeout | null = null;

      const clearTimer = (): void => {
        if (timer) clearTimeout(timer);
        timer = null;
      };
      const release = (): void => {
        clearTimer();
        if (this.exchanges.get(request.command) === exchange) {
          this.exchanges.delete(request.command);
        }
        free();
      };
      const settle = (result: string, reason: string | null, resultParam2 = 0): void => {
        if (settled) return;
        settled = true;
        clearTimer();
        answered(answerOf(result, reason, sends, progressPct, resultParam2));
        if (sends <= 1 || finalAcks >= sends || this.disposed) release();
        else timer = setTimeout(release, duplicateGuardMs);
      };
      const transmit = (): void => {
        if (sends >= attempts) {
          log.warn(`${name}: no COMMAND_ACK after ${attempts} tries`);
          settle(TIMEOUT, null);
          return;
        }
        if (sends > 0) log.debug(`${name}: no COMMAND_ACK yet, sending again`);
        this.options.send(encodeCommand(request, target, sends));
        sends++;
        timer = setTimeout(transmit, ackTimeoutMs);
      };
      const waitedTooLong = (): void => {
        const how = progressPct === null ? '' : ` (last at ${progressPct} %)`;
        settle(TIMEOUT, `the vehicle started it${how} but never said it had finished`);
      };

      const exchange: Exchange = {
        target,
        onAck: (ack) => {
          if (settled) {
            // A late ACK for a copy of a command already answered: absorb it.
            this.counts.duplicateAcks++;
            if (ack.result !== common.MavResult.IN_PROGRESS) finalAcks++;
            if (finalAcks >= sends) release();
            return;
          }
          if (ack.result === common.MavResult.IN_PROGRESS) {
            // The vehicle is working on it: stop resending and wait longer, from now.
            progressPct = ack.progress === PROGRESS_UNKNOWN ? progressPct : ack.progress;
            clearTimer();
            timer = setTimeout(waitedTooLong, inProgressTimeoutMs);
            try {
              runOptions.onProgress?.({
                progressPct: ack.progress === PROGRESS_UNKNOWN ? null : ack.progress,
              });
            } catch (error) {
              log.error(`a progress listener for ${name} failed: ${String(error)}`);
            }
            return;
          }
          finalAcks++;
          settle(mavResultName(ack.result), null, ack.resultParam2);
        },
        abort: (reason) => {
          if (!settled) settle(TIMEOUT, reason);
          release();
        },
      };
      this.exchanges.set(request.command, exchange);
      transmit();
    });
  }
}

function answerOf(
  result: string,
  reason: string | null,
  sends: number,
  progressPct: number | null,
  resultParam2: number,
): CommandAnswer {
  return { result, reason, sends, progressPct, resultParam2 };
}

function encodeCommand(
  request: CommandRequest,
  target: VehicleAddress,
  resend: number,
): MavLinkData {
  if (request.kind === 'long') {
    const [p1, p2, p3, p4, p5, p6, p7] = request.params;
    return build(common.CommandLong, {
      targetSystem: target.systemId,
      targetComponent: target.componentId,
      command: request.command,
      // Counts resends, so the vehicle can tell a repeat from a new command.
      confirmation: Math.min(resend, 255),
      _param1: p1,
      _param2: p2,
      _param3: p3,
      _param4: p4,
      _param5: p5,
      _param6: p6,
      _param7: p7,
    });
  }
  const [p1, p2, p3, p4] = request.params;
  const global = isGlobalFrame(request.frame);
  return build(common.CommandInt, {
    targetSystem: target.systemId,
    targetComponent: target.componentId,
    frame: request.frame,
    command: request.command,
    current: 0,
    autocontinue: 0,
    _param1: p1,
    _param2: p2,
    _param3: p3,
    _param4: p4,
    _param5: global ? Math.round(request.xDeg * 1e7) : Math.round(request.xDeg),
    _param6: global ? Math.round(request.yDeg * 1e7) : Math.round(request.yDeg),
    _param7: request.z,
  });
}

export function isGlobalFrame(frame: common.MavFrame): boolean {
  const { GLOBAL, GLOBAL_RELATIVE_ALT, GLOBAL_INT, GLOBAL_RELATIVE_ALT_INT } = common.MavFrame;
  const { GLOBAL_TERRAIN_ALT, GLOBAL_TERRAIN_ALT_INT } = common.MavFrame;
  return [
    GLOBAL,
    GLOBAL_RELATIVE_ALT,
    GLOBAL_INT,
    GLOBAL_RELATIVE_ALT_INT,
    GLOBAL_TERRAIN_ALT,
    GLOBAL_TERRAIN_ALT_INT,
  ].includes(frame);
}
