// File-system helpers for folders the operator names on the command line.

import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Creates a folder and its missing parents. Unlike mkdirSync's recursive mode, which loops
 * forever under some pseudo file systems (/proc), it creates one level at a time and fails
 * with the first level that cannot be made.
 */
export function makeFolder(dir: string, mode = 0o777): void {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    try {
      if (!statSync(current).isDirectory()) throw new Error(`${current} is not a folder`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      missing.push(current);
      const parent = path.dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
  for (const folder of missing.reverse()) mkdirSync(folder, { mode });
}
