// Offline map tiles: a folder of XYZ tiles or an MBTiles file. In a truck at dusk there is no
// internet, so the station serves the map itself from whatever the operator brought.

import Database from 'better-sqlite3';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { createLogger } from '../../core/log';
import { isTileCoordinate, MAX_TILE_ZOOM } from './xyz';

const log = createLogger('tiles');

export interface Tile {
  data: Buffer;
  contentType: string;
}

export interface TileStore {
  kind: 'folder' | 'mbtiles';
  /** For the operator and the logs: what is being served, from where. */
  description: string;
  minZoom: number;
  maxZoom: number;
  /** Credit the map's makers ask for; empty when the source names none. */
  attribution: string;
  /** Null when there is no such tile (or the address is not a tile address at all). */
  getTile(z: number, x: number, y: number): Tile | null;
  dispose(): void;
}

const FOLDER_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp'] as const;

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** The image type from the bytes themselves: MBTiles "format" metadata is often missing. */
function sniffContentType(data: Buffer, fallbackFormat: string | null): string {
  if (data.length >= 8 && data.readUInt32BE(0) === 0x89504e47) return 'image/png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) {
    return 'image/jpeg';
  }
  if (
    data.length >= 12 &&
    data.toString('latin1', 0, 4) === 'RIFF' &&
    data.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return 'image/webp';
  }
  return (fallbackFormat && CONTENT_TYPES[fallbackFormat]) ?? 'application/octet-stream';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parseZoom(value: unknown, where: string): number | null {
  if (value === undefined || value === null || value === '') return null;
  const zoom = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(zoom) || zoom < 0 || zoom > MAX_TILE_ZOOM) {
    throw new Error(`map tiles: ${where} is ${JSON.stringify(value)}, not a zoom level`);
  }
  return zoom;
}

/**
 * Opens `spec`: a folder laid out as `{z}/{x}/{y}.png` (or .jpg, .jpeg, .webp), with an
 * optional `metadata.json` ({ attribution, minzoom, maxzoom, scheme }), or an `.mbtiles` file.
 */
export function openTileStore(spec: string): TileStore {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new Error('map tiles: no path given (expected a tile folder or an .mbtiles file)');
  }
  const resolved = path.resolve(spec);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(resolved).isDirectory();
  } catch (error) {
    throw new Error(`map tiles: cannot open ${resolved}: ${errorText(error)}`);
  }
  if (isDirectory) return openFolder(resolved);
  if (resolved.toLowerCase().endsWith('.mbtiles')) return openMbtiles(resolved);
  throw new Error(
    `map tiles: ${resolved} is neither a folder of {z}/{x}/{y} tiles nor an .mbtiles file`,
  );
}

interface FolderMetadata {
  name: string | null;
  attribution: string;
  minZoom: number | null;
  maxZoom: number | null;
  tms: boolean;
}

function readFolderMetadata(dir: string): FolderMetadata {
  const file = path.join(dir, 'metadata.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { name: null, attribution: '', minZoom: null, maxZoom: null, tms: false };
    }
    throw new Error(`map tiles: cannot read ${file}: ${errorText(error)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`map tiles: ${file} is not valid JSON: ${errorText(error)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`map tiles: ${file} must hold a JSON object`);
  }
  const meta = raw as Record<string, unknown>;
  const scheme = meta.scheme ?? 'xyz';
  if (scheme !== 'xyz' && scheme !== 'tms') {
    throw new Error(`map tiles: ${file} has scheme ${JSON.stringify(scheme)}; use xyz or tms`);
  }
  return {
    name: typeof meta.name === 'string' ? meta.name : null,
    attribution: typeof meta.attribution === 'string' ? meta.attribution : '',
    minZoom: parseZoom(meta.minzoom, `minzoom in ${file}`),
    maxZoom: parseZoom(meta.maxzoom, `maxzoom in ${file}`),
    tms: scheme === 'tms',
  };
}

