// Waiting on a frame source (app/station/video/frame-source.ts) in tests: for a status, or for
// frames, failing with what the source last said rather than hanging.

import type { VideoStatus } from '../../app/core/protocol';
import type { FrameSource, VideoFrame } from '../../app/station/video/frame-source';

/** Long enough for ffmpeg to probe and decode on a loaded two-core machine. */
export const VIDEO_WAIT_MS = 60_000;

/** Resolves with the first status (now or later) that `accept` takes. */
export function waitForStatus(
  source: FrameSource,
  accept: (status: VideoStatus) => boolean,
  timeoutMs = VIDEO_WAIT_MS,
): Promise<VideoStatus> {
  return new Promise((resolve, reject) => {
    if (accept(source.status)) {
      resolve(source.status);
      return;
    }
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`no such status in time; last ${JSON.stringify(source.status)}`));
    }, timeoutMs);
    const subscription = source.onStatus((status) => {
      if (!accept(status)) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(status);
    });
  });
}

/** The next `count` frames the source delivers. */
export function collectFrames(
  source: FrameSource,
  count: number,
  timeoutMs = VIDEO_WAIT_MS,
): Promise<VideoFrame[]> {
  return new Promise((resolve, reject) => {
    const frames: VideoFrame[] = [];
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(
        new Error(`only ${frames.length} of ${count} frames; ${JSON.stringify(source.status)}`),
      );
    }, timeoutMs);
    const subscription = source.onFrame((frame) => {
      frames.push(frame);
      if (frames.length < count) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(frames);
    });
  });
}
