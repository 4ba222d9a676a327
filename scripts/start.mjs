// `npm start`: the desktop app on the built-in simulated drone and its camera (a rendered
// field with a bear walking to a farm, streamed as live H.264 over UDP). Where the
// Electron binary is not installed (it is an optional dependency, and some machines cannot
// download it), the same station and UI run headless and are served to a browser instead.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

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

const electron = electronBinary();
let child;
if (electron) {
  const args = extra.length > 0 ? ['.', '--', ...extra] : ['.'];
  child = spawn(electron, args, { stdio: 'inherit' });
} else {
  const serve = process.env.URSA_SERVE ?? '127.0.0.1:8080';
  process.stderr.write(
    'Electron is not installed here, so Ursa runs headless: open the operator URL printed\n' +
      `below in a browser (observers use the URL without the token). Serving on ${serve}.\n`,
  );
  // The bear forages in a farm yard 50 m north of home: taking off to 50 m with the gimbal
  // 45 deg down (north) puts the yard in the middle of the view, beyond its flight distance.
  const args = extra.length > 0 ? extra : ['--sim', '--video', 'sim', '--takeoff-alt', '50'];
  child = spawn(process.execPath, ['dist/station/cli.js', ...args, '--serve', serve], {
    stdio: 'inherit',
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