function openFolder(dir: string): TileStore {
  let zooms: number[];
  try {
    zooms = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && /^\d{1,2}$/.test(entry.name))
      .map((entry) => Number(entry.name))
      .filter((zoom) => zoom <= MAX_TILE_ZOOM);
  } catch (error) {
    throw new Error(`map tiles: cannot read the folder ${dir}: ${errorText(error)}`);
  }
  if (zooms.length === 0) {
    throw new Error(
      `map tiles: no tiles in ${dir}: expected ${path.join(dir, '{z}', '{x}', '{y}.png')} ` +
        '(or .jpg, .webp)',
    );
  }
  const meta = readFolderMetadata(dir);
  let disposed = false;
  // Folders hold one format; try the one that worked last first.
  let extensions: readonly string[] = FOLDER_EXTENSIONS;

  return {
    kind: 'folder',
    description: `tile folder ${dir}${meta.name ? ` (${meta.name})` : ''}`,
    minZoom: meta.minZoom ?? Math.min(...zooms),
    maxZoom: meta.maxZoom ?? Math.max(...zooms),
    attribution: meta.attribution,
    getTile(z, x, y) {
      // Only integers reach the path below: no "..", no separators.
      if (disposed || !isTileCoordinate(z, x, y)) return null;
      const row = meta.tms ? 2 ** z - 1 - y : y;
      for (const extension of extensions) {
        const file = path.join(dir, String(z), String(x), `${row}.${extension}`);
        let data: Buffer;
        try {
          data = readFileSync(file);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT' && code !== 'ENOTDIR') {
            log.warn(`cannot read tile ${file}: ${errorText(error)}`);
          }
          continue;
        }
        extensions = [extension, ...FOLDER_EXTENSIONS.filter((e) => e !== extension)];
        return { data, contentType: sniffContentType(data, extension) };
      }
      return null;
    },
    dispose() {
      disposed = true;
    },
  };
}

function openMbtiles(file: string): TileStore {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    const text = errorText(error);
    // better-sqlite3 is a native module: a build for another runtime (Electron) or none at all.
    const hint = /bindings file|NODE_MODULE_VERSION|invalid ELF/.test(text)
      ? ' (the SQLite module is not built for this Node.js: run "npm rebuild better-sqlite3")'
      : '';
    throw new Error(`map tiles: cannot open ${file}: ${text}${hint}`);
  }
  try {
    return describeMbtiles(file, db);
  } catch (error) {
    db.close();
    const message = errorText(error);
    throw new Error(
      message.startsWith('map tiles:')
        ? message
        : `map tiles: ${file} is not a readable MBTiles file: ${message}`,
    );
  }
}

function describeMbtiles(file: string, db: Database.Database): TileStore {
  const tables = new Set(
    (
      db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").all() as Array<{
        name: string;
      }>
    ).map((row) => row.name),
  );
  if (!tables.has('tiles')) {
    throw new Error(`map tiles: ${file} is not an MBTiles file: it has no "tiles" table`);
  }
  const meta = new Map<string, string>();
  if (tables.has('metadata')) {
    const rows = db.prepare('SELECT name, value FROM metadata').all() as Array<{
      name: string;
      value: string;
    }>;
    for (const row of rows) meta.set(String(row.name), String(row.value));
  }
  const format = meta.get('format')?.toLowerCase() ?? null;
  if (format === 'pbf' || format === 'mvt') {
    throw new Error(
      `map tiles: ${file} holds vector tiles (${format}); the map draws raster tiles ` +
        '(png, jpg, webp) only',
    );
  }
  const range = db
    .prepare('SELECT MIN(zoom_level) AS minZoom, MAX(zoom_level) AS maxZoom FROM tiles')
    .get() as { minZoom: number | null; maxZoom: number | null };
  if (range.maxZoom === null) throw new Error(`map tiles: ${file} holds no tiles`);

  const select = db.prepare(
    'SELECT tile_data AS data FROM tiles ' +
      'WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?',
  );
  const name = meta.get('name');
  let disposed = false;
  return {
    kind: 'mbtiles',
    description: `MBTiles ${file}${name ? ` (${name})` : ''}`,
    minZoom: parseZoom(meta.get('minzoom'), `minzoom in ${file}`) ?? range.minZoom ?? 0,
    maxZoom: parseZoom(meta.get('maxzoom'), `maxzoom in ${file}`) ?? range.maxZoom,
    attribution: meta.get('attribution') ?? '',
    getTile(z, x, y) {
      if (disposed || !isTileCoordinate(z, x, y)) return null;
      // MBTiles rows count from the south (TMS); XYZ rows count from the north.
      let row: { data: unknown } | undefined;
      try {
        row = select.get(z, x, 2 ** z - 1 - y) as { data: unknown } | undefined;
      } catch (error) {
        log.warn(`cannot read tile ${z}/${x}/${y} from ${file}: ${errorText(error)}`);
        return null;
      }
      if (!row || !Buffer.isBuffer(row.data)) return null;
      return { data: row.data, contentType: sniffContentType(row.data, format) };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      db.close();
    },
  };
}
