// Georeferencing against a real survey: 64 DJI H20T thermal frames of forest from about 95 m
// with their GPS, altitudes and gimbal angles (../shared/fixtures/thermal/dji-h20t). Footprints
// are checked against hand geometry and the GPS track; then the image shift between the
// frames of the re-encoded clip, measured by phase correlation, is checked against the shift
// the footprints predict from GPS.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { distanceM, northEastOf } from '../../app/core/geodesy';
import { pixelToGround, type CameraPose } from '../../app/core/georef';
import type { CameraModel, LatLon } from '../../app/core/types';
import { sharedDir } from '../../app/station/paths';

const DIR = path.join(sharedDir(), 'fixtures', 'thermal', 'dji-h20t');
const CSV = path.join(DIR, 'kattenborn_H20T_sequence_exif.csv');
const CLIP = path.join(DIR, 'h20t-forest-95m-stills-2fps.mp4');
const WIDTH_PX = 640;
const HEIGHT_PX = 512;
const IMAGE = { width: WIDTH_PX, height: HEIGHT_PX };
// The H20T's radiometric thermal camera: 640 x 512 pixels of 12 um behind a 13.5 mm lens.
// DJI's "40.6 deg" is the diagonal field of view (this lens gives 40.0 deg across the diagonal);
// across the width it is 2 atan(3.84 / 13.5) = 31.8 deg.
const FOCAL_MM = 13.5;
const PIXEL_MM = 0.012;
const FOCAL_PX = FOCAL_MM / PIXEL_MM;
const toDeg = (rad: number): number => (rad * 180) / Math.PI;
const toRad = (deg: number): number => (deg * Math.PI) / 180;
const H20T: CameraModel = {
  horizontalFovDeg: 2 * toDeg(Math.atan(WIDTH_PX / 2 / FOCAL_PX)),
  verticalFovDeg: 2 * toDeg(Math.atan(HEIGHT_PX / 2 / FOCAL_PX)),
};

interface Still {
  file: string;
  timeS: number;
  position: LatLon;
  altitudeRelM: number;
  gimbalPitchDeg: number;
  gimbalYawDeg: number;
  gimbalRollDeg: number;
  flightYawDeg: number;
  flightPitchDeg: number;
  flightRollDeg: number;
}

function readStills(): Still[] {
  const [header, ...lines] = readFileSync(CSV, 'utf8').trim().split(/\r?\n/);
  const columns = header.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    const value = (name: string): string => cells[columns.indexOf(name)];
    const number = (name: string): number => Number(value(name));
    const [, hh, mm, ss] = /(\d\d):(\d\d):(\d\d)$/.exec(value('DateTimeOriginal')) ?? [];
    return {
      file: value('FileName'),
      timeS: Number(hh) * 3600 + Number(mm) * 60 + Number(ss),
      position: { latDeg: number('GPSLatitude'), lonDeg: number('GPSLongitude') },
      altitudeRelM: number('RelativeAltitude'),
      gimbalPitchDeg: number('GimbalPitchDegree'),
      gimbalYawDeg: number('GimbalYawDegree'),
      gimbalRollDeg: number('GimbalRollDegree'),
      flightYawDeg: number('FlightYawDegree'),
      flightPitchDeg: number('FlightPitchDegree'),
      flightRollDeg: number('FlightRollDegree'),
    };
  });
}

/** DJI reports gimbal angles against the horizon and north: a stabilised, earth-frame gimbal. */
function poseOf(still: Still): CameraPose {
  return {
    position: still.position,
    altitudeAglM: still.altitudeRelM,
    vehicleAttitude: {
      rollDeg: still.flightRollDeg,
      pitchDeg: still.flightPitchDeg,
      yawDeg: still.flightYawDeg,
    },
    gimbal: {
      pitchDeg: still.gimbalPitchDeg,
      rollDeg: still.gimbalRollDeg,
      yawDeg: still.gimbalYawDeg,
      yawFrame: 'earth',
    },
    stabilized: true,
  };
}

type Point = [number, number];

/** The four corners (top-left, top-right, bottom-right, bottom-left) as north/east metres. */
function footprint(still: Still, origin: LatLon): Point[] {
  const corners = [
    [0, 0],
    [WIDTH_PX, 0],
    [WIDTH_PX, HEIGHT_PX],
    [0, HEIGHT_PX],
  ];
  return corners.map(([x, y]) => {
    const fix = pixelToGround(poseOf(still), H20T, { x, y }, IMAGE);
    assert.ok(fix.ok, `${still.file} corner ${x},${y}: ${fix.ok ? '' : fix.reason}`);
    const { northM, eastM } = northEastOf(origin, fix.position);
    return [eastM, northM];
  });
}

