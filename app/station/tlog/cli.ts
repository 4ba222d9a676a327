// Flight record tools: `npm run log -- info FILE` prints a JSON summary of a tlog on stdout.
// Exit codes: 0 done, 1 the file cannot be read, 2 a wrong command line.

import { createLogger } from '../../core/log';
import { installStderrLogSink } from '../log';
import { summarizeTlogFile, type TlogSummary } from './summary';

const log = createLogger('log');

const USAGE = `Usage: npm run log -- info FILE.tlog

  info FILE   print a JSON summary of a flight record (QGroundControl .tlog): times,
              vehicles, flight modes, packets by message, what the reader skipped,
              where and how high it flew, mission items`;

class UsageError extends Error {}

function info(file: string): number {
  let summary: TlogSummary;
  try {
    summary = summarizeTlogFile(file);
  } catch (error) {
    // The reader's errors name the file and what was wrong with it.
    log.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
  for (const warning of summary.warnings) log.warn(`${file}: ${warning}`);
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return 0;
}

function main(args: string[]): number {
  const [command, ...rest] = args;
  if (command === undefined || command === '--help' || command === 'help') {
    if (command === undefined) throw new UsageError('no command given');
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command !== 'info') throw new UsageError(`unknown command "${command}"`);
  if (rest.length !== 1) throw new UsageError('info takes exactly one FILE');
  return info(rest[0]);
}

installStderrLogSink();
try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else {
    log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  }
}
