// What the simulated drone's camera sees: each pixel's ray is cast onto flat ground at home
// altitude, as the station's georeferencing (app/core/georef.ts) assumes, with the same pinhole
// model (the field of view spans the frame edge to edge). The ground is procedural: grass with
// patches, dirt tracks, a farm yard with a barn and a silo, so motion shows. The bear is the
// cut-out photo standing upright in the image (a billboard): a COCO detector knows bears from
// the side, not as a photo lying rotated on the grass. Its feet stand at the projection of its
// true ground point, the bottom centre of the box a detector draws, which is what
// georeferencing takes as the animal's place; it is 1.9 m long at its slant range, and faces
// the way it walks across the screen.

import { rotationZyx, type Vec3 } from '../../core/georef';
import type { CameraModel } from '../../core/types';
import type { LocalPointM } from './bear';
import type { RgbaImage } from './png';

/** Nose to tail of a grown brown bear. */
export const BEAR_LENGTH_M = 1.9;

export interface ViewPose extends LocalPointM {
  /** Height of the camera above the flat ground. */
  altitudeAglM: number;
  /** Where the camera points: degrees clockwise from north. */
  headingDeg: number;
  /** Negative is down, against the horizon (a stabilised gimbal). */
  pitchDeg: number;
  rollDeg: number;
}

export interface BearPose extends LocalPointM {
  headingDeg: number;
}

export interface SceneOptions {
  width: number;
  height: number;
  camera: CameraModel;
  /** Centre of the farm yard, metres from home. */
  farm: LocalPointM;
  /** The bear photo with a transparent background, facing right; null draws no bear. */
  bearSprite: RgbaImage | null;
}

const TILE_SIZE = 256;
const TILE_MASK = TILE_SIZE - 1;
/** Grass detail: 0.2 m texels; patches of dry and green grass: 1 m texels. */
const FINE_TEXELS_PER_M = 5;
const COARSE_TEXELS_PER_M = 1;
/** Blades and tufts: 5 cm texels of the same noise. */
const GRAIN_TEXELS_PER_M = 20;
const HAZE_DISTANCE_M = 2500;
const MIN_CAMERA_HEIGHT_M = 0.2;
const SKY: Vec3 = [172, 196, 226];
const DRY_GRASS: Vec3 = [168, 152, 98];
const GREEN_GRASS: Vec3 = [92, 122, 56];
const DIRT: Vec3 = [128, 104, 78];
const GRAVEL: Vec3 = [158, 150, 136];
const BARN_ROOF: Vec3 = [150, 44, 36];
const SILO_METAL: Vec3 = [190, 193, 196];
/** Farm yard half-sizes and buildings, metres from the farm's centre. */
const YARD_HALF_NORTH_M = 25;
const YARD_HALF_EAST_M = 35;
const BARN = { northM: -8, eastM: -14, halfNorthM: 6, halfEastM: 12 };
const SILO = { northM: 9, eastM: 18, radiusM: 4 };
/** Wheel ruts of a farm track: 0.4 m wide, 1.6 m apart. */
const RUT_INNER_M = 0.6;
const RUT_OUTER_M = 1.0;

interface Track {
  fromNorthM: number;
  fromEastM: number;
  dirNorth: number;
  dirEast: number;
  lengthM: number;
}

const toRad = (deg: number): number => (deg * Math.PI) / 180;

