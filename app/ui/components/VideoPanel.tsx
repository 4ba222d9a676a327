// The camera's latest frame with the detector's boxes drawn over it, in frame pixels.

import { useMemo, useState, type Ref } from 'react';
import { formatPct } from './format';
import { useStaleness, useStation } from './hooks';

const STALE_DETECTIONS_MS = 2_000;

function boxClass(className: string): string {
  return className === 'bear' ? 'bear' : className === 'person' ? 'person' : 'other';
}

export function VideoPanel(props: { panelRef?: Ref<HTMLElement> }) {
  const frame = useStation((state) => state.frame);
  const detections = useStation((state) => state.detections);
  const video = useStation((state) => state.video);
  // Without the station the picture is frozen: it must not pass for live video.
  const { stationDown } = useStaleness();
  const stale = stationDown && video !== null;
  const [shown, setShown] = useState(true);

  const src = useMemo(() => (frame ? `data:image/jpeg;base64,${frame.jpeg}` : null), [frame]);
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
        <span className="video-meta" data-testid="video-fps">
          {stale ? 'not live' : video ? `${video.framesPerSecond.toFixed(1)} fps` : ''}
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
        {src ? (
          <img
            src={src}
            alt="Latest camera frame"
            data-testid="video-frame"
            data-frame-id={frame?.frameId}
          />
        ) : (
          <div className="video-empty">{video?.error ?? 'Waiting for video…'}</div>
        )}
        {stale && src ? (
          <div className="video-stale" data-testid="video-stale">
            Last frame: no connection to the station
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
            const label = `${detection.className} ${formatPct(detection.score)}`;
            return (
              <g
                key={index}
                className={`detection-box ${boxClass(detection.className)}`}
                data-testid="detection-box"
                data-class={detection.className}
              >
                <rect x={left} y={top} width={boxWidth} height={boxHeight} />
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
      {video?.error ? <div className="video-error">{video.error}</div> : null}
    </section>
  );
}