function area(polygon: Point[]): number {
  let sum = 0;
  polygon.forEach(([x1, y1], i) => {
    const [x2, y2] = polygon[(i + 1) % polygon.length];
    sum += x1 * y2 - x2 * y1;
  });
  return Math.abs(sum) / 2;
}

/** Sutherland-Hodgman: the part of `subject` inside the convex `clip`. */
function intersect(subject: Point[], clip: Point[]): Point[] {
  const orientation = Math.sign(
    (clip[1][0] - clip[0][0]) * (clip[2][1] - clip[0][1]) -
      (clip[1][1] - clip[0][1]) * (clip[2][0] - clip[0][0]),
  );
  let output = subject;
  clip.forEach((a, i) => {
    const b = clip[(i + 1) % clip.length];
    const inside = (p: Point): boolean =>
      orientation * ((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])) >= 0;
    const crossing = (p: Point, q: Point): Point => {
      const [dx, dy] = [q[0] - p[0], q[1] - p[1]];
      const [ex, ey] = [b[0] - a[0], b[1] - a[1]];
      const t = (ex * (p[1] - a[1]) - ey * (p[0] - a[0])) / (ey * dx - ex * dy);
      return [p[0] + t * dx, p[1] + t * dy];
    };
    const input = output;
    output = [];
    input.forEach((p, j) => {
      const q = input[(j + 1) % input.length];
      if (inside(q)) {
        if (!inside(p)) output.push(crossing(p, q));
        output.push(q);
      } else if (inside(p)) {
        output.push(crossing(p, q));
      }
    });
  });
  return output;
}

/** The GPS move from one still to the next in the first still's image axes, metres. */
function moveInImage(from: Still, to: Still): { upM: number; rightM: number } {
  const { northM, eastM } = northEastOf(from.position, to.position);
  const yaw = toRad(from.gimbalYawDeg);
  return {
    upM: northM * Math.cos(yaw) + eastM * Math.sin(yaw),
    rightM: -northM * Math.sin(yaw) + eastM * Math.cos(yaw),
  };
}

const skip = existsSync(CSV) ? false : `no H20T survey at ${DIR} (see ../shared/README.md)`;