/** Tileable value noise in 0..1: octaves of smoothly interpolated random lattices. */
function noiseTile(seed: number): Float32Array {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const tile = new Float32Array(TILE_SIZE * TILE_SIZE);
  let total = 0;
  for (const [period, weight] of [
    [64, 0.4],
    [32, 0.25],
    [16, 0.15],
    [8, 0.1],
    [4, 0.1],
  ]) {
    const cells = TILE_SIZE / period;
    const lattice = Array.from({ length: cells * cells }, random);
    const at = (i: number, j: number): number => lattice[(i % cells) * cells + (j % cells)];
    for (let row = 0; row < TILE_SIZE; row++) {
      const i = Math.floor(row / period);
      const fy = smooth((row % period) / period);
      for (let col = 0; col < TILE_SIZE; col++) {
        const j = Math.floor(col / period);
        const fx = smooth((col % period) / period);
        const top = at(i, j) + (at(i, j + 1) - at(i, j)) * fx;
        const bottom = at(i + 1, j) + (at(i + 1, j + 1) - at(i + 1, j)) * fx;
        tile[row * TILE_SIZE + col] += weight * (top + (bottom - top) * fy);
      }
    }
    total += weight;
  }
  for (let i = 0; i < tile.length; i++) tile[i] /= total;
  return tile;
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** The bear photo's opaque part, in photo pixels: its feet and how many pixels make a metre. */
interface SpriteFrame {
  /** The photo and its halvings (box-filtered), so a far bear is not a shimmer of fur. */
  levels: RgbaImage[];
  left: number;
  top: number;
  /** One past the opaque part's last column and row. */
  right: number;
  bottom: number;
  pxPerM: number;
}

function spriteFrame(image: RgbaImage): SpriteFrame {
  let [left, top, right, bottom] = [image.width, image.height, -1, -1];
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if (image.rgba[(y * image.width + x) * 4 + 3] < 128) continue;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  if (right < left) throw new Error('the bear picture is fully transparent');
  const levels = [image];
  while (levels.length < 6) {
    const half = halve(levels[levels.length - 1]);
    if (!half) break;
    levels.push(half);
  }
  return {
    levels,
    left,
    top,
    right: right + 1,
    bottom: bottom + 1,
    pxPerM: (right + 1 - left) / BEAR_LENGTH_M,
  };
}

/** Where the bear is drawn: its opaque part's box on screen, continuous pixels. */
export interface BearOnScreen {
  /** The projection of the bear's ground point: the bottom centre of the box. */
  footX: number;
  footY: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
  /** Camera to the bear's ground point. */
  slantRangeM: number;
  /** The photo faces right; mirrored when the bear walks leftward across the screen. */
  mirrored: boolean;
}

export class GroundRenderer {
  readonly width: number;
  readonly height: number;
  readonly camera: CameraModel;
  private readonly fine = noiseTile(0x5eed);
  private readonly coarse = noiseTile(0xfa4e);
  private readonly tracks: Track[];
  private readonly farm: LocalPointM;
  private readonly sprite: SpriteFrame | null;
  private readonly tanHalfH: number;
  private readonly tanHalfV: number;

  constructor(options: SceneOptions) {
    const { width, height, camera } = options;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16) {
      throw new Error(`camera frame ${width}x${height} must be whole pixels, 16 or more a side`);
    }
    if (width % 2 !== 0 || height % 2 !== 0) {
      throw new Error(`camera frame ${width}x${height} must have even sides (H.264 4:2:0)`);
    }
    for (const [name, fovDeg] of [
      ['horizontal', camera.horizontalFovDeg],
      ['vertical', camera.verticalFovDeg],
    ] as const) {
      if (!(fovDeg >= 1 && fovDeg <= 170)) {
        throw new Error(`camera ${name} field of view ${fovDeg} deg is outside 1-170 deg`);
      }
    }
    this.width = width;
    this.height = height;
    this.camera = { ...camera };
    this.tanHalfH = Math.tan(toRad(camera.horizontalFovDeg / 2));
    this.tanHalfV = Math.tan(toRad(camera.verticalFovDeg / 2));
    this.farm = { ...options.farm };
    this.sprite = options.bearSprite ? spriteFrame(options.bearSprite) : null;
    // A track from home to the farm, the county road the farm sits on, and a field track
    // north from home past the bear's usual start.
    const yardSouth = { northM: this.farm.northM - YARD_HALF_NORTH_M, eastM: this.farm.eastM };
    this.tracks = [
      track({ northM: 0, eastM: 0 }, yardSouth),
      track(
        { northM: this.farm.northM - YARD_HALF_NORTH_M - 400, eastM: this.farm.eastM + 60 },
        { northM: this.farm.northM + YARD_HALF_NORTH_M + 400, eastM: this.farm.eastM + 60 },
      ),
      track({ northM: -200, eastM: 12 }, { northM: 600, eastM: 12 }),
      track(
        { northM: this.farm.northM, eastM: this.farm.eastM + YARD_HALF_EAST_M },
        { northM: this.farm.northM, eastM: this.farm.eastM + 60 },
      ),
    ];
  }

  /** The size of the bear drawn, metres nose to tail and feet to back; null without a bear. */
  get bearSizeM(): { lengthM: number; heightM: number } | null {
    if (!this.sprite) return null;
    const { top, bottom, pxPerM } = this.sprite;
    return { lengthM: BEAR_LENGTH_M, heightM: (bottom - top) / pxPerM };
  }

  /** Where the bear shows in the frame; null without a bear picture or behind the camera. */
  bearOnScreen(pose: ViewPose, bear: BearPose): BearOnScreen | null {
    const sprite = this.sprite;
    if (!sprite) return null;
    const m = rotationZyx(pose.headingDeg, pose.pitchDeg, pose.rollDeg);
    const heightM = Math.max(MIN_CAMERA_HEIGHT_M, pose.altitudeAglM);
    const foot = this.projectUnclipped(m, pose, heightM, bear);
    if (!foot) return null;
    const slantRangeM = Math.hypot(bear.northM - pose.northM, bear.eastM - pose.eastM, heightM);
    // Pixels a metre at that range, from the same pinhole model as everything else.
    const screenPxPerMX = this.width / 2 / this.tanHalfH / slantRangeM;
    const screenPxPerMY = this.height / 2 / this.tanHalfV / slantRangeM;
    const halfLengthPx = ((sprite.right - sprite.left) / sprite.pxPerM / 2) * screenPxPerMX;
    const heightPx = ((sprite.bottom - sprite.top) / sprite.pxPerM) * screenPxPerMY;
    // Which way the bear walks across the screen: its head a metre ahead, projected.
    const headingRad = toRad(bear.headingDeg);
    const ahead = this.projectUnclipped(m, pose, heightM, {
      northM: bear.northM + Math.cos(headingRad),
      eastM: bear.eastM + Math.sin(headingRad),
    });
    const mirrored = ahead !== null && ahead.x < foot.x;
    return {
      footX: foot.x,
      footY: foot.y,
      left: foot.x - halfLengthPx,
      right: foot.x + halfLengthPx,
      top: foot.y - heightPx,
      bottom: foot.y,
      slantRangeM,
      mirrored,
    };
  }

  /** Renders rgb24 into `out` (allocated when absent) and returns it. */
  render(pose: ViewPose, bear: BearPose | null, out?: Uint8Array): Uint8Array {
    const { width, height } = this;
    const frame = out ?? new Uint8Array(width * height * 3);
    if (frame.length !== width * height * 3) {
      throw new Error(`frame buffer holds ${frame.length} bytes, not ${width * height * 3}`);
    }
    const [c0, c1, c2] = columns(rotationZyx(pose.headingDeg, pose.pitchDeg, pose.rollDeg));
    const cameraHeightM = Math.max(MIN_CAMERA_HEIGHT_M, pose.altitudeAglM);
    const rightStep = (2 * this.tanHalfH) / width;
    const rightStart = -this.tanHalfH + rightStep / 2;
    const color: Vec3 = [0, 0, 0];
    let o = 0;
    for (let y = 0; y < height; y++) {
      const down = ((y + 0.5 - height / 2) / (height / 2)) * this.tanHalfV;
      const rowN = c0[0] + down * c2[0];
      const rowE = c0[1] + down * c2[1];
      const rowD = c0[2] + down * c2[2];
      for (let x = 0; x < width; x++, o += 3) {
        const right = rightStart + x * rightStep;
        const rayN = rowN + right * c1[0];
        const rayE = rowE + right * c1[1];
        const rayD = rowD + right * c1[2];
        const length = Math.sqrt(rayN * rayN + rayE * rayE + rayD * rayD);
        const steepness = rayD / length;
        if (steepness <= 0.002) {
          const lift = Math.min(1, -steepness * 3);
          frame[o] = SKY[0] - 40 * lift;
          frame[o + 1] = SKY[1] - 30 * lift;
          frame[o + 2] = SKY[2] - 5 * lift;
          continue;
        }
        const scale = cameraHeightM / rayD;
        const northM = pose.northM + rayN * scale;
        const eastM = pose.eastM + rayE * scale;
        this.groundColor(northM, eastM, color);
        const haze = 1 - Math.exp(-(length * scale) / HAZE_DISTANCE_M);
        frame[o] = color[0] + (SKY[0] - color[0]) * haze;
        frame[o + 1] = color[1] + (SKY[1] - color[1]) * haze;
        frame[o + 2] = color[2] + (SKY[2] - color[2]) * haze;
      }
    }
    if (bear && this.sprite) this.drawBear(frame, pose, bear, this.sprite);
    return frame;
  }

  /**
   * The pixel (continuous, (0, 0) the top-left corner) where a ground point shows; null when
   * it is behind the camera or outside the frame.
   */
  project(pose: ViewPose, point: LocalPointM): { x: number; y: number } | null {
    const m = rotationZyx(pose.headingDeg, pose.pitchDeg, pose.rollDeg);
    const heightM = Math.max(MIN_CAMERA_HEIGHT_M, pose.altitudeAglM);
    const p = this.projectUnclipped(m, pose, heightM, point);
    if (!p || p.x < 0 || p.y < 0 || p.x > this.width || p.y > this.height) return null;
    return p;
  }

  private groundColor(northM: number, eastM: number, out: Vec3): void {
    const fineIndex =
      ((Math.floor(northM * FINE_TEXELS_PER_M) & TILE_MASK) << 8) |
      (Math.floor(eastM * FINE_TEXELS_PER_M) & TILE_MASK);
    const grainIndex =
      ((Math.floor(northM * GRAIN_TEXELS_PER_M) & TILE_MASK) << 8) |
      (Math.floor(eastM * GRAIN_TEXELS_PER_M) & TILE_MASK);
    // Value noise bunches around 0.5: stretch it so tufts and bare patches show.
    const detail = 2 * this.fine[fineIndex] - 1 + 0.8 * (this.fine[grainIndex] - 0.5);
    const brightness = 1 + 0.35 * detail;
    const fromFarmN = northM - this.farm.northM;
    const fromFarmE = eastM - this.farm.eastM;
    if (Math.abs(fromFarmN) < YARD_HALF_NORTH_M && Math.abs(fromFarmE) < YARD_HALF_EAST_M) {
      this.farmColor(fromFarmN, fromFarmE, brightness, out);
      return;
    }
    // Bilinear: the patches' edges are soft, not stairs of 1 m texels.
    const cy = northM * COARSE_TEXELS_PER_M;
    const cx = eastM * COARSE_TEXELS_PER_M;
    const y0 = Math.floor(cy);
    const x0 = Math.floor(cx);
    const fy = cy - y0;
    const fx = cx - x0;
    const row0 = (y0 & TILE_MASK) << 8;
    const row1 = ((y0 + 1) & TILE_MASK) << 8;
    const col0 = x0 & TILE_MASK;
    const col1 = (x0 + 1) & TILE_MASK;
    const c = this.coarse;
    const top = c[row0 | col0] + (c[row0 | col1] - c[row0 | col0]) * fx;
    const bottom = c[row1 | col0] + (c[row1 | col1] - c[row1 | col0]) * fx;
    const patch = top + (bottom - top) * fy;
    const green = smooth(Math.min(1, Math.max(0, (patch - 0.5) * 4 + 0.5)));
    let r = DRY_GRASS[0] + (GREEN_GRASS[0] - DRY_GRASS[0]) * green;
    let g = DRY_GRASS[1] + (GREEN_GRASS[1] - DRY_GRASS[1]) * green;
    let b = DRY_GRASS[2] + (GREEN_GRASS[2] - DRY_GRASS[2]) * green;
    for (const t of this.tracks) {
      const dn = northM - t.fromNorthM;
      const de = eastM - t.fromEastM;
      const along = dn * t.dirNorth + de * t.dirEast;
      if (along < 0 || along > t.lengthM) continue;
      const across = Math.abs(de * t.dirNorth - dn * t.dirEast);
      if (across >= RUT_OUTER_M + 0.3) continue;
      const rut = across > RUT_INNER_M && across < RUT_OUTER_M ? 1 : 0.35;
      r += (DIRT[0] - r) * rut;
      g += (DIRT[1] - g) * rut;
      b += (DIRT[2] - b) * rut;
      break;
    }
    out[0] = Math.min(255, r * brightness);
    out[1] = Math.min(255, g * brightness);
    out[2] = Math.min(255, b * brightness);
  }

  private farmColor(fromFarmN: number, fromFarmE: number, brightness: number, out: Vec3): void {
    const siloN = fromFarmN - SILO.northM;
    const siloE = fromFarmE - SILO.eastM;
    const siloR = Math.hypot(siloN, siloE);
    if (siloR < SILO.radiusM) {
      // Corrugated rings toward the cap, lit from the south-west.
      const ring = 0.85 + 0.15 * Math.cos(siloR * 6);
      const lit = 1 - 0.25 * ((siloN + siloE) / (2 * SILO.radiusM));
      out[0] = Math.min(255, SILO_METAL[0] * ring * lit);
      out[1] = Math.min(255, SILO_METAL[1] * ring * lit);
      out[2] = Math.min(255, SILO_METAL[2] * ring * lit);
      return;
    }
    const barnN = fromFarmN - BARN.northM;
    const barnE = fromFarmE - BARN.eastM;
    if (Math.abs(barnN) < BARN.halfNorthM && Math.abs(barnE) < BARN.halfEastM) {
      // The ridge runs east-west; the north slope is in shade.
      const shade = barnN > 0 ? 0.75 : 1;
      const ridge = Math.abs(barnN) < 0.3 ? 0.6 : 1;
      out[0] = BARN_ROOF[0] * shade * ridge;
      out[1] = BARN_ROOF[1] * shade * ridge;
      out[2] = BARN_ROOF[2] * shade * ridge;
      return;
    }
    // The silo's shadow falls to the north-east of it.
    const shadowN = siloN - 3;
    const shadowE = siloE - 3;
    const shadow = Math.hypot(shadowN, shadowE) < SILO.radiusM ? 0.6 : 1;
    out[0] = Math.min(255, GRAVEL[0] * brightness * shadow);
    out[1] = Math.min(255, GRAVEL[1] * brightness * shadow);
    out[2] = Math.min(255, GRAVEL[2] * brightness * shadow);
  }

  private drawBear(frame: Uint8Array, pose: ViewPose, bear: BearPose, sprite: SpriteFrame): void {
    const box = this.bearOnScreen(pose, bear);
    if (!box) return;
    const x0 = Math.max(0, Math.floor(box.left));
    const x1 = Math.min(this.width - 1, Math.ceil(box.right));
    const y0 = Math.max(0, Math.floor(box.top));
    const y1 = Math.min(this.height - 1, Math.ceil(box.bottom));
    if (x0 > x1 || y0 > y1) return;
    // Photo pixels per screen pixel pick the level: about one texel a pixel.
    const photoPerScreenX = (sprite.right - sprite.left) / (box.right - box.left);
    const photoPerScreenY = (sprite.bottom - sprite.top) / (box.bottom - box.top);
    const texelsPerPixel = Math.sqrt(photoPerScreenX * photoPerScreenY);
    const level = Math.max(
      0,
      Math.min(sprite.levels.length - 1, Math.floor(Math.log2(Math.max(1, texelsPerPixel)))),
    );
    const image = sprite.levels[level];
    const levelScale = 1 / 2 ** level;
    for (let y = y0; y <= y1; y++) {
      const sy = (sprite.top + (y + 0.5 - box.top) * photoPerScreenY) * levelScale - 0.5;
      for (let x = x0; x <= x1; x++) {
        const along = (x + 0.5 - box.left) * photoPerScreenX;
        const photoX = box.mirrored ? sprite.right - along : sprite.left + along;
        const texel = sampleRgba(image, photoX * levelScale - 0.5, sy);
        if (texel[3] <= 0) continue;
        const alpha = texel[3] / 255;
        const o = (y * this.width + x) * 3;
        frame[o] += (texel[0] - frame[o]) * alpha;
        frame[o + 1] += (texel[1] - frame[o + 1]) * alpha;
        frame[o + 2] += (texel[2] - frame[o + 2]) * alpha;
      }
    }
  }

  private projectUnclipped(
    m: [Vec3, Vec3, Vec3],
    pose: ViewPose,
    cameraHeightM: number,
    point: LocalPointM,
  ): { x: number; y: number } | null {
    const d: Vec3 = [point.northM - pose.northM, point.eastM - pose.eastM, cameraHeightM];
    // The inverse of a rotation is its transpose.
    const forward = m[0][0] * d[0] + m[1][0] * d[1] + m[2][0] * d[2];
    const right = m[0][1] * d[0] + m[1][1] * d[1] + m[2][1] * d[2];
    const down = m[0][2] * d[0] + m[1][2] * d[1] + m[2][2] * d[2];
    if (forward <= 1e-6) return null;
    return {
      x: this.width / 2 + ((right / forward) * (this.width / 2)) / this.tanHalfH,
      y: this.height / 2 + ((down / forward) * (this.height / 2)) / this.tanHalfV,
    };
  }
}

