// One frame through the model: letterbox, inference, decode, suppression. The worker runs it
// off the main thread; the benchmark runs it in-process to time each stage.

import * as ort from 'onnxruntime-node';
import type { Detection } from '../../core/types';
import { letterbox } from './letterbox';
import type { ModelCard } from './model-card';
import { type DetectionFrameInfo, decodeYolox, nonMaxSuppression, toDetections } from './yolox';

export interface PipelineOptions {
  scoreThreshold: number;
  iouThreshold: number;
  /** Threads for one inference; the station keeps this small so video and UI stay smooth. */
  intraOpThreads: number;
}

export interface PipelineFrame extends DetectionFrameInfo {
  rgb: Uint8Array;
}

export interface PipelineResult {
  detections: Detection[];
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

export const DEFAULT_SCORE_THRESHOLD = 0.3;
export const DEFAULT_IOU_THRESHOLD = 0.45;

function sameShape(a: readonly unknown[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

export class YoloxPipeline {
  private readonly input: Float32Array;

  private constructor(
    readonly session: ort.InferenceSession,
    readonly card: ModelCard,
    readonly options: PipelineOptions,
  ) {
    this.input = new Float32Array(card.input.shape.reduce((a, b) => a * b, 1));
  }

  /**
   * Loads the model and proves it is what the card says: names, shapes, and one warm-up run
   * whose output has the carded shape. Errors name the file and what was expected.
   */
  static async create(
    modelPath: string,
    card: ModelCard,
    options: PipelineOptions,
  ): Promise<YoloxPipeline> {
    const expected =
      `expected ${card.name} (${card.file.name}, sha256 ${card.file.sha256}) with input ` +
      `"${card.input.name}" [${card.input.shape.join(',')}] and output "${card.output.name}" ` +
      `[${card.output.shape.join(',')}]`;
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: options.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      throw new Error(
        `cannot load model ${modelPath}: ${(error as Error).message.trim()}; ${expected}`,
      );
    }
    const pipeline = new YoloxPipeline(session, card, options);
    try {
      const input = session.inputMetadata.find((meta) => meta.name === card.input.name);
      const output = session.outputMetadata.find((meta) => meta.name === card.output.name);
      if (!input || !input.isTensor || !sameShape(input.shape, card.input.shape)) {
        throw new Error(`its inputs are ${JSON.stringify(session.inputMetadata)}`);
      }
      if (!output || !output.isTensor) {
        throw new Error(`its outputs are ${JSON.stringify(session.outputMetadata)}`);
      }
      pipeline.input.fill(card.input.letterbox.padValue);
      const warmup = await pipeline.infer();
      if (!sameShape(warmup.dims, card.output.shape)) {
        throw new Error(`its output "${card.output.name}" has shape [${warmup.dims.join(',')}]`);
      }
    } catch (error) {
      await session.release();
      throw new Error(
        `model ${modelPath} does not match its card: ${(error as Error).message}; ${expected}`,
      );
    }
    return pipeline;
  }

  get inputSize(): number {
    return this.card.input.shape[3];
  }

  /** Runs the session on the current input buffer. */
  async infer(): Promise<ort.Tensor> {
    const feeds = {
      [this.card.input.name]: new ort.Tensor('float32', this.input, this.card.input.shape),
    };
    const outputs = await this.session.run(feeds);
    return outputs[this.card.output.name];
  }

  /** Fills the input buffer from an rgb24 frame; returns the letterbox scale. */
  preprocess(frame: PipelineFrame): number {
    return letterbox(
      frame.rgb,
      frame.width,
      frame.height,
      {
        inputSize: this.inputSize,
        padValue: this.card.input.letterbox.padValue,
        channelOrder: this.card.input.channelOrder,
      },
      this.input,
    ).scale;
  }

  async run(frame: PipelineFrame): Promise<PipelineResult> {
    const start = performance.now();
    const scale = this.preprocess(frame);
    const inferStart = performance.now();
    const output = await this.infer();
    const inferEnd = performance.now();
    const boxes = decodeYolox(output.data as Float32Array, {
      inputSize: this.inputSize,
      strides: this.card.output.strides,
      numClasses: this.card.classNames.length,
      scoreThreshold: this.options.scoreThreshold,
      scale,
    });
    const kept = nonMaxSuppression(boxes, this.options.iouThreshold, true);
    const detections = toDetections(kept, frame, this.card.classNames);
    return {
      detections,
      preprocessMs: inferStart - start,
      inferenceMs: inferEnd - inferStart,
      postprocessMs: performance.now() - inferEnd,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