test(
  'H20T footprints: size by hand geometry, centre below the GPS, overlap by the GPS track',
  { skip },
  (t) => {
    const stills = readStills();
    assert.equal(stills.length, 64);
    const origin = stills[0].position;
    const tanHalfH = Math.tan(toRad(H20T.horizontalFovDeg / 2));
    const tanHalfV = Math.tan(toRad(H20T.verticalFovDeg / 2));
    const prints = stills.map((still) => footprint(still, origin));
    let worstSizeError = 0;
    let worstCentreM = 0;
    stills.forEach((still, i) => {
      const [tl, tr, br, bl] = prints[i];
      const widthM = Math.hypot(tr[0] - tl[0], tr[1] - tl[1]);
      const heightM = Math.hypot(bl[0] - tl[0], bl[1] - tl[1]);
      // Straight down the footprint is a rectangle 2 h tan(fov / 2) on a side; 0.1 deg off
      // nadir changes that by far less than a centimetre.
      const expectedWidthM = 2 * still.altitudeRelM * tanHalfH;
      const expectedHeightM = 2 * still.altitudeRelM * tanHalfV;
      worstSizeError = Math.max(
        worstSizeError,
        Math.abs(widthM / expectedWidthM - 1),
        Math.abs(heightM / expectedHeightM - 1),
      );
      const centre = pixelToGround(poseOf(still), H20T, { x: 320, y: 256 }, IMAGE);
      assert.ok(centre.ok);
      const offNadirDeg = 90 + still.gimbalPitchDeg;
      const centreM = distanceM(centre.position, still.position);
      assert.ok(
        centreM <= still.altitudeRelM * Math.tan(toRad(offNadirDeg)) + 0.01,
        `${still.file}: centre ${centreM.toFixed(2)} m from the GPS position`,
      );
      worstCentreM = Math.max(worstCentreM, centreM);
      // The footprint's top edge faces the gimbal's yaw.
      const up = [
        (tl[0] + tr[0]) / 2 - (bl[0] + br[0]) / 2,
        (tl[1] + tr[1]) / 2 - (bl[1] + br[1]) / 2,
      ];
      const bearing = (toDeg(Math.atan2(up[0], up[1])) + 360) % 360;
      const yawError = Math.abs(((bearing - still.gimbalYawDeg + 540) % 360) - 180);
      assert.ok(
        yawError < 0.5,
        `${still.file}: footprint faces ${bearing}, gimbal ${still.gimbalYawDeg}`,
      );
    });
    assert.ok(worstSizeError < 0.001, `footprint size off by ${worstSizeError}`);
    const widthM = 2 * 95 * tanHalfH;
    t.diagnostic(
      `H20T HFOV ${H20T.horizontalFovDeg.toFixed(2)} deg, VFOV ${H20T.verticalFovDeg.toFixed(2)}` +
        ` deg; footprint at 95 m ${widthM.toFixed(1)} x ${(2 * 95 * tanHalfV).toFixed(1)} m;` +
        ` size within ${(worstSizeError * 100).toFixed(3)} % of hand geometry; centre within` +
        ` ${worstCentreM.toFixed(2)} m of the GPS position`,
    );

    // Neighbouring frames on a straight leg (heading steady): the footprints overlap by
    // (1 - up / height) (1 - right / width) of the GPS move in the image's axes.
    const overlaps: number[] = [];
    let worstOverlapError = 0;
    for (let i = 0; i + 1 < stills.length; i += 1) {
      const [a, b] = [stills[i], stills[i + 1]];
      const turnDeg = Math.abs(((b.gimbalYawDeg - a.gimbalYawDeg + 540) % 360) - 180);
      const common = area(intersect(prints[i + 1], prints[i])) / area(prints[i]);
      if (turnDeg > 0.5) {
        // In the turn the camera swings round: still some overlap, less than on a leg.
        assert.ok(common < 0.9, `${a.file} in the turn overlaps ${common}`);
        continue;
      }
      const { upM, rightM } = moveInImage(a, b);
      const heightM = 2 * a.altitudeRelM * tanHalfV;
      const widthEachM = 2 * a.altitudeRelM * tanHalfH;
      const predicted = (1 - Math.abs(upM) / heightM) * (1 - Math.abs(rightM) / widthEachM);
      worstOverlapError = Math.max(worstOverlapError, Math.abs(common - predicted));
      overlaps.push(common);
    }
    assert.ok(overlaps.length >= 50, `${overlaps.length} straight-leg pairs`);
    assert.ok(worstOverlapError < 0.01, `overlap off by ${worstOverlapError}`);
    // A survey flown for mapping: every straight-leg pair overlaps by 80-90 %.
    assert.ok(
      Math.min(...overlaps) > 0.8 && Math.max(...overlaps) < 0.9,
      `overlaps ${Math.min(...overlaps)}..${Math.max(...overlaps)}`,
    );
    t.diagnostic(
      `${overlaps.length} straight-leg pairs overlap ${(Math.min(...overlaps) * 100).toFixed(1)}` +
        `-${(Math.max(...overlaps) * 100).toFixed(1)} %; footprints agree with the GPS ` +
        `prediction within ${(worstOverlapError * 100).toFixed(3)} points`,
    );
  },
);

/** Decodes a video or image to 8-bit grey frames of 640 x 512 with ffmpeg. */
function decodeGrey(file: string): Uint8Array[] {
  const result = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
  );
  assert.equal(result.status, 0, `ffmpeg failed on ${file}: ${String(result.stderr)}`);
  const size = WIDTH_PX * HEIGHT_PX;
  const data = result.stdout as Buffer;
  assert.equal(data.length % size, 0, `${file} does not decode to ${WIDTH_PX}x${HEIGHT_PX}`);
  return Array.from(
    { length: data.length / size },
    (_, i) => new Uint8Array(data.subarray(i * size, (i + 1) * size)),
  );
}

