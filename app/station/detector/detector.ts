// The detector as the station sees it: frames in, detections out, inference in a worker
// thread. Video runs faster than inference, so submit() keeps only the newest waiting frame:
// a detection of a stale frame is worth less than a fresh one, and a queue would only grow.

import { stat } from 'node:fs/promises';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { type Disposable, toDisposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import type { Detection } from '../../core/types';
import { builtFile } from '../paths';
import { type ModelCard, yoloxNanoCard } from './model-card';
import {
  DEFAULT_IOU_THRESHOLD,
  DEFAULT_SCORE_THRESHOLD,
  inputLength,
  type PreparedInput,
  prepareInput,
} from './pipeline';
import type { TilingOptions } from './tiling';
import type { CloseRequest, DetectRequest, WorkerInit, WorkerReply } from './worker-protocol';

const log = createLogger('detector');
/** How long a closing worker may take to finish its frame before it is terminated. */
const CLOSE_GRACE_MS = 3000;
/** One frame in inference and one ready behind it. */
export const SUBMITS_IN_FLIGHT = 2;
const MAX_SPARE_INPUTS = SUBMITS_IN_FLIGHT;

export interface DetectorOptions {
  modelPath: string;
  card?: ModelCard;
  /** Objectness x class score below which a box is dropped; 0.3 by default. */
  scoreThreshold?: number;
  /** Overlap above which the weaker box of a class is suppressed; 0.45 by default. */
  iouThreshold?: number;
  /** Threads for one inference; 1, or 2 on machines with 4 or more cores. */
  intraOpThreads?: number;
  /** Also detect in overlapping tiles (small targets, several times the cost); off by default. */
  tiling?: TilingOptions | null;
}

export interface DetectorFrameInfo {
  frameId: number;
  /** Wall-clock capture time, ms since epoch. */
  frameTimeMs: number;
  width: number;
  height: number;
}

export interface DetectorFrame extends DetectorFrameInfo {
  /** rgb24, row-major; the detector copies it, so the caller may reuse it. */
  rgb: Uint8Array;
}

interface PreparedFrame extends DetectorFrame {
  prepared: PreparedInput;
}

export interface DetectorStats {
  /** Frames handed to detect() or submit(). */
  framesIn: number;
  framesDetected: number;
  /** Frames replaced by a newer one before inference started. */
  framesDropped: number;
  /** Inference alone (session.run) of the latest frame, null before the first. */
  lastInferenceMs: number | null;
}

export type DetectionsListener = (frame: DetectorFrameInfo, detections: Detection[]) => void;

interface InFlight {
  resolve(detections: Detection[]): void;
  reject(error: Error): void;
}

function checkThreshold(name: string, value: number): number {
  if (!(value >= 0 && value <= 1)) {
    throw new Error(`detector: ${name} must be in 0..1, got ${value}`);
  }
  return value;
}

function checkFrame(frame: DetectorFrame): void {
  const { width, height, rgb } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`detector: frame ${frame.frameId} has bad size ${width}x${height}`);
  }
  if (!(rgb instanceof Uint8Array) || rgb.length !== width * height * 3) {
    throw new Error(
      `detector: frame ${frame.frameId} of ${width}x${height} needs ${width * height * 3} ` +
        `rgb24 bytes, got ${rgb instanceof Uint8Array ? rgb.length : typeof rgb}`,
    );
  }
}

export class Detector implements Disposable {
  private readonly listeners = new Set<DetectionsListener>();
  private readonly inFlight = new Map<number, InFlight>();
  private readonly counters: DetectorStats = {
    framesIn: 0,
    framesDetected: 0,
    framesDropped: 0,
    lastInferenceMs: null,
  };
  private nextRequestId = 1;
  /** The newest submitted frame not yet sent to the worker. */
  private waiting: DetectorFrame | null = null;
  /** Input buffers the worker handed back, for the next frames. */
  private readonly spareInputs: Float32Array[] = [];
  /** Submitted frames sent to the worker and not yet answered. */
  private submitsInFlight = 0;
  private failure: Error | null = null;
  private disposed = false;

