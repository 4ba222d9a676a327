// The MAVLink command protocol from the sending side: send COMMAND_LONG or COMMAND_INT, send it
// again while no COMMAND_ACK comes, and settle on the vehicle's answer or TIMEOUT.
// One command of each id is in flight at a time, because an ACK names only the command id.

import { common, type MavLinkData } from 'node-mavlink';

import { createLogger } from '../../core/log';
import { build } from './codec';
import { mavResultName, TIMEOUT, type CommandResultName } from './outcome';
import type { VehicleAddress } from './vehicle-model';

const log = createLogger('commands');

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
}

export interface CommandSenderOptions {
  send: (message: MavLinkData) => void;
  /** Who we are, so ACKs addressed to another ground station are ignored. */
  ownSystemId: number;
  ownComponentId: number;
  ackTimeoutMs: number;
  /** Sends in all, the first included. */
  attempts: number;
}

interface Pending {
  target: VehicleAddress;
  settle: (answer: CommandAnswer) => void;
  keepWaiting: () => void;
}

export class CommandSender {
  private readonly pending = new Map<number, Pending>();
  private readonly queues = new Map<number, Promise<unknown>>();
  private disposed = false;

  constructor(private readonly options: CommandSenderOptions) {}

  run(request: CommandRequest, target: VehicleAddress): Promise<CommandAnswer> {
    const previous = this.queues.get(request.command) ?? Promise.resolve();
    const answer = previous.then(() => this.exchange(request, target));
    const tail = answer.catch(() => undefined);
    this.queues.set(request.command, tail);
    void tail.then(() => {
      if (this.queues.get(request.command) === tail) this.queues.delete(request.command);
    });
    return answer;
  }

  handleAck(ack: common.CommandAck, fromSystemId: number): void {
    const pending = this.pending.get(ack.command);
    if (!pending || fromSystemId !== pending.target.systemId) return;
    // target_system is an extension field: 0 when the vehicle leaves it out.
    const forUs =
      (ack.targetSystem === 0 || ack.targetSystem === this.options.ownSystemId) &&
      (ack.targetComponent === 0 || ack.targetComponent === this.options.ownComponentId);
    if (!forUs) return;
    if (ack.result === common.MavResult.IN_PROGRESS) {
      pending.keepWaiting();
      return;
    }
    pending.settle({ result: mavResultName(ack.result), reason: null });
  }

  /** Settles every waiting command as TIMEOUT. */
  dispose(): void {
    this.disposed = true;
    for (const pending of [...this.pending.values()]) {
      pending.settle({
        result: TIMEOUT,
        reason: 'the link was closed before the vehicle answered',
      });
    }
  }

  private exchange(request: CommandRequest, target: VehicleAddress): Promise<CommandAnswer> {
    if (this.disposed) {
      return Promise.resolve({ result: TIMEOUT, reason: 'the link is closed' });
    }
    const { ackTimeoutMs, attempts } = this.options;
    const name = common.MavCmd[request.command] ?? `MAV_CMD ${request.command}`;
    return new Promise<CommandAnswer>((resolve) => {
      let sends = 0;
      let timer: NodeJS.Timeout | null = null;
      const transmit = (): void => {
        if (sends >= attempts) {
          log.warn(`${name}: no COMMAND_ACK after ${attempts} tries`);
          settle({ result: TIMEOUT, reason: null });
          return;
        }
        if (sends > 0) log.debug(`${name}: no COMMAND_ACK yet, sending again`);
        this.options.send(encodeCommand(request, target, sends));
        sends++;
        timer = setTimeout(transmit, ackTimeoutMs);
      };
      const settle = (answer: CommandAnswer): void => {
        if (timer) clearTimeout(timer);
        timer = null;
        this.pending.delete(request.command);
        resolve(answer);
      };
      // The vehicle is working on it: stop resending, but do not wait forever.
      const keepWaiting = (): void => {
        if (timer) clearTimeout(timer);
        sends = attempts;
        timer = setTimeout(transmit, ackTimeoutMs * attempts);
      };
      this.pending.set(request.command, { target, settle, keepWaiting });
      transmit();
    });
  }
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

function isGlobalFrame(frame: common.MavFrame): boolean {
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
