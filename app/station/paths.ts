// Where things live on disk, whether run from the source tree, from dist/, or packaged.

import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function findProjectRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const projectRoot = findProjectRoot(__dirname);

/** A built runtime file (the simulator, the detector worker). `npm run build` makes them. */
export function builtFile(relative: string): string {
  const file = path.join(projectRoot, 'dist', relative);
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first`);
  return file;
}

/** ../shared beside the project: models and fixtures made by other people. */
export function sharedDir(): string {
  return process.env.URSA_SHARED_DIR ?? path.resolve(projectRoot, '..', 'shared');
}

/** The user's data folder: flight records, caches. */
export function userDataDir(): string {
  if (process.env.URSA_DATA_DIR) return process.env.URSA_DATA_DIR;
  if (process.platform === 'win32' && process.env.APPDATA) {
    return path.join(process.env.APPDATA, 'Ursa');
  }
  if (process.platform === 'darwin') {
    return path.join(os.homedir(), 'Library', 'Application Support', 'Ursa');
  }
  const base = process.env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'ursa');
}

export function userCacheDir(): string {
  if (process.env.URSA_CACHE_DIR) return process.env.URSA_CACHE_DIR;
  if (process.platform === 'win32' || process.platform === 'darwin') {
    return path.join(userDataDir(), 'cache');
  }
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'ursa');
}
