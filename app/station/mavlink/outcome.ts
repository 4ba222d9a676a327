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
