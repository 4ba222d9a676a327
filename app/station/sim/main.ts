// Entry of the simulator process (dist/station/sim.js). It ends on SIGTERM or SIGINT, and when
// the process that started it goes away (its stdin pipe closes or its pid disappears), so a
// crashed station never leaves a drone flying in the background.

import { fstatSync } from 'node:fs';

import { createLogger } from '../../core/log';
import { installStderrLogSink } from '../log';
import { parseSimArgs, SIM_USAGE, type SimArgs } from './args';
import { SimAutopilot, type SimEvent } from './autopilot';
import { SimWorld } from './world';

const log = createLogger('sim');
const PARENT_CHECK_INTERVAL_MS = 1000;

async function main(): Promise<void> {
  installStderrLogSink();
  let args: SimArgs;
  try {
    args = parseSimArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(
      `sim: ${error instanceof Error ? error.message : error}\n\n${SIM_USAGE}\n`,
    );
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(`${SIM_USAGE}\n`);
    return;
  }

  const sim = await SimAutopilot.start(
    {
      target: args.out,
      home: args.home,
      speedFactor: args.speedFactor,
      loss: args.loss,
      signingKey: args.signingKey,
      messageIntervals: args.messageIntervals,
    },
    printEvent,
  );
  let world: SimWorld;
  try {
    world = new SimWorld(
      sim.vehicle,
      {
        farm: args.farm,
        bearStart: args.bearStart,
        bearSeed: args.bearSeed,
        speedFactor: args.speedFactor,
        video: args.video,
      },
      (truth) => printEvent({ event: 'bear', ...truth }),
    );
  } catch (error) {
    log.error(`the simulator's world cannot start: ${(error as Error).message}`);
    await sim.dispose();
    process.exit(1);
  }
  let stopping = false;
  const parentWatch = watchParent((reason) => void stop(reason));

  async function stop(reason: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info(`stopping: ${reason}`);
    clearInterval(parentWatch);
    const radio = sim.lossCounts;
    if (radio.lost + radio.blackedOut > 0) {
      log.info(
        `radio: ${radio.passed} datagrams passed, ${radio.lost} lost, ` +
          `${radio.blackedOut} lost in outages`,
      );
    }
    try {
      await world.dispose();
      await sim.dispose();
    } finally {
      process.exit(0);
    }
  }

  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Nobody left to read our events: the parent is gone.
  process.stdout.on('error', () => void stop('stdout closed'));
}

function printEvent(event: SimEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function watchParent(onGone: (reason: string) => void): NodeJS.Timeout {
  const parentPid = process.ppid;
  // A pipe on stdin means a parent process holds the other end; EOF means it is gone.
  if (stdinIsPipe()) {
    process.stdin.on('end', () => onGone('stdin closed'));
    process.stdin.on('error', () => onGone('stdin failed'));
    process.stdin.resume();
  }
  return setInterval(() => {
    if (process.ppid !== parentPid || !processExists(parentPid)) {
      onGone(`parent process ${parentPid} is gone`);
    }
  }, PARENT_CHECK_INTERVAL_MS);
}

function stdinIsPipe(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

main().catch((error: unknown) => {
  log.error(`simulator failed: ${error instanceof Error ? error.stack : error}`);
  process.exit(1);
});
