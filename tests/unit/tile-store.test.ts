import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { sharedDir } from '../../app/station/paths';
import { openTileStore, type TileStore } from '../../app/station/tiles/tile-store';
import { tileToLatLon } from '../../app/station/tiles/xyz';
import { crc32, decodePng, encodePng } from '../helpers/png';
import {
  CONRAD_MT,
  TEST_TILE_ATTRIBUTION,
  latLonToTile,
  makeMbtiles,
  makeTileFolder,
  renderTilePng,
  type TileSet,
} from '../helpers/tiles';

let workDir = '';
let folderDir = '';
let mbtilesFile = '';
let folderSet: TileSet;
let mbtilesSet: TileSet;

before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-tiles-'));
  folderDir = path.join(workDir, 'conrad');
  mbtilesFile = path.join(workDir, 'conrad.mbtiles');
  folderSet = makeTileFolder(folderDir);
  mbtilesSet = makeMbtiles(mbtilesFile);
});

after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function withStore(spec: string, body: (store: TileStore) => void): void {
  const store = openTileStore(spec);
  try {
    body(store);
  } finally {
    store.dispose();
  }
}

test('the PNG helper writes real PNGs that decode back to the same pixels', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  const pixels = new Uint8Array(5 * 3 * 4).map((_, i) => (i * 37) & 0xff);
  const png = encodePng({ width: 5, height: 3, channels: 4, pixels });
  assert.deepEqual(png.subarray(1, 4).toString('latin1'), 'PNG');
  const back = decodePng(png);
  assert.deepEqual([back.width, back.height, back.channels], [5, 3, 4]);
  assert.deepEqual(back.pixels, pixels);
  assert.throws(() => encodePng({ width: 2, height: 2, channels: 3, pixels }), /do not fill/);
});

test('latLonToTile finds the tile holding Conrad, Montana', () => {
  // Worked by hand: x = (lon + 180) / 360 * 2^z; y from the Mercator formula.
  assert.deepEqual(latLonToTile(CONRAD_MT, 0), { z: 0, x: 0, y: 0 });
  assert.deepEqual(latLonToTile(CONRAD_MT, 12), { z: 12, x: 774, y: 1420 });
  const tile = latLonToTile(CONRAD_MT, 17);
  const nw = tileToLatLon(tile.z, tile.x, tile.y);
  const se = tileToLatLon(tile.z, tile.x + 1, tile.y + 1);
  assert.ok(nw.latDeg >= CONRAD_MT.latDeg && CONRAD_MT.latDeg > se.latDeg);
  assert.ok(nw.lonDeg <= CONRAD_MT.lonDeg && CONRAD_MT.lonDeg < se.lonDeg);
  assert.throws(() => latLonToTile(CONRAD_MT, 1.5), /zoom 1.5 is not an integer/);
});

test('the generated tiles are few, cover zooms 12-17, and each one looks different', () => {
  assert.equal(folderSet.tiles.length, 6 * 5 * 5);
  assert.deepEqual([folderSet.minZoom, folderSet.maxZoom], [12, 17]);
  const centre = latLonToTile(CONRAD_MT, 17);
  const a = decodePng(renderTilePng(centre));
  const b = decodePng(renderTilePng({ ...centre, x: centre.x + 1 }));
  assert.deepEqual([a.width, a.height, a.channels], [256, 256, 3]);
  assert.notDeepEqual(a.pixels, b.pixels);
  // The centre tile carries the red cross where Conrad is.
  const hasRed = (image: typeof a): boolean => {
    for (let i = 0; i < image.pixels.length; i += 3) {
      if (image.pixels[i] === 220 && image.pixels[i + 1] === 30) return true;
    }
    return false;
  };
  assert.ok(hasRed(a), 'centre tile has the marker');
  assert.ok(!hasRed(b), 'neighbour has none');
});

