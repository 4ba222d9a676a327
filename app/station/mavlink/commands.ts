// The MAVLink command protocol from the sending side: send COMMAND_LONG or COMMAND_INT, send it
// again while no COMMAND_ACK comes, and settle on the vehicle's answer or TIMEOUT.
// An ACK names only the command id, so one command of each id is in flight at a time, and after
// a command that was sent more than once the next one of that id waits until the late ACKs of
// the copies have come in (or a guard time has passed): a late ACK of the last command must not
// be taken as the answer to the next. A command may pre-empt (ABORT's hold must not wait): what
// holds the id is abandoned, and the late ACKs it may still get are reckoned with (see onAck).

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

/** The answer of a command abandoned for a later one of its id (see RunOptions.preempt). */
export const SUPERSEDED = 'SUPERSEDED';

export interface RunOptions {
  /** Called for each IN_PROGRESS answer. */
  onProgress?: (progress: CommandProgress) => void;
  /**
   * What pre-empts, in words ("ABORT"): every command of this id in flight or waiting is
   * abandoned, answered SUPERSEDED "superseded by ABORT", and this one goes out at once.
   */
  preempt?: string;
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
  /**
   * Settles with SUPERSEDED, stops sending and leaves the id at once; returns how many final
   * ACKs of its copies may still come.
   */
  supersede: (reason: string) => number;
}

interface Pending {
  request: CommandRequest;
  target: VehicleAddress;
  runOptions: RunOptions;
  answered: (answer: CommandAnswer) => void;
}

/** One command id: the exchange on the wire (or in its guard wait) and those queued behind. */
interface Slot {
  active: Exchange | null;
  waiting: Pending[];
}

export class CommandSender {
  private readonly slots = new Map<number, Slot>();
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
    return new Promise<CommandAnswer>((answered) => {
      const pending: Pending = { request, target, runOptions, answered };
      let slot = this.slots.get(request.command);
      if (!slot) {
        slot = { active: null, waiting: [] };
        this.slots.set(request.command, slot);
      }
      if (runOptions.preempt === undefined) {
        slot.waiting.push(pending);
        if (!slot.active) this.next(request.command, slot);
        return;
      }
      const reason = `superseded by ${runOptions.preempt}`;
      for (const queued of slot.waiting.splice(0)) {
        queued.answered(answerOf(SUPERSEDED, reason, 0, null, 0));
      }
      let owedAcks = 0;
      if (slot.active) {
        const owed = slot.active.supersede(reason);
        // Another vehicle's late ACKs carry its system id and are never taken for ours.
        if (slot.active.target.systemId === target.systemId) owedAcks = owed;
        slot.active = null;
      }
      this.begin(request.command, slot, pending, owedAcks);
    });
  }

  handleAck(ack: common.CommandAck, fromSystemId: number): void {
    this.counts.acks++;
    const exchange = this.slots.get(ack.command)?.active;
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
    for (const slot of [...this.slots.values()]) {
      slot.active?.abort('the link was closed before the vehicle answered');
    }
  }

  /** Starts the next command waiting for the id, or forgets the id when none waits. */
  private next(command: number, slot: Slot): void {
    const pending = slot.waiting.shift();
    if (pending) this.begin(command, slot, pending, 0);
    else if (this.slots.get(command) === slot) this.slots.delete(command);
  }

  /**
   * Puts one command on the wire for its id.
   * @param owedAcks final ACKs that copies of superseded commands of this id may still send
   */
  private begin(command: number, slot: Slot, pending: Pending, owedAcks: number): void {
    const { request, target, runOptions, answered } = pending;
    if (this.disposed) {
      answered(answerOf(TIMEOUT, 'the link is closed', 0, null, 0));
      this.next(command, slot);
      return;
    }
    const { ackTimeoutMs, inProgressTimeoutMs, duplicateGuardMs } = this.options;
    // Room for a copy of our own for each ACK that may be a superseded command's.
    const attempts = this.options.attempts + owedAcks;
    const name = common.MavCmd[request.command] ?? `MAV_CMD ${request.command}`;
    let sends = 0;
    /** Final (not IN_PROGRESS) ACKs: one is expected for each copy the vehicle got. */
    let finalAcks = 0;
    let firstRefusal: common.CommandAck | null = null;
    let progressPct: number | null = null;
    let settled = false;
    let released = false;
    let timer: NodeJS.Timeout | null = null;

    const clearTimer = (): void => {
      if (timer) clearTimeout(timer);
      timer = null;
    };
    const release = (): void => {
      clearTimer();
      if (released) return;
      released = true;
      if (slot.active !== exchange) return;
      slot.active = null;
      this.next(command, slot);
    };
    const settle = (result: string, reason: string | null, resultParam2 = 0): void => {
      if (settled) return;
      settled = true;
      clearTimer();
      answered(answerOf(result, reason, sends, progressPct, resultParam2));
      const expected = sends + owedAcks;
      if (expected <= 1 || finalAcks >= expected || this.disposed) release();
      else timer = setTimeout(release, duplicateGuardMs);
    };
    const transmit = (): void => {
      clearTimer();
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
          if (finalAcks >= sends + owedAcks) release();
          return;
        }
        if (ack.result === common.MavResult.IN_PROGRESS) {
          // While a superseded copy may still answer, this may be its word: keep sending.
          if (finalAcks < owedAcks) return;
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
        if (ack.result !== common.MavResult.ACCEPTED) firstRefusal ??= ack;
        // An ACK names only the command id, so after a pre-emption the first ones may answer the
        // superseded copies. Only once more final ACKs have come than those copies could owe has
        // the vehicle surely answered one of ours, and a refusal among them may be ours, so it
        // wins: ACCEPTED is then never a stale ACK's word (a hold wrongly taken as refused only
        // falls back to another hold). Each ACK that may be stale gets a copy sent at once, so
        // the answer waits a round trip or two, not a resend interval per owed copy; a mode
        // switch sent again is harmless.
        if (finalAcks <= owedAcks) {
          transmit();
          return;
        }
        const answer = firstRefusal ?? ack;
        settle(mavResultName(answer.result), null, answer.resultParam2);
      },
      abort: (reason) => {
        if (!settled) settle(TIMEOUT, reason);
        release();
      },
      supersede: (reason) => {
        const owed = Math.max(0, sends + owedAcks - finalAcks);
        // The pre-empting command takes the id over: this one must not hand it on.
        released = true;
        if (!settled) settle(SUPERSEDED, reason);
        clearTimer();
        return owed;
      },
    };
    slot.active = exchange;
    transmit();
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