const texel: [number, number, number, number] = [0, 0, 0, 0];

/** Bilinear RGBA at a continuous texel position (texel centres at whole numbers). */
function sampleRgba(image: RgbaImage, x: number, y: number): [number, number, number, number] {
  texel[0] = texel[1] = texel[2] = texel[3] = 0;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  if (x0 < -1 || y0 < -1 || x0 >= image.width || y0 >= image.height) return texel;
  const fx = x - x0;
  const fy = y - y0;
  const { rgba, width, height } = image;
  for (const [dx, dy, weight] of [
    [0, 0, (1 - fx) * (1 - fy)],
    [1, 0, fx * (1 - fy)],
    [0, 1, (1 - fx) * fy],
    [1, 1, fx * fy],
  ]) {
    const px = x0 + dx;
    const py = y0 + dy;
    if (px < 0 || py < 0 || px >= width || py >= height || weight === 0) continue;
    const i = (py * width + px) * 4;
    // Premultiplied, so the transparent background's colour does not bleed into the edge.
    const a = (rgba[i + 3] / 255) * weight;
    texel[0] += rgba[i] * a;
    texel[1] += rgba[i + 1] * a;
    texel[2] += rgba[i + 2] * a;
    texel[3] += a;
  }
  if (texel[3] > 0) {
    texel[0] /= texel[3];
    texel[1] /= texel[3];
    texel[2] /= texel[3];
    texel[3] *= 255;
  }
  return texel;
}

