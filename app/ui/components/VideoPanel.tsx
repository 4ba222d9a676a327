// The camera's latest frame with the detector's boxes drawn over it, in frame pixels. Thermal
// cameras send grey frames; the operator picks how grey is shown (white-hot as sent, black-hot
// inverted, or the ironbow colour scale), drawn on a canvas through a table on luminance.

import { useEffect, useRef, useState, type Ref } from 'react';
import type { VideoStatus } from '../../core/protocol';
import { formatPct } from './format';
import { useStaleness, useStation } from './hooks';

const STALE_DETECTIONS_MS = 2_000;

export type Palette = 'colour' | 'white-hot' | 'black-hot' | 'ironbow';
export const PALETTES: ReadonlyArray<{ id: Palette; label: string }> = [
  { id: 'colour', label: 'Colour' },
  { id: 'white-hot', label: 'White hot' },
  { id: 'black-hot', label: 'Black hot' },
  { id: 'ironbow', label: 'Ironbow' },
];
const PALETTE_STORAGE_KEY = 'ursa.video.palette';

/** Ironbow stops: luminance 0..1 to RGB, from cold black through purple and red to white. */
const IRONBOW_STOPS: ReadonlyArray<[number, number, number, number]> = [
  [0, 0, 0, 0],
  [0.15, 32, 0, 110],
  [0.35, 145, 0, 155],
  [0.55, 225, 60, 40],
  [0.75, 250, 155, 0],
  [0.9, 255, 225, 70],
  [1, 255, 255, 255],
];

/** 256 RGB triples (768 bytes): the colour each luminance is drawn in; null for "colour". */
export function paletteTable(palette: Palette): Uint8Array | null {
  if (palette === 'colour') return null;
  const table = new Uint8Array(256 * 3);
  for (let y = 0; y < 256; y++) {
    let rgb: [number, number, number];
    if (palette === 'white-hot') rgb = [y, y, y];
    else if (palette === 'black-hot') rgb = [255 - y, 255 - y, 255 - y];
    else {
      const t = y / 255;
      let i = 1;
      while (i < IRONBOW_STOPS.length - 1 && IRONBOW_STOPS[i][0] < t) i++;
      const [t0, r0, g0, b0] = IRONBOW_STOPS[i - 1];
      const [t1, r1, g1, b1] = IRONBOW_STOPS[i];
      const f = (t - t0) / (t1 - t0);
      rgb = [r0 + (r1 - r0) * f, g0 + (g1 - g0) * f, b0 + (b1 - b0) * f];
    }
    table.set(rgb.map(Math.round), y * 3);
  }
  return table;
}

/** Recolours RGBA pixels in place by their luminance (BT.601 weights). */
export function applyPalette(rgba: Uint8ClampedArray, table: Uint8Array): void {
  for (let i = 0; i < rgba.length; i += 4) {
    const y = (77 * rgba[i] + 150 * rgba[i + 1] + 29 * rgba[i + 2]) >> 8;
    rgba[i] = table[y * 3];
    rgba[i + 1] = table[y * 3 + 1];
    rgba[i + 2] = table[y * 3 + 2];
  }
}

function storedPalette(): Palette {
  try {
    const value = window.localStorage.getItem(PALETTE_STORAGE_KEY);
    if (PALETTES.some((p) => p.id === value)) return value as Palette;
  } catch {
    // Storage may be off (private windows): the default serves.
  }
  return 'colour';
}

function storePalette(palette: Palette): void {
  try {
    window.localStorage.setItem(PALETTE_STORAGE_KEY, palette);
  } catch {
    // Not remembered, but still applied.
  }
}

