// The protected zones on disk: one JSON file, rewritten whole on every change. A bad file
// never stops the station: it starts with no zones, says why, and keeps the bad file aside
// (renamed, not overwritten) when the operator first saves, so nothing drawn is lost unseen.

import { readFileSync, renameSync, rmSync, type Stats, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  checkZoneInput,
  formatZonesFile,
  parseZonesFile,
  ZONE_LIMITS,
  type ProtectedZone,
  type ZoneInput,
} from '../core/zones';
import { makeFolder } from './fs-util';
import { userDataDir } from './paths';

/** The user's zones when no --zones file is named. */
export function defaultZonesFile(): string {
  return path.join(userDataDir(), 'zones.json');
}

/**
 * Why `file` cannot be the zones file (it exists and is not a regular file, e.g. a folder);
 * null when it is a regular file or does not exist yet. For checking --zones at start-up.
 */
export function zonesPathProblem(file: string): string | null {
  const resolved = path.resolve(file);
  let stats: Stats;
  try {
    stats = statSync(resolved);
  } catch {
    // Missing is fine (made on the first save); other failures show when it is read.
    return null;
  }
  if (stats.isFile()) return null;
  const what = stats.isDirectory() ? 'a folder' : 'not a regular file';
  const example = stats.isDirectory() ? ` (e.g. ${path.join(resolved, 'zones.json')})` : '';
  return `the zones file ${resolved} is ${what}: give --zones a file${example}`;
}

export class ZoneStore {
  private current: ProtectedZone[];
  /** Why the file could not be read; null when it was read or did not exist. */
  private badFile: string | null;

  private constructor(
    readonly file: string,
    zones: ProtectedZone[],
    loadError: string | null,
  ) {
    this.current = zones;
    this.badFile = loadError;
  }

  /** Reads the file if there is one. Never throws: see loadError. */
  static open(file: string): ZoneStore {
    const resolved = path.resolve(file);
    const notAFile = zonesPathProblem(resolved);
    if (notAFile !== null) return new ZoneStore(resolved, [], notAFile);
    let text: string;
    try {
      text = readFileSync(resolved, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return new ZoneStore(resolved, [], null);
      return new ZoneStore(resolved, [], `cannot read ${resolved} (${code ?? String(error)})`);
    }
    try {
      return new ZoneStore(resolved, parseZonesFile(text, resolved), null);
    } catch (error) {
      return new ZoneStore(resolved, [], (error as Error).message);
    }
  }

  /** Why the zones file was not used, for the operator; null when all is well. */
  get loadError(): string | null {
    return this.badFile;
  }

  get zones(): ProtectedZone[] {
    return this.current.map(copyZone);
  }

  /**
   * Adds a zone (no id) or replaces one (its id), and writes the file. Throws an Error that
   * says what was wrong with the zone, or why the file could not be written; then nothing
   * changed.
   */
  save(value: unknown): { zone: ProtectedZone; created: boolean } {
    const input: ZoneInput = checkZoneInput(value);
    const next = this.current.slice();
    let zone: ProtectedZone;
    if (input.id !== undefined) {
      const index = next.findIndex((candidate) => candidate.id === input.id);
      if (index < 0) throw new Error(`zone ${input.id} does not exist (deleted meanwhile?)`);
      zone = { ...input, id: input.id };
      next[index] = zone;
    } else {
      if (next.length >= ZONE_LIMITS.maxZones) {
        throw new Error(`there are already ${ZONE_LIMITS.maxZones} zones, the most kept`);
      }
      const id = next.reduce((highest, candidate) => Math.max(highest, candidate.id), 0) + 1;
      zone = { ...input, id };
      next.push(zone);
    }
    this.write(next);
    return { zone: copyZone(zone), created: input.id === undefined };
  }

  /** Removes a zone and writes the file; returns it. Throws when there is no such zone. */
  delete(zoneId: number): ProtectedZone {
    const zone = this.current.find((candidate) => candidate.id === zoneId);
    if (!zone) throw new Error(`zone ${zoneId} does not exist (deleted meanwhile?)`);
    this.write(this.current.filter((candidate) => candidate.id !== zoneId));
    return copyZone(zone);
  }

  private write(zones: ProtectedZone[]): void {
    // Only a regular file is ever renamed aside or replaced: a folder named by mistake (or a
    // device, a socket) must survive whole.
    const notAFile = zonesPathProblem(this.file);
    if (notAFile !== null) throw new Error(`cannot save zones: ${notAFile}`);
    makeFolder(path.dirname(this.file));
    if (this.badFile !== null) {
      // Keep what could not be read: it may hold zones someone wants back.
      const aside = `${this.file}.bad-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      try {
        renameSync(this.file, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new Error(`cannot move the unreadable ${this.file} aside: ${String(error)}`);
        }
      }
      this.badFile = null;
    }
    // Write a new file and rename it over the old: a crash mid-write leaves the old file whole.
    const temporary = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, formatZonesFile(zones), { mode: 0o644 });
      renameSync(temporary, this.file);
    } catch (error) {
      rmSync(temporary, { force: true });
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new Error(`cannot write the zones file ${this.file} (${code})`);
    }
    this.current = zones;
  }
}

function copyZone(zone: ProtectedZone): ProtectedZone {
  return { ...zone, polygon: zone.polygon.map((corner) => ({ ...corner })) };
}