test('a tile folder serves the right bytes for z/x/y, with its metadata', () => {
  withStore(folderDir, (store) => {
    assert.equal(store.kind, 'folder');
    assert.equal(store.minZoom, 12);
    assert.equal(store.maxZoom, 17);
    assert.equal(store.attribution, TEST_TILE_ATTRIBUTION);
    assert.match(store.description, new RegExp(folderDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    for (const tile of folderSet.tiles.filter((_, i) => i % 7 === 0)) {
      const got = store.getTile(tile.z, tile.x, tile.y);
      assert.ok(got, `tile ${tile.z}/${tile.x}/${tile.y}`);
      assert.equal(got.contentType, 'image/png');
      assert.ok(got.data.equals(renderTilePng(tile)), `bytes of ${tile.z}/${tile.x}/${tile.y}`);
      const onDisk = readFileSync(path.join(folderDir, `${tile.z}/${tile.x}/${tile.y}.png`));
      assert.ok(got.data.equals(onDisk));
    }
  });
});

test('missing tiles and addresses that are not tiles give null', () => {
  withStore(folderDir, (store) => {
    const centre = latLonToTile(CONRAD_MT, 14);
    assert.equal(store.getTile(14, centre.x + 10, centre.y), null, 'outside the set');
    assert.equal(store.getTile(11, 387, 710), null, 'zoom not in the set');
    assert.equal(store.getTile(14, 1.5, centre.y), null);
    assert.equal(store.getTile(Number.NaN, 0, 0), null);
    assert.equal(store.getTile(14, -1, centre.y), null);
    assert.equal(store.getTile(2, 4, 0), null, 'x beyond the grid');
    assert.equal(store.getTile(31, 0, 0), null);
    // What a URL like /tiles/../../etc/passwd turns into once parsed as numbers.
    assert.equal(store.getTile(Number('..'), Number('..'), Number('passwd')), null);
  });
});

test('an MBTiles file serves the same tiles, its rows flipped to TMS order', () => {
  withStore(mbtilesFile, (store) => {
    assert.equal(store.kind, 'mbtiles');
    assert.equal(store.maxZoom, 17);
    assert.equal(store.minZoom, 12);
    assert.equal(store.attribution, TEST_TILE_ATTRIBUTION);
    assert.match(store.description, /MBTiles .*conrad\.mbtiles \(Ursa test tiles\)/);
    for (const tile of mbtilesSet.tiles.filter((_, i) => i % 5 === 0)) {
      const got = store.getTile(tile.z, tile.x, tile.y);
      assert.ok(got, `tile ${tile.z}/${tile.x}/${tile.y}`);
      assert.equal(got.contentType, 'image/png');
      assert.ok(got.data.equals(renderTilePng(tile)), `bytes of ${tile.z}/${tile.x}/${tile.y}`);
    }
    // The XYZ row y is stored as TMS row 2^z - 1 - y, and the XYZ y itself is not a row.
    const tile = latLonToTile(CONRAD_MT, 15);
    const tmsRow = 2 ** 15 - 1 - tile.y;
    const db = new Database(mbtilesFile, { readonly: true });
    try {
      const row = db
        .prepare('SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?')
        .get(15, tile.x, tmsRow) as { tile_data: Buffer };
      assert.ok(row.tile_data.equals(renderTilePng(tile)));
    } finally {
      db.close();
    }
    assert.equal(store.getTile(15, tile.x, tmsRow), null);
    assert.equal(store.getTile(15, tile.x + 20, tile.y), null);
  });
});

test('zoom range and attribution fall back to the tiles when metadata lacks them', () => {
  const file = path.join(workDir, 'bare.mbtiles');
  const db = new Database(file);
  db.exec('CREATE TABLE tiles (zoom_level INT, tile_column INT, tile_row INT, tile_data BLOB)');
  const tile = latLonToTile(CONRAD_MT, 13);
  db.prepare('INSERT INTO tiles VALUES (?, ?, ?, ?)').run(
    13,
    tile.x,
    2 ** 13 - 1 - tile.y,
    renderTilePng(tile),
  );
  db.close();
  withStore(file, (store) => {
    assert.deepEqual([store.minZoom, store.maxZoom, store.attribution], [13, 13, '']);
    assert.ok(store.getTile(13, tile.x, tile.y)?.data.equals(renderTilePng(tile)));
  });

  const dir = path.join(workDir, 'bare-folder');
  makeTileFolder(dir, { minZoom: 14, maxZoom: 15, radiusTiles: 0 });
  rmSync(path.join(dir, 'metadata.json'));
  withStore(dir, (store) => {
    assert.deepEqual([store.minZoom, store.maxZoom, store.attribution], [14, 15, '']);
  });
});

test('a folder declared TMS in metadata.json is read with its rows flipped', () => {
  const dir = path.join(workDir, 'tms-folder');
  const tile = latLonToTile(CONRAD_MT, 16);
  const tmsRow = 2 ** 16 - 1 - tile.y;
  mkdirSync(path.join(dir, '16', String(tile.x)), { recursive: true });
  writeFileSync(path.join(dir, '16', String(tile.x), `${tmsRow}.png`), renderTilePng(tile));
  writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify({ scheme: 'tms' }));
  withStore(dir, (store) => {
    assert.ok(store.getTile(16, tile.x, tile.y)?.data.equals(renderTilePng(tile)));
  });
});

test('a folder of JPEG tiles is served as image/jpeg', (t) => {
  const photo = path.join(sharedDir(), 'fixtures', 'images', 'dog.jpg');
  if (!existsSync(photo)) {
    t.skip(`${photo} is absent`);
    return;
  }
  const dir = path.join(workDir, 'jpeg-folder');
  mkdirSync(path.join(dir, '12', '774'), { recursive: true });
  copyFileSync(photo, path.join(dir, '12', '774', '1420.jpg'));
  withStore(dir, (store) => {
    const got = store.getTile(12, 774, 1420);
    assert.equal(got?.contentType, 'image/jpeg');
    assert.ok(got?.data.equals(readFileSync(photo)));
  });
});

test('a missing or unreadable source gives an error naming the path', () => {
  const missingDir = path.join(workDir, 'no-such-folder');
  assert.throws(
    () => openTileStore(missingDir),
    (error: Error) => {
      assert.match(error.message, /cannot open/);
      assert.ok(error.message.includes(missingDir), error.message);
      return true;
    },
  );
  const missingFile = path.join(workDir, 'nowhere.mbtiles');
  assert.throws(
    () => openTileStore(missingFile),
    (error: Error) => error.message.includes(missingFile),
  );
  assert.throws(() => openTileStore(''), /no path given/);

  const notSqlite = path.join(workDir, 'text.mbtiles');
  writeFileSync(notSqlite, 'this is not a database, just words '.repeat(200));
  assert.throws(
    () => openTileStore(notSqlite),
    (error: Error) => {
      assert.match(error.message, /not a readable MBTiles file/);
      assert.ok(error.message.includes(notSqlite), error.message);
      return true;
    },
  );

  const noTiles = path.join(workDir, 'other.mbtiles');
  new Database(noTiles).exec('CREATE TABLE things (id INT)').close();
  assert.throws(() => openTileStore(noTiles), /other\.mbtiles is not an MBTiles file: it has no/);

  const vector = path.join(workDir, 'vector.mbtiles');
  const vectorDb = new Database(vector);
  vectorDb.exec(
    'CREATE TABLE metadata (name TEXT, value TEXT);' +
      "INSERT INTO metadata VALUES ('format', 'pbf');" +
      'CREATE TABLE tiles (zoom_level INT, tile_column INT, tile_row INT, tile_data BLOB)',
  );
  vectorDb.close();
  assert.throws(() => openTileStore(vector), /holds vector tiles \(pbf\)/);

  const textFile = path.join(workDir, 'tiles.txt');
  writeFileSync(textFile, 'hello');
  assert.throws(() => openTileStore(textFile), /tiles\.txt is neither a folder .* \.mbtiles/);

  const empty = path.join(workDir, 'empty');
  mkdirSync(empty);
  assert.throws(() => openTileStore(empty), /no tiles in .*empty: expected/);

  const badMeta = path.join(workDir, 'bad-meta');
  makeTileFolder(badMeta, { minZoom: 12, maxZoom: 12, radiusTiles: 0 });
  writeFileSync(path.join(badMeta, 'metadata.json'), '{ "maxzoom": ');
  assert.throws(() => openTileStore(badMeta), /bad-meta.metadata\.json is not valid JSON/);
  writeFileSync(path.join(badMeta, 'metadata.json'), '{ "maxzoom": "high" }');
  assert.throws(() => openTileStore(badMeta), /maxzoom in .* is "high", not a zoom level/);
});

test('after dispose a store serves nothing, and disposing twice is harmless', () => {
  for (const spec of [folderDir, mbtilesFile]) {
    const store = openTileStore(spec);
    const tile = latLonToTile(CONRAD_MT, 12);
    assert.ok(store.getTile(12, tile.x, tile.y));
    store.dispose();
    store.dispose();
    assert.equal(store.getTile(12, tile.x, tile.y), null);
  }
});
