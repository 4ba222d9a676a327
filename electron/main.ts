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

function startStation(): Promise<string> {
  const cli = path.join(__dirname, '..', 'station', 'cli.js');
  const child = spawn(
    process.execPath,
    [cli, ...stationArgs, '--serve', '127.0.0.1:0', '--events', '-'],
    { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  station = child;

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
      station = null;
      reject(new Error(`the station stopped (exit code ${code}); see the terminal for why`));
      if (window && !window.isDestroyed()) {
        dialog.showErrorBox('Ursa station stopped', `The station exited with code ${code}.`);
      }
    });
  });
}

function createWindow(url: string): void {
  const origin = new URL(url).origin;
  window = new BrowserWindow({
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
  window.webContents.on('will-navigate', (event, target) => {
    if (new URL(target).origin !== origin) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url: target }) => {
    if (/^https?:\/\//.test(target)) void shell.openExternal(target);
    return { action: 'deny' };
  });
  void window.loadURL(url);
}

function buildMenu(): void {
  const template: MenuItemConstructorOptions[] = [
    { label: 'File', submenu: [{ role: 'quit' }] },
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
});

void app.whenReady().then(async () => {
  buildMenu();
  try {
    createWindow(await startStation());
  } catch (error) {
    dialog.showErrorBox(
      'Ursa could not start',
      error instanceof Error ? error.message : String(error),
    );
    app.quit();
  }
});