/** Half the size, each pixel the mean of four, colours weighted by their opacity. */
function halve(image: RgbaImage): RgbaImage | null {
  const width = Math.floor(image.width / 2);
  const height = Math.floor(image.height / 2);
  if (width < 4 || height < 4) return null;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let [r, g, b, a] = [0, 0, 0, 0];
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        const i = ((2 * y + dy) * image.width + 2 * x + dx) * 4;
        const alpha = image.rgba[i + 3];
        r += image.rgba[i] * alpha;
        g += image.rgba[i + 1] * alpha;
        b += image.rgba[i + 2] * alpha;
        a += alpha;
      }
      const o = (y * width + x) * 4;
      if (a > 0) {
        rgba[o] = Math.round(r / a);
        rgba[o + 1] = Math.round(g / a);
        rgba[o + 2] = Math.round(b / a);
      }
      rgba[o + 3] = Math.round(a / 4);
    }
  }
  return { width, height, rgba };
}

function columns(m: [Vec3, Vec3, Vec3]): [Vec3, Vec3, Vec3] {
  return [
    [m[0][0], m[1][0], m[2][0]],
    [m[0][1], m[1][1], m[2][1]],
    [m[0][2], m[1][2], m[2][2]],
  ];
}

function track(from: LocalPointM, to: LocalPointM): Track {
  const dn = to.northM - from.northM;
  const de = to.eastM - from.eastM;
  const lengthM = Math.hypot(dn, de);
  return {
    fromNorthM: from.northM,
    fromEastM: from.eastM,
    dirNorth: lengthM > 0 ? dn / lengthM : 1,
    dirEast: lengthM > 0 ? de / lengthM : 0,
    lengthM,
  };
}