/** In-place iterative radix-2 FFT of one line (length a power of two). */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i += 1) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let length = 2; length <= n; length <<= 1) {
    const angle = ((inverse ? 2 : -2) * Math.PI) / length;
    for (let start = 0; start < n; start += length) {
      for (let k = 0; k < length / 2; k += 1) {
        const [wr, wi] = [Math.cos(angle * k), Math.sin(angle * k)];
        const a = start + k;
        const b = a + length / 2;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        [re[b], im[b]] = [re[a] - xr, im[a] - xi];
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

function fft2(re: Float64Array, im: Float64Array, size: number, inverse: boolean): void {
  const lineRe = new Float64Array(size);
  const lineIm = new Float64Array(size);
  for (let pass = 0; pass < 2; pass += 1) {
    for (let line = 0; line < size; line += 1) {
      // First the rows, then the columns.
      const at = (i: number): number => (pass === 0 ? line * size + i : i * size + line);
      for (let i = 0; i < size; i += 1) [lineRe[i], lineIm[i]] = [re[at(i)], im[at(i)]];
      fft(lineRe, lineIm, inverse);
      for (let i = 0; i < size; i += 1) [re[at(i)], im[at(i)]] = [lineRe[i], lineIm[i]];
    }
  }
}

const CROP = 512;

/**
 * The centre 512 x 512 of a frame, less the clip's mean frame (a thermal camera's vignetting
 * and fixed pattern stay put and would pull the correlation to zero shift), Hann-windowed.
 */
function prepare(frame: Uint8Array, meanFrame: Float64Array): Float64Array {
  const x0 = (WIDTH_PX - CROP) / 2;
  const out = new Float64Array(CROP * CROP);
  let sum = 0;
  for (let y = 0; y < CROP; y += 1) {
    for (let x = 0; x < CROP; x += 1) {
      const i = y * WIDTH_PX + x0 + x;
      out[y * CROP + x] = frame[i] - meanFrame[i];
      sum += out[y * CROP + x];
    }
  }
  const mean = sum / out.length;
  const hann = (i: number): number => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (CROP - 1));
  for (let y = 0; y < CROP; y += 1) {
    for (let x = 0; x < CROP; x += 1) {
      out[y * CROP + x] = (out[y * CROP + x] - mean) * hann(x) * hann(y);
    }
  }
  return out;
}

/** Phase correlation: how far `later` is `earlier` moved (x right, y down), to a tenth pixel. */
function imageShift(
  earlier: Float64Array,
  later: Float64Array,
): { x: number; y: number; peak: number } {
  const [aRe, aIm] = [Float64Array.from(later), new Float64Array(CROP * CROP)];
  const [bRe, bIm] = [Float64Array.from(earlier), new Float64Array(CROP * CROP)];
  fft2(aRe, aIm, CROP, false);
  fft2(bRe, bIm, CROP, false);
  for (let i = 0; i < aRe.length; i += 1) {
    const re = aRe[i] * bRe[i] + aIm[i] * bIm[i];
    const im = aIm[i] * bRe[i] - aRe[i] * bIm[i];
    const magnitude = Math.hypot(re, im) + 1e-12;
    [aRe[i], aIm[i]] = [re / magnitude, im / magnitude];
  }
  fft2(aRe, aIm, CROP, true);
  let best = 0;
  for (let i = 1; i < aRe.length; i += 1) if (aRe[i] > aRe[best]) best = i;
  const [row, column] = [Math.floor(best / CROP), best % CROP];
  const value = (r: number, c: number): number =>
    aRe[((r + CROP) % CROP) * CROP + ((c + CROP) % CROP)];
  // A parabola through the peak and its neighbours places it between pixels.
  const refine = (minus: number, centre: number, plus: number): number =>
    (minus - plus) / (2 * (minus - 2 * centre + plus));
  const y = row + refine(value(row - 1, column), value(row, column), value(row + 1, column));
  const x = column + refine(value(row, column - 1), value(row, column), value(row, column + 1));
  return {
    x: x > CROP / 2 ? x - CROP : x,
    y: y > CROP / 2 ? y - CROP : y,
    peak: aRe[best] / aRe.length,
  };
}

const clipSkip =
  skip ||
  (!existsSync(CLIP) ? `no clip at ${CLIP}` : false) ||
  (spawnSync('ffmpeg', ['-version']).status !== 0 ? 'ffmpeg is not installed' : false);

test(
  'H20T clip: which stills it holds, and image shift against the GPS-predicted shift',
  { skip: clipSkip, timeout: 120_000 },
  (t) => {
    const stills = readStills();
    const frames = decodeGrey(CLIP);
    assert.equal(frames.length, 24);

    // Which stills: the two radiometric JPEGs beside the clip, decoded, each match one frame
    // far better than any other; their places give the offset into the survey.
    const offsets: number[] = [];
    for (const still of ['0191', '0208']) {
      const name = stills.find((s) => s.file.includes(`_${still}_`))!.file;
      const file = path.join(DIR, `kattenborn_${name}`);
      const [image] = decodeGrey(file);
      const differences = frames.map((frame) => {
        let sum = 0;
        for (let i = 0; i < frame.length; i += 1) sum += Math.abs(frame[i] - image[i]);
        return sum / frame.length;
      });
      const ranked = [...differences].sort((a, b) => a - b);
      const index = differences.indexOf(ranked[0]);
      assert.ok(ranked[0] * 4 < ranked[1], `${still}: best ${ranked[0]}, next ${ranked[1]}`);
      offsets.push(stills.findIndex((s) => s.file.includes(`_${still}_`)) - index);
      t.diagnostic(
        `still ${still} is clip frame ${index} (mean difference ` +
          `${ranked[0].toFixed(1)}` +
          ` grey levels; next best ${ranked[1].toFixed(1)})`,
      );
    }
    assert.equal(offsets[0], offsets[1], 'both stills put the clip at the same place');
    const first = offsets[0];
    assert.equal(first, 0, 'the clip is the first 24 stills, 0191-0214, in order');
    const clipStills = stills.slice(first, first + frames.length);
    // In order and straight: the stills' times rise and the heading holds.
    clipStills.slice(1).forEach((s, i) => assert.ok(s.timeS > clipStills[i].timeS));

    const meanFrame = new Float64Array(WIDTH_PX * HEIGHT_PX);
    for (const frame of frames) {
      for (let i = 0; i < frame.length; i += 1) meanFrame[i] += frame[i] / frames.length;
    }
    const prepared = frames.map((frame) => prepare(frame, meanFrame));

    const rows: string[] = [];
    const ratios: number[] = [];
    const angleErrors: number[] = [];
    for (let i = 0; i + 1 < frames.length; i += 1) {
      const [a, b] = [clipStills[i], clipStills[i + 1]];
      // Pixels per metre from the footprint: image width over footprint width.
      const [tl, tr] = footprint(a, a.position);
      const pxPerM = WIDTH_PX / Math.hypot(tr[0] - tl[0], tr[1] - tl[1]);
      // The camera moves up the image; the ground moves down it.
      const { upM, rightM } = moveInImage(a, b);
      const predicted = { x: -rightM * pxPerM, y: upM * pxPerM };
      const measured = imageShift(prepared[i], prepared[i + 1]);
      const ratio = Math.hypot(measured.x, measured.y) / Math.hypot(predicted.x, predicted.y);
      const angle = toDeg(
        Math.atan2(measured.x, measured.y) - Math.atan2(predicted.x, predicted.y),
      );
      ratios.push(ratio);
      angleErrors.push(angle);
      rows.push(
        `${a.file.slice(-10, -6)}>${b.file.slice(-10, -6)} measured ` +
          `${measured.x.toFixed(1)},${measured.y.toFixed(1)} px predicted ` +
          `${predicted.x.toFixed(1)},${predicted.y.toFixed(1)} px ratio ${ratio.toFixed(3)} ` +
          `angle ${angle.toFixed(1)} deg peak ${measured.peak.toFixed(3)}`,
      );
    }
    for (const row of rows) t.diagnostic(row);
    const median = (values: number[]): number =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const forest = ratios.slice(0, 20);
    const canopyM = 95 * (1 - 1 / median(forest));
    t.diagnostic(
      `forest pairs: measured/predicted shift median ${median(forest).toFixed(3)} (the canopy ` +
        `is nearer than the take-off ground: ${canopyM.toFixed(1)} m tall if the FOV is right); ` +
        `last pairs over a clearing: ${ratios
          .slice(-2)
          .map((r) => r.toFixed(3))
          .join(', ')}; ` +
        `direction off by ${median(angleErrors).toFixed(1)} deg (median)`,
    );

    // Every pair moves the way GPS and gimbal yaw say, to within a few degrees: the shift
    // comes out about 3.5 deg clockwise of the prediction on every pair, a steady bias of the
    // gimbal yaw DJI records.
    for (const angle of angleErrors) assert.ok(Math.abs(angle) < 6, `direction off ${angle} deg`);
    // Over the clearing at the end (open ground at take-off level) the measured shift matches
    // the flat-ground prediction: the FOV, the altitude and the georeferencing agree.
    for (const ratio of ratios.slice(-2)) assert.ok(Math.abs(ratio - 1) < 0.05, `ratio ${ratio}`);
    // Over the forest the image moves faster, as the canopy is nearer the camera; the ratio
    // says how much nearer, and that must be a forest's height.
    assert.ok(canopyM > 15 && canopyM < 35, `canopy ${canopyM} m`);
    for (const ratio of ratios) assert.ok(ratio > 0.9 && ratio < 1.6, `ratio ${ratio}`);
  },
);
