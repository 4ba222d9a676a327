// The camera's gimbal: where it points now, and for the operator big buttons to aim it. The
// demo's zoom camera sees 8 x 6 deg, so without these the bear is rarely in the picture.

import { useEffect, useState } from 'react';
import { CAMERA_PITCH_RANGE_DEG } from '../../core/protocol';
import type { GimbalState } from '../../core/types';

/** One press of a nudge button, degrees. */
export const NUDGE_STEP_DEG = 5;
/** Preset pitches: straight down, and the two most used for spotting at 30-60 m. */
export const PITCH_PRESETS_DEG: readonly number[] = [-90, -60, -45];
/** A reported pitch this close to the one asked for (or to a limit) has arrived there. */
const ARRIVED_WITHIN_DEG = 1.5;
/** How long an unreached pitch is shown as where the gimbal is going; gimbals slew in seconds. */
const ASKED_PITCH_KEPT_MS = 8_000;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function wrap180(deg: number): number {
  return ((((deg + 180) % 360) + 360) % 360) - 180;
}

/** The pitch a nudge asks for: whole degrees, never past straight down or the horizon. */
export function nudgedPitchDeg(currentPitchDeg: number, stepDeg: number): number {
  const { min, max } = CAMERA_PITCH_RANGE_DEG;
  return clamp(Math.round(currentPitchDeg + stepDeg), min, max);
}

/**
 * The gimbal's yaw from the nose, as point-camera takes it, so that a change of pitch keeps the
 * camera looking the same way. Earth-frame yaw needs the heading; without one, the nose.
 */
export function yawFromNoseDeg(gimbal: GimbalState | null, headingDeg: number | null): number {
  if (!gimbal) return 0;
  if (gimbal.yawFrame === 'vehicle') return Math.round(wrap180(gimbal.yawDeg));
  return headingDeg === null ? 0 : Math.round(wrap180(gimbal.yawDeg - headingDeg));
}

/** "-45°", with a true minus sign, for a reading at arm's length. */
export function formatPitch(pitchDeg: number): string {
  const rounded = Math.round(pitchDeg);
  return `${rounded < 0 ? '\u2212' : ''}${Math.abs(rounded)}°`;
}

function presetLabel(pitchDeg: number): string {
  return pitchDeg === -90 ? 'Straight down' : formatPitch(pitchDeg);
}

export interface CameraControlsProps {
  gimbal: GimbalState | null;
  /** The vehicle's heading, for a gimbal that reports its yaw against north. */
  headingDeg: number | null;
  canCommand: boolean;
  /** Station connected and vehicle link up: otherwise nothing could be sent. */
  linkUp: boolean;
  /** Sends point-camera; resolves to whether the vehicle took it. */
  onPoint(pitchDeg: number, yawDeg: number): Promise<boolean>;
}

export function CameraControls(props: CameraControlsProps) {
  const { gimbal } = props;
  /** The pitch asked for and not reached yet: the gimbal slews, and the operator should see it. */
  const [askedPitchDeg, setAskedPitchDeg] = useState<number | null>(null);
  const reportedPitchDeg = gimbal?.pitchDeg ?? null;
  const arrived =
    askedPitchDeg !== null &&
    reportedPitchDeg !== null &&
    Math.abs(reportedPitchDeg - askedPitchDeg) <= ARRIVED_WITHIN_DEG;
  useEffect(() => {
    if (arrived) setAskedPitchDeg(null);
  }, [arrived]);
  useEffect(() => {
    if (askedPitchDeg === null) return undefined;
    // Something else may have taken the gimbal (a region of interest, the pilot's sticks).
    const timer = setTimeout(() => setAskedPitchDeg(null), ASKED_PITCH_KEPT_MS);
    return () => clearTimeout(timer);
  }, [askedPitchDeg]);

  const point = (pitchDeg: number): void => {
    setAskedPitchDeg(pitchDeg);
    void props.onPoint(pitchDeg, yawFromNoseDeg(gimbal, props.headingDeg)).then((ok) => {
      // Refused: the toast says why, and the gimbal is not going there.
      if (!ok) setAskedPitchDeg((current) => (current === pitchDeg ? null : current));
    });
  };
  const { min, max } = CAMERA_PITCH_RANGE_DEG;
  const disabled = !props.linkUp;
  const yawDeg = yawFromNoseDeg(gimbal, props.headingDeg);
  // Quick taps while the gimbal still turns add up from where it was asked to go.
  const nudgeFromDeg = askedPitchDeg ?? reportedPitchDeg;

  return (
    <section className="panel camera-controls" data-testid="camera-controls" aria-label="Camera">
      <div className="panel-title">
        <span>Camera</span>
        <span
          className="camera-pitch"
          data-testid="camera-pitch"
          data-pitch-deg={gimbal ? gimbal.pitchDeg.toFixed(1) : undefined}
        >
          {gimbal ? formatPitch(gimbal.pitchDeg) : 'no gimbal'}
        </span>
      </div>
      <p className="hint camera-reading">
        {gimbal
          ? `Pitch ${formatPitch(gimbal.pitchDeg)} (${formatPitch(-90)} is straight down), ` +
            `yaw ${formatPitch(yawDeg)} from the nose`
          : 'The vehicle has not reported a gimbal.'}
        {askedPitchDeg !== null && !arrived ? (
          <span className="camera-moving" data-testid="camera-moving">
            {` · turning to ${formatPitch(askedPitchDeg)}`}
          </span>
        ) : null}
      </p>
      {props.canCommand ? (
        <>
          <div className="camera-presets" role="group" aria-label="Camera pitch">
            {PITCH_PRESETS_DEG.map((pitchDeg) => (
              <button
                key={pitchDeg}
                type="button"
                className="camera-button"
                data-testid={`camera-pitch-${Math.abs(pitchDeg)}`}
                disabled={disabled}
                onClick={() => point(pitchDeg)}
              >
                {presetLabel(pitchDeg)}
              </button>
            ))}
          </div>
          <div className="camera-nudges" role="group" aria-label="Nudge the camera">
            <button
              type="button"
              className="camera-button"
              data-testid="camera-nudge-up"
              disabled={
                disabled || nudgeFromDeg === null || nudgeFromDeg >= max - ARRIVED_WITHIN_DEG
              }
              onClick={() =>
                nudgeFromDeg !== null && point(nudgedPitchDeg(nudgeFromDeg, NUDGE_STEP_DEG))
              }
            >
              ▲ Up {NUDGE_STEP_DEG}°
            </button>
            <button
              type="button"
              className="camera-button"
              data-testid="camera-nudge-down"
              disabled={
                disabled || nudgeFromDeg === null || nudgeFromDeg <= min + ARRIVED_WITHIN_DEG
              }
              onClick={() =>
                nudgeFromDeg !== null && point(nudgedPitchDeg(nudgeFromDeg, -NUDGE_STEP_DEG))
              }
            >
              ▼ Down {NUDGE_STEP_DEG}°
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}