  /** Settles when the worker has loaded and checked the model. */
  private readonly ready: Promise<void>;
  private settleReady: { resolve(): void; reject(error: Error): void } | null = null;
  private readonly exited: Promise<void>;
  private running = true;
  private cardInUse: ModelCard;

  private constructor(
    private readonly worker: Worker,
    card: ModelCard,
    readonly modelPath: string,
  ) {
    this.cardInUse = card;
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    worker.on('message', (message: WorkerReply) => this.onReply(message));
    worker.on('error', (error) => this.fail(new Error(`detector worker failed: ${error.message}`)));
    this.exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        this.running = false;
        if (!this.disposed) this.fail(new Error(`detector worker exited with code ${code}`));
        resolve();
      });
    });
  }

  static async create(options: DetectorOptions): Promise<Detector> {
    const card = options.card ?? yoloxNanoCard;
    const init: WorkerInit = {
      modelPath: options.modelPath,
      card,
      scoreThreshold: checkThreshold(
        'scoreThreshold',
        options.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD,
      ),
      iouThreshold: checkThreshold('iouThreshold', options.iouThreshold ?? DEFAULT_IOU_THRESHOLD),
      intraOpThreads: options.intraOpThreads ?? (os.availableParallelism() >= 4 ? 2 : 1),
      tiling: options.tiling ?? null,
    };
    const info = await stat(options.modelPath).catch(() => null);
    if (!info?.isFile()) {
      throw new Error(
        `detector: model file ${options.modelPath} does not exist; expected ${card.file.name} ` +
          `(sha256 ${card.file.sha256})`,
      );
    }
    const worker = new Worker(builtFile('station/detector-worker.js'), { workerData: init });
    const detector = new Detector(worker, card, options.modelPath);
    try {
      await detector.ready;
    } catch (error) {
      await detector.dispose();
      throw error;
    }
    const used = detector.card;
    const tiled = init.tiling ? `, tiles overlapping ${init.tiling.overlapPx} px` : '';
    log.info(
      `loaded ${used.name} (${used.output.format}, ${used.classNames.length} classes) from ` +
        `${options.modelPath} (${init.intraOpThreads} threads${tiled})`,
    );
    return detector;
  }

  /** The given card, or the one derived from a model that is not the carded one. */
  get card(): ModelCard {
    return this.cardInUse;
  }

  get stats(): DetectorStats {
    return { ...this.counters };
  }

  /** Detects objects in one frame; every call is answered, none is dropped. */
  detect(frame: DetectorFrame): Promise<Detection[]> {
    checkFrame(frame);
    this.counters.framesIn++;
    return this.send(frame);
  }

  /**
   * Hands a frame to the detector and returns at once. While a frame is in inference, a newer
   * frame replaces the one waiting (the replaced one is counted as dropped). Results go to
   * onDetections listeners.
   */
  submit(frame: DetectorFrame): void {
    checkFrame(frame);
    if (this.disposed) return;
    this.counters.framesIn++;
    if (this.failure) {
      this.counters.framesDropped++;
      return;
    }
    if (this.waiting) this.counters.framesDropped++;
    // Copy now: the caller may reuse its buffer before the worker is free.
    this.waiting = { ...frame, rgb: frame.rgb.slice() };
    this.pump();
  }

  private prepare(frame: DetectorFrame): PreparedFrame {
    const card = this.cardInUse;
    const spare = this.spareInputs.pop();
    const into = spare?.length === inputLength(card) ? spare : undefined;
    return { ...frame, prepared: prepareInput(card, frame, into) };
  }

  onDetections(listener: DetectionsListener): Disposable {
    this.listeners.add(listener);
    return toDisposable(() => {
      this.listeners.delete(listener);
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.waiting = null;
    this.listeners.clear();
    this.rejectAll(new Error('detector disposed'));
    if (!this.running) return;

    // Ask the worker to finish its frame and release the session; terminating it mid-inference
    // aborts the process from inside onnxruntime. A worker that will not stop is terminated.
    const close: CloseRequest = { type: 'close' };
    this.worker.postMessage(close);
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /**
   * Keeps one frame in inference and the next one letterboxed and queued behind it, so the
   * worker goes from one session.run to the next without preparing in between. Frames that
   * come meanwhile replace each other in `waiting`.
   */
  private pump(): void {
    if (this.submitsInFlight >= SUBMITS_IN_FLIGHT || !this.waiting || this.disposed) return;
    const frame = this.prepare(this.waiting);
    this.waiting = null;
    this.submitsInFlight++;
    this.send(frame, false)
      .then((detections) => this.emit(frame, detections))
      .catch((error: Error) => {
        if (!this.disposed) log.warn(`frame ${frame.frameId}: ${error.message}`);
      })
      .finally(() => {
        this.submitsInFlight--;
        this.pump();
      });
  }

  private send(frame: DetectorFrame | PreparedFrame, copy = true): Promise<Detection[]> {
    if (this.disposed) return Promise.reject(new Error('detector disposed'));
    if (this.failure) return Promise.reject(this.failure);
    const requestId = this.nextRequestId++;
    const rgb = copy ? frame.rgb.slice() : frame.rgb;
    const prepared = 'prepared' in frame ? frame.prepared : undefined;
    const request: DetectRequest = {
      type: 'detect',
      requestId,
      frameId: frame.frameId,
      frameTimeMs: frame.frameTimeMs,
      width: frame.width,
      height: frame.height,
      rgb,
      prepared,
    };
    const transfer = [rgb.buffer as ArrayBuffer];
    if (prepared) transfer.push(prepared.input.buffer as ArrayBuffer);
    return new Promise<Detection[]>((resolve, reject) => {
      this.inFlight.set(requestId, { resolve, reject });
      this.worker.postMessage(request, transfer);
    });
  }

  private onReply(message: WorkerReply): void {
    if (message.type === 'ready') {
      this.cardInUse = message.card;
      this.settleReady?.resolve();
      this.settleReady = null;
      return;
    }
    if (message.type === 'init-error') {
      this.fail(new Error(`detector: ${message.message}`));
      return;
    }
    const pending = this.inFlight.get(message.requestId);
    if (!pending) return;
    this.inFlight.delete(message.requestId);
    if (message.type === 'error') {
      pending.reject(new Error(`detector: ${message.message}`));
      return;
    }
    if (message.input && this.spareInputs.length < MAX_SPARE_INPUTS) {
      this.spareInputs.push(message.input);
    }
    this.counters.framesDetected++;
    this.counters.lastInferenceMs = message.inferenceMs;
    pending.resolve(message.detections);
  }

  private emit(frame: DetectorFrameInfo, detections: Detection[]): void {
    const info = {
      frameId: frame.frameId,
      frameTimeMs: frame.frameTimeMs,
      width: frame.width,
      height: frame.height,
    };
    for (const listener of [...this.listeners]) {
      try {
        listener(info, detections);
      } catch (error) {
        log.error(`detections listener failed: ${(error as Error).message}`);
      }
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    if (this.settleReady) {
      // Still loading: create() reports it to the caller.
      this.settleReady.reject(
        error.message.startsWith('detector: ')
          ? error
          : new Error(`${error.message} while loading ${this.modelPath}`),
      );
      this.settleReady = null;
    } else {
      log.error(error.message);
    }
    this.rejectAll(error);
  }

  private rejectAll(error: Error): void {
    for (const pending of this.inFlight.values()) pending.reject(error);
    this.inFlight.clear();
  }
}
