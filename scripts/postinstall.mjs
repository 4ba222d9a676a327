// Fetches Electron's binary after `npm install`. Electron's own install script is not allowed
// to run (see allowScripts in package.json) because a failed download would fail the whole
// install; here a failure only means `npm start` serves the UI to a browser instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const installer = 'node_modules/electron/install.js';
if (!existsSync(installer) || process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) process.exit(0);

const result = spawnSync(process.execPath, [installer], { stdio: ['ignore', 'ignore', 'pipe'] });
if (result.status !== 0) {
  const reason = String(result.stderr).trim().split('\n')[0] || `exit code ${result.status}`;
  process.stderr.write(
    `Ursa: Electron's binary could not be downloaded (${reason}).\n` +
      'npm start will run the station headless and serve the UI to a browser instead.\n',
  );
}
