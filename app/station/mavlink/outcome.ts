// Words for the operator about a command: what was asked, what the vehicle answered, and why
// when we can tell. The MAV_RESULT name stays at the end in brackets for the incident log.

import { common } from 'node-mavlink';

import type { CommandOutcome } from '../../core/types';

/** What a command came to: a MAV_RESULT name, or one of the station's own. */
export type CommandResultName = string;

export const TIMEOUT = 'TIMEOUT';
export const NOT_SENT = 'NOT_SENT';

export function mavResultName(code: number): CommandResultName {
  return common.MavResult[code] ?? `RESULT(${code})`;
}

const DEFAULT_REASONS: Record<string, string> = {
  TEMPORARILY_REJECTED: 'the vehicle is busy or not ready; try again shortly',
  DENIED: 'the vehicle does not allow it now',
  UNSUPPORTED: 'the vehicle does not support this command',
  FAILED: 'the vehicle could not carry it out',
  COMMAND_LONG_ONLY: 'the vehicle only takes this command as COMMAND_LONG',
  COMMAND_INT_ONLY: 'the vehicle only takes this command as COMMAND_INT',
  COMMAND_UNSUPPORTED_MAV_FRAME: 'the vehicle does not support the coordinate frame used',
  CANCELLED: 'the vehicle cancelled it',
  [TIMEOUT]: 'no answer from the vehicle',
  [NOT_SENT]: 'there is no link to the vehicle',
};

/**
 * @param action what was asked, as the operator would say it: "Take off to 20 m"
 * @param reason why it did not work, when the station can tell better than the result alone
 */
export function commandOutcome(
  action: string,
  result: CommandResultName,
  reason?: string | null,
): CommandOutcome {
  const ok = result === 'ACCEPTED';
  const why =
    reason ?? DEFAULT_REASONS[result] ?? 'the vehicle gave an answer the station does not know';
  let text: string;
  if (ok) text = `${action}: accepted`;
  else if (result === 'IN_PROGRESS') text = `${action}: still in progress`;
  else if (result === 'CANCELLED') text = `${action}: cancelled by the vehicle`;
  else if (result === TIMEOUT) text = `${action}: ${why}`;
  else if (result === NOT_SENT) text = `${action} not sent: ${why}`;
  else if (result === 'FAILED' && !reason) text = `${action} failed: ${why}`;
  else text = `${action} refused: ${why}`;
  return { ok, result, text: `${text} (${result})` };
}

/** What a mission transfer came to: a MAV_MISSION_RESULT name, or TIMEOUT / NOT_SENT. */
export function missionResultName(code: number): string {
  return common.MavMissionResult[code] ?? `MISSION_RESULT(${code})`;
}

const MISSION_REASONS: Record<string, string> = {
  ERROR: 'the vehicle reported an error',
  UNSUPPORTED_FRAME: 'the vehicle does not support a coordinate frame used in it',
  UNSUPPORTED: 'the vehicle does not support a command in it, or this kind of plan',
  NO_SPACE: 'the vehicle has no room for that many items',
  INVALID: 'the vehicle found an item invalid',
  INVALID_PARAM1: 'the vehicle found param1 of an item invalid',
  INVALID_PARAM2: 'the vehicle found param2 of an item invalid',
  INVALID_PARAM3: 'the vehicle found param3 of an item invalid',
  INVALID_PARAM4: 'the vehicle found param4 of an item invalid',
  INVALID_PARAM5_X: 'the vehicle found the latitude or x of an item invalid',
  INVALID_PARAM6_Y: 'the vehicle found the longitude or y of an item invalid',
  INVALID_PARAM7: 'the vehicle found the altitude or z of an item invalid',
  INVALID_SEQUENCE: 'items reached the vehicle out of order',
  DENIED: 'the vehicle does not accept it now',
  OPERATION_CANCELLED: 'the vehicle cancelled the transfer',
  [TIMEOUT]: 'no answer from the vehicle',
  [NOT_SENT]: 'there is no link to the vehicle',
};

/** Words for a mission, fence or rally transfer; ACCEPTED is the only success. */
export function missionOutcome(
  action: string,
  result: string,
  reason?: string | null,
): CommandOutcome {
  const ok = result === 'ACCEPTED';
  const why =
    reason ?? MISSION_REASONS[result] ?? 'the vehicle gave an answer the station does not know';
  let text: string;
  if (ok) text = reason ? `${action}: ${reason}` : `${action}: done`;
  else if (result === TIMEOUT) text = `${action} failed: ${why}`;
  else if (result === NOT_SENT) text = `${action} not sent: ${why}`;
  else text = `${action} refused: ${why}`;
  return { ok, result, text: `${text} (${result})` };
}

/** Words for a parameter read or write; results are ACCEPTED, REFUSED, CLAMPED or TIMEOUT. */
export function paramOutcome(action: string, result: string, detail: string): CommandOutcome {
  const ok = result === 'ACCEPTED';
  let text: string;
  if (ok) text = `${action}: ${detail}`;
  else if (result === NOT_SENT) text = `${action} not sent: ${detail}`;
  else if (result === TIMEOUT) text = `${action} failed: ${detail}`;
  else text = `${action} refused: ${detail}`;
  return { ok, result, text: `${text} (${result})` };
}
