// The preload bridge. The UI talks to the station over its WebSocket like any browser, so the
// renderer needs nothing from Node: only a read-only note that it runs inside the desktop shell.

import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('ursaShell', {
  kind: 'electron',
  platform: process.platform,
});