function jpegBytes(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** "12.5 fps · 640×480 · 140 ms late", for the title line. */
function describeVideo(video: VideoStatus): string {
  const parts = [`${video.framesPerSecond.toFixed(1)} fps`];
  if (video.width > 0) parts.push(`${video.width}×${video.height}`);
  parts.push(
    video.delayMs === null || video.delayMs === undefined
      ? 'delay not measurable'
      : `${Math.round(video.delayMs)} ms late`,
  );
  return parts.join(' · ');
}

function boxClass(className: string): string {
  return className === 'bear' ? 'bear' : className === 'person' ? 'person' : 'other';
}

export function VideoPanel(props: { panelRef?: Ref<HTMLElement> }) {
  const frame = useStation((state) => state.frame);
  const detections = useStation((state) => state.detections);
  const video = useStation((state) => state.video);
  // Without the station the picture is frozen: it must not pass for live video.
  const { stationDown } = useStaleness();
  // A dropped stream's rate reads 0 until it is back: say so rather than show a frozen number.
  const reconnecting = !stationDown && video?.state === 'reconnecting';
  const stale = (stationDown && video !== null) || reconnecting;
  const [shown, setShown] = useState(true);
  const [palette, setPalette] = useState<Palette>(storedPalette);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [drawnFrameId, setDrawnFrameId] = useState<number | null>(null);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!frame || !canvas) return;
    // Decoding is asynchronous: a frame overtaken by a newer one is not drawn.
    let current = true;
    const blob = new Blob([jpegBytes(frame.jpeg) as BlobPart], { type: 'image/jpeg' });
    void createImageBitmap(blob).then(
      (bitmap) => {
        if (!current) {
          bitmap.close();
          return;
        }
        if (canvas.width !== bitmap.width) canvas.width = bitmap.width;
        if (canvas.height !== bitmap.height) canvas.height = bitmap.height;
        const context = canvas.getContext('2d', { willReadFrequently: true });
        if (!context) return;
        context.drawImage(bitmap, 0, 0);
        bitmap.close();
        const table = paletteTable(palette);
        if (table) {
          const image = context.getImageData(0, 0, canvas.width, canvas.height);
          applyPalette(image.data, table);
          context.putImageData(image, 0, 0);
        }
        setDrawnFrameId(frame.frameId);
      },
      () => {
        // A frame that does not decode is skipped; the next one replaces it.
      },
    );
    return () => {
      current = false;
    };
  }, [frame, palette]);

  const choosePalette = (next: Palette): void => {
    setPalette(next);
    storePalette(next);
  };
  const width = frame?.width ?? video?.width ?? 640;
  const height = frame?.height ?? video?.height ?? 480;
  // Boxes from a much older frame would point at the wrong place in this one.
  const fresh =
    detections && frame && frame.frameTimeMs - detections.frameTimeMs <= STALE_DETECTIONS_MS;
  const boxes = fresh ? detections.detections : [];
  // Label text scales with the frame so it stays readable whatever the resolution.
  const fontPx = Math.max(12, Math.round(width / 28));

  return (
    <section
      ref={props.panelRef}
      className={`video-panel${shown ? '' : ' collapsed'}${stale ? ' stale' : ''}`}
      data-testid="video-panel"
      data-stale={stale ? 'true' : undefined}
      aria-label="Camera"
    >
      <div className="video-title">
        <span className="video-label" data-testid="video-label">
          {video?.label ?? 'No video'}
        </span>
        <span
          className={`video-meta${reconnecting ? ' reconnecting' : ''}`}
          data-testid="video-fps"
          data-state={video?.state}
          data-delay-ms={video?.delayMs ?? undefined}
          title={reconnecting ? (video?.error ?? undefined) : video?.delayMeasures}
        >
          {reconnecting ? 'Reconnecting…' : stale ? 'not live' : video ? describeVideo(video) : ''}
          {video && !stale && video.state !== 'running' ? ` · ${video.state}` : ''}
        </span>
        <button
          type="button"
          className="video-toggle"
          data-testid="video-toggle"
          aria-expanded={shown}
          onClick={() => setShown(!shown)}
        >
          {shown ? 'Hide' : 'Video'}
        </button>
      </div>
      <div
        className="video-frame"
        hidden={!shown}
        style={{
          aspectRatio: `${width} / ${height}`,
          // Fit the frame in both directions: tall frames must not cover the whole map.
          width: `min(100%, calc(var(--video-max-height) * ${width / height}))`,
        }}
      >
        <canvas
          ref={canvasRef}
          role="img"
          aria-label="Latest camera frame"
          data-testid="video-frame"
          data-frame-id={drawnFrameId ?? undefined}
          data-palette={palette}
          hidden={!frame}
        />
        {frame ? null : <div className="video-empty">{video?.error ?? 'Waiting for video…'}</div>}
        {stale && frame ? (
          <div className="video-stale" data-testid="video-stale">
            {reconnecting
              ? 'Last frame: the stream dropped, reconnecting'
              : 'Last frame: no connection to the station'}
          </div>
        ) : null}
        <svg
          className="video-overlay"
          viewBox={`0 0 ${boxes[0]?.imageWidth ?? width} ${boxes[0]?.imageHeight ?? height}`}
          preserveAspectRatio="none"
          aria-hidden="true"
        >
          {boxes.map((detection, index) => {
            const [left, top, boxWidth, boxHeight] = detection.box;
            const track =
              detection.trackId !== undefined && detection.trackId !== null
                ? ` #${detection.trackId}`
                : '';
            const label = `${detection.className}${track} ${formatPct(detection.score)}`;
            return (
              <g
                key={index}
                className={`detection-box ${boxClass(detection.className)}`}
                data-testid="detection-box"
                data-class={detection.className}
                data-track-id={detection.trackId ?? undefined}
              >
                {/* A dark band under the coloured stroke keeps it visible on any palette. */}
                <rect
                  className="detection-outline"
                  x={left}
                  y={top}
                  width={boxWidth}
                  height={boxHeight}
                />
                <rect
                  className="detection-stroke"
                  x={left}
                  y={top}
                  width={boxWidth}
                  height={boxHeight}
                />
                <rect
                  className="detection-label-bg"
                  x={left}
                  y={Math.max(0, top - fontPx * 1.3)}
                  width={label.length * fontPx * 0.62 + fontPx * 0.6}
                  height={fontPx * 1.3}
                />
                <text
                  x={left + fontPx * 0.3}
                  y={Math.max(0, top - fontPx * 1.3) + fontPx}
                  fontSize={fontPx}
                >
                  {label}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      <div className="video-palettes" role="group" aria-label="Thermal palette" hidden={!shown}>
        {PALETTES.map(({ id, label }) => (
          <button
            key={id}
            type="button"
            className={`video-palette${palette === id ? ' selected' : ''}`}
            data-testid={`palette-${id}`}
            aria-pressed={palette === id}
            onClick={() => choosePalette(id)}
          >
            {label}
          </button>
        ))}
      </div>
      {video?.error ? (
        <div className="video-error" data-testid="video-error">
          {video.state === 'reconnecting' ? `Reconnecting: ${video.error}` : video.error}
        </div>
      ) : null}
    </section>
  );
}
