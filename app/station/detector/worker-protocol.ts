// Messages between the Detector (main thread) and its worker thread.

import type { Detection } from '../../core/types';
import type { ModelCard } from './model-card';
import type { FramePlacement, PipelineOptions } from './pipeline';

export interface WorkerInit extends PipelineOptions {
  modelPath: string;
  card: ModelCard;
}

export interface DetectRequest {
  type: 'detect';
  requestId: number;
  frameId: number;
  frameTimeMs: number;
  width: number;
  height: number;
  /** Transferred, so the worker owns it. */
  rgb: Uint8Array;
  /** The network input letterboxed by the sender, transferred; the worker makes it if absent. */
  prepared?: { input: Float32Array; placement: FramePlacement; preprocessMs: number };
}

/** Finish the frame in hand, release the session, then let the thread end. */
export interface CloseRequest {
  type: 'close';
}

export type WorkerRequest = DetectRequest | CloseRequest;

export type WorkerReply =
  /** The card in use: the given one, or one derived from a model that is not it. */
  | { type: 'ready'; card: ModelCard }
  | { type: 'init-error'; message: string }
  | {
      type: 'result';
      requestId: number;
      detections: Detection[];
      inferenceMs: number;
      totalMs: number;
      /** The request's prepared input, handed back for reuse. */
      input?: Float32Array;
    }
  | { type: 'error'; requestId: number; message: string };
