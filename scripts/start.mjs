// `npm start`: the desktop app on the built-in simulated drone and its camera (a rendered
// field with a bear walking to a farm, streamed as live H.264 over UDP). Where the
// Electron binary is not installed (it is an optional dependency, and some machines cannot
// download it), the same station and UI run headless and are served to a browser instead.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import os from 'node:os';

const require = createRequire(import.meta.url);
const extra = process.argv.slice(2);

function electronBinary() {
  try {
    const binary = require('electron');
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

// The app runs in its own process group: Ctrl-C in the terminal reaches only this script,
// which passes it on once. Otherwise the station got it twice (from the terminal and from
// here), and the second one ended it before it had stopped its ffmpegs and simulator; and its
// children died of the first before the station could stop them in order.
const ownGroup = process.platform !== 'win32';
// No terminal input: a background process group that read it would be stopped (SIGTTIN).
const STDIO = ['ignore', 'inherit', 'inherit'];
const electron = electronBinary();
let child;
if (electron) {
  const args = extra.length > 0 ? ['.', '--', ...extra] : ['.'];
  child = spawn(electron, args, { stdio: STDIO, detached: ownGroup });
} else {
  const serve = process.env.URSA_SERVE ?? '127.0.0.1:8080';
  process.stderr.write(
    'Electron is not installed here, so Ursa runs headless: open the operator URL printed\n' +
      `below in a browser (observers use the URL without the token). Serving on ${serve}.\n`,
  );
  // The bear forages in a farm yard 50 m north of home: taking off to 50 m with the gimbal
  // 45 deg down (north) puts the yard in the middle of the view, beyond its flight distance.
  // Seed 43 gives a bear that runs from a drone within 45 m (the simulator's longest): a push
  // at the default 30 m standoff, 25 m up (39 m away), makes it run.
  const args =
    extra.length > 0
      ? extra
      : [
          '--sim',
          '--video',
          'sim',
          '--takeoff-alt',
          '50',
          '--speaker-relay',
          '0',
          '--sim-seed',
          '43',
        ];
  child = spawn(process.execPath, ['dist/station/cli.js', ...args, '--serve', serve], {
    stdio: STDIO,
    detached: ownGroup,
  });
}

/** Anything of the app's still alive in its group once it has exited (nothing, normally). */
function endGroup() {
  if (!ownGroup || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is empty, as it should be.
  }
}

// The station stops cleanly on SIGINT and SIGTERM; a closed terminal (SIGHUP) asks the same.
const FORWARDED = { SIGINT: 'SIGINT', SIGTERM: 'SIGTERM', SIGHUP: 'SIGTERM' };
let stopRequests = 0;
for (const [signal, forwarded] of Object.entries(FORWARDED)) {
  process.on(signal, () => {
    stopRequests++;
    // One stop request: a second would end the app before it has cleaned up. A third Ctrl-C
    // means it is stuck: end it and everything it started.
    if (stopRequests === 1) child.kill(forwarded);
    else if (stopRequests === 2) {
      process.stderr.write('Ursa is stopping; press Ctrl-C again to kill it at once.\n');
    } else endGroup();
  });
}
child.on('exit', (code, signal) => {
  endGroup();
  process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 0));
});
