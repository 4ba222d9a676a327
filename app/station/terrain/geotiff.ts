// A single-band elevation GeoTIFF the user brings (SRTM, Copernicus GLO-30, a lidar DEM
// reprojected to degrees). Read whole into memory: a hazing flight covers a few kilometres.

import { fromFile } from 'geotiff';

import { GridTerrain, type GridCrs } from '../../core/terrain';

/** 8192 x 8192 floats is 256 MiB: crop anything larger to the area of the flight. */
const MAX_PIXELS = 8192 * 8192;

// GeoTIFF geo-key values (OGC GeoTIFF 1.1).
const MODEL_PROJECTED = 1;
const MODEL_GEOGRAPHIC = 2;
const RASTER_PIXEL_IS_POINT = 2;
/** WGS 84, and datums within a metre or two of it over a flight (NAD83, ETRS89, GDA94). */
const GEOGRAPHIC_CODES = new Set([4326, 4269, 4258, 4283]);
/** Web Mercator under its official and older codes. */
const MERCATOR_CODES = new Set([3857, 900913, 3785, 102100]);

function crsOf(file: string, keys: Record<string, unknown>): GridCrs {
  const model = keys.GTModelTypeGeoKey;
  const geographic = keys.GeographicTypeGeoKey;
  const projected = keys.ProjectedCSTypeGeoKey;
  if (model === MODEL_GEOGRAPHIC || (model === undefined && projected === undefined)) {
    if (geographic === undefined || GEOGRAPHIC_CODES.has(geographic as number)) {
      return 'EPSG:4326';
    }
    throw new Error(
      `${file}: geographic system EPSG:${String(geographic)} is not supported ` +
        '(use WGS 84, EPSG:4326)',
    );
  }
  if (model === MODEL_PROJECTED && MERCATOR_CODES.has(projected as number)) return 'EPSG:3857';
  throw new Error(
    `${file}: projected system EPSG:${String(projected)} is not supported; reproject it ` +
      'to EPSG:4326 first (gdalwarp -t_srs EPSG:4326 in.tif out.tif)',
  );
}

/** Loads a GeoTIFF as a terrain model; throws an Error naming the file and what is wrong. */
export async function loadGeoTiffTerrain(file: string): Promise<GridTerrain> {
  let tiff: Awaited<ReturnType<typeof fromFile>>;
  try {
    tiff = await fromFile(file);
  } catch (error) {
    throw new Error(`${file}: not a readable GeoTIFF (${(error as Error).message})`);
  }
  try {
    const image = await tiff.getImage();
    const width = image.getWidth();
    const height = image.getHeight();
    const bands = image.getSamplesPerPixel();
    if (bands !== 1) {
      throw new Error(`${file}: has ${bands} bands; an elevation model has one (heights)`);
    }
    if (width * height > MAX_PIXELS) {
      throw new Error(
        `${file}: ${width}x${height} is more than ${MAX_PIXELS} pixels; crop it to the ` +
          'flight area (gdal_translate -projwin)',
      );
    }
    const keys = (image.getGeoKeys() ?? {}) as Record<string, unknown>;
    const crs = crsOf(file, keys);
    const transform = image.fileDirectory.getValue('ModelTransformation') as number[] | undefined;
    if (transform && (transform[1] !== 0 || transform[4] !== 0)) {
      throw new Error(`${file}: the grid is rotated or sheared; only north-up grids are read`);
    }
    const tiepoint = image.fileDirectory.getValue('ModelTiepoint') as number[] | undefined;
    let originX: number;
    let originY: number;
    let pixelSizeX: number;
    let pixelSizeY: number;
    try {
      const [resolutionX, resolutionY] = image.getResolution();
      pixelSizeX = resolutionX;
      pixelSizeY = -resolutionY;
      // A tie point may name any raster position, not only the corner.
      const [tieColumn, tieRow] = tiepoint && tiepoint.length >= 6 ? tiepoint : [0, 0];
      const [x, y] = image.getOrigin();
      originX = x - tieColumn * pixelSizeX;
      originY = y + tieRow * pixelSizeY;
    } catch (error) {
      throw new Error(`${file}: has no georeferencing (${(error as Error).message})`);
    }
    if (!(pixelSizeX > 0 && pixelSizeY > 0)) {
      throw new Error(`${file}: pixel size ${pixelSizeX} x ${pixelSizeY}: rows must run south`);
    }
    // PixelIsPoint grids (SRTM's) give the centre of the first pixel, not its corner.
    if (keys.GTRasterTypeGeoKey === RASTER_PIXEL_IS_POINT) {
      originX -= pixelSizeX / 2;
      originY += pixelSizeY / 2;
    }
    const raster = await image.readRasters({ interleave: true });
    const values = Float32Array.from(raster as unknown as ArrayLike<number>);
    return new GridTerrain(
      {
        width,
        height,
        values,
        crs,
        originX,
        originY,
        pixelSizeX,
        pixelSizeY,
        noData: image.getGDALNoData(),
      },
      `GeoTIFF ${file} (${width}x${height}, ${crs})`,
    );
  } finally {
    await tiff.close();
  }
}
