// The Electron shell: starts the station as a child process (Electron's own Node, so no
// system Node is needed), then shows the station's UI in a locked-down window. A station
// crash never takes the window down with it, and the window can say what went wrong.

import { app, BrowserWindow, dialog, Menu, shell, type MenuItemConstructorOptions } from 'electron';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

// The demo: the simulated drone's camera (a zoom lens) on a bear foraging in a farm yard 50 m
// north of home; taking off to 50 m with the gimbal 45 deg down puts the yard in the middle of
// the view, beyond any bear's flight distance. Seed 43's bear runs from a drone within 45 m, so
// a push at the default 30 m standoff, 25 m up (39 m away), makes it run.
const stationArgs = process.argv.includes('--')
  ? process.argv.slice(process.argv.indexOf('--') + 1)
  : ['--sim', '--video', 'sim', '--takeoff-alt', '50', '--speaker-relay', '0', '--sim-seed', '43'];

let station: ChildProcess | null = null;
let window: BrowserWindow | null = null;
/** Stations replaying a flight record, one per replay window; each ends with its window. */
const replays = new Set<ChildProcess>();

function startStation(): Promise<string> {
  const child = spawnStation(stationArgs);
  station = child;
  return served(child, () => {
    station = null;
    return window;
  });
}

function spawnStation(args: string[]): ChildProcess {
  const cli = path.join(__dirname, '..', 'station', 'cli.js');
  return spawn(process.execPath, [cli, ...args, '--serve', '127.0.0.1:0', '--events', '-'], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/**
 * The operator URL the station serves, from its event stream.
 * @param onExit forgets the station and names the window that must say it stopped
 */
function served(child: ChildProcess, onExit: () => BrowserWindow | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const event = JSON.parse(line) as { type?: string; operatorUrl?: string };
        if (event.type === 'serve' && event.operatorUrl) resolve(event.operatorUrl);
      } catch {
        // Only JSON lines are events; anything else is not for us.
      }
    });
    child.once('exit', (code) => {
      const shown = onExit();
      reject(new Error(`the station stopped (exit code ${code}); see the terminal for why`));
      if (shown && !shown.isDestroyed()) {
        dialog.showErrorBox('Ursa station stopped', `The station exited with code ${code}.`);
      }
    });
  });
}

/** A window on a station of its own that replays a flight record; closing it ends the station. */
async function openFlightRecord(): Promise<void> {
  const choice = await dialog.showOpenDialog({
    title: 'Open a flight record',
    filters: [{ name: 'Flight records (.tlog)', extensions: ['tlog'] }],
    properties: ['openFile'],
  });
  const file = choice.filePaths[0];
  if (choice.canceled || !file) return;
  const child = spawnStation(['--replay', file]);
  replays.add(child);
  let replayWindow: BrowserWindow | null = null;
  try {
    const url = await served(child, () => {
      replays.delete(child);
      return replayWindow;
    });
    replayWindow = createWindow(url);
    // The file's name stays in the title bar: the page would put its own there.
    replayWindow.on('page-title-updated', (event) => event.preventDefault());
    replayWindow.setTitle(`Ursa replay: ${path.basename(file)}`);
    replayWindow.once('closed', () => {
      replays.delete(child);
      child.kill('SIGTERM');
    });
  } catch (error) {
    replays.delete(child);
    child.kill('SIGTERM');
    dialog.showErrorBox(
      `Ursa could not replay ${path.basename(file)}`,
      error instanceof Error ? error.message : String(error),
    );
  }
}

function createWindow(url: string): BrowserWindow {
  const origin = new URL(url).origin;
  const created = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'Ursa',
    backgroundColor: '#101418',
    webPreferences: {
      preload: path.join(__dirname, 'preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });

  // The window only ever shows the local station; links elsewhere open in the browser.
  created.webContents.on('will-navigate', (event, target) => {
    if (new URL(target).origin !== origin) event.preventDefault();
  });
  created.webContents.setWindowOpenHandler(({ url: target }) => {
    if (/^https?:\/\//.test(target)) void shell.openExternal(target);
    return { action: 'deny' };
  });
  void created.loadURL(url);
  return created;
}

function buildMenu(): void {
  const template: MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [
        {
          label: 'Open flight record…',
          accelerator: 'CmdOrCtrl+O',
          click: () => void openFlightRecord(),
        },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'togglefullscreen' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'toggleDevTools' },
      ],
    },
    {
      label: 'Help',
      submenu: [
        {
          label: 'About Ursa',
          click: () =>
            void dialog.showMessageBox({
              message: `Ursa ${app.getVersion()}`,
              detail: 'A ground station that finds bears in drone video and hazes them away.',
            }),
        },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

app.on('window-all-closed', () => app.quit());
app.on('will-quit', () => {
  station?.kill('SIGTERM');
  for (const replay of replays) replay.kill('SIGTERM');
});

void app.whenReady().then(async () => {
  buildMenu();
  try {
    window = createWindow(await startStation());
  } catch (error) {
    dialog.showErrorBox(
      'Ursa could not start',
      error instanceof Error ? error.message : String(error),
    );
    app.quit();
  }
});
