// One frame through the model: letterbox, inference, decode, suppression. The worker runs it
// off the main thread; the benchmark runs it in-process to time each stage.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Detection } from '../../core/types';
import {
  decodeEndToEnd,
  decodeYolov5,
  decodeYolov8,
  expectedLayouts,
  type LayoutOptions,
  recogniseLayout,
  YOLO_STRIDES,
} from './layouts';
import { letterbox } from './letterbox';
import type { ModelCard } from './model-card';
import { findModelLabels } from './onnx-metadata';
import { cropRgb, mergeTiledBoxes, planTiles, shiftBox, type TilingOptions } from './tiling';
import {
  type DetectionFrameInfo,
  decodeYolox,
  nonMaxSuppression,
  type RawBox,
  toDetections,
} from './yolox';

export interface PipelineOptions {
  scoreThreshold: number;
  iouThreshold: number;
  /** Threads for one inference; the station keeps this small so video and UI stay smooth. */
  intraOpThreads: number;
  /** Also detect in overlapping tiles at the model's input size, for small targets. */
  tiling?: TilingOptions | null;
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

/** Input side Ultralytics exports default to when the model's input size is dynamic. */
const DEFAULT_INPUT_SIZE_PX = 640;
const PAD_VALUE = 114;

function describeValues(values: readonly ort.InferenceSession.ValueMetadata[]): string {
  return values
    .map((meta) => `"${meta.name}" [${meta.isTensor ? meta.shape.join(',') : 'not a tensor'}]`)
    .join(', ');
}

/** One run on a padded input, to learn (and prove) the output shape. */
async function warmup(
  session: ort.InferenceSession,
  inputName: string,
  inputShape: readonly number[],
  outputName: string,
  padValue: number,
): Promise<ort.Tensor> {
  const data = new Float32Array(inputShape.reduce((a, b) => a * b, 1)).fill(padValue);
  const outputs = await session.run({ [inputName]: new ort.Tensor('float32', data, inputShape) });
  return outputs[outputName];
}

/** Why the session is not the carded network, or null when it is. */
async function cardMismatch(
  session: ort.InferenceSession,
  card: ModelCard,
): Promise<string | null> {
  const input = session.inputMetadata.find((meta) => meta.name === card.input.name);
  const output = session.outputMetadata.find((meta) => meta.name === card.output.name);
  if (!input || !input.isTensor || !sameShape(input.shape, card.input.shape)) {
    return `its inputs are ${describeValues(session.inputMetadata)}`;
  }
  if (!output || !output.isTensor) {
    return `its outputs are ${describeValues(session.outputMetadata)}`;
  }
  const padValue = card.input.letterbox.padValue;
  const result = await warmup(
    session,
    card.input.name,
    card.input.shape,
    card.output.name,
    padValue,
  );
  if (!sameShape(result.dims, card.output.shape)) {
    return `its output "${card.output.name}" has shape [${result.dims.join(',')}]`;
  }
  return null;
}

/**
 * A card for a YOLO-family model that is not the carded one, read off the model itself: input
 * size from its input shape (or Ultralytics' imgsz), layout from the output shape, class names
 * from its metadata or a labels file. Throws naming the shapes when the layout is unknown.
 */
export async function deriveModelCard(
  session: ort.InferenceSession,
  modelPath: string,
): Promise<ModelCard> {
  const inputs = session.inputMetadata;
  const outputs = session.outputMetadata;
  const labels = findModelLabels(modelPath);
  const input = inputs.length === 1 && inputs[0].isTensor ? inputs[0] : null;
  const dims = input?.isTensor ? input.shape : [];
  const sidePx =
    typeof dims[2] === 'number' ? dims[2] : (labels.imageSizePx ?? DEFAULT_INPUT_SIZE_PX);
  const has = `it has inputs ${describeValues(inputs)} and outputs ${describeValues(outputs)}`;
  const expected =
    `expected one float32 input [1,3,N,N] and an output shaped as ` + expectedLayouts(sidePx);
  const squareRgb =
    input?.isTensor === true &&
    input.type === 'float32' &&
    dims.length === 4 &&
    (dims[0] === 1 || typeof dims[0] === 'string') &&
    (dims[1] === 3 || typeof dims[1] === 'string') &&
    (typeof dims[3] === 'number' ? dims[3] : sidePx) === sidePx;
  if (!input || !squareRgb || outputs.length < 1 || !outputs[0].isTensor) {
    throw new Error(`${has}; ${expected}`);
  }
  const inputShape: [number, number, number, number] = [1, 3, sidePx, sidePx];
  let outputDims: readonly number[];
  try {
    outputDims = (await warmup(session, input.name, inputShape, outputs[0].name, PAD_VALUE)).dims;
  } catch (error) {
    throw new Error(
      `${has}; a run on [${inputShape.join(',')}] failed: ` +
        `${(error as Error).message.trim()}; ${expected}`,
    );
  }
  const layout = recogniseLayout(sidePx, outputDims);
  if (!layout) {
    throw new Error(
      `${has} (output "${outputs[0].name}" is [${outputDims.join(',')}] when ` +
        `run); ${expected}`,
    );
  }
  const names = labels.names ? [...labels.names] : [];
  for (let i = names.length; i < layout.numClasses; i++) names.push(`class ${i}`);
  const bytes = readFileSync(modelPath);
  const yolox = layout.format === 'yolox-grid';
  return {
    name: path.basename(modelPath, path.extname(modelPath)),
    version: 'derived',
    description: `${layout.format} model read from ${modelPath} (class names: ${labels.source})`,
    license: 'unknown',
    task: 'object-detection',
    file: {
      name: path.basename(modelPath),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      sizeBytes: bytes.length,
      url: '',
    },
    upstream: { repository: '', commit: '', path: modelPath },
    input: {
      name: input.name,
      shape: inputShape,
      dtype: 'float32',
      // YOLOX trains on BGR 0..255 top-left letterboxes; Ultralytics on RGB 0..1, centred.
      channelOrder: yolox ? 'BGR' : 'RGB',
      valueRange: yolox ? [0, 255] : [0, 1],
      letterbox: { align: yolox ? 'top-left' : 'center', padValue: PAD_VALUE },
    },
    output: {
      name: outputs[0].name,
      shape: [outputDims[0], outputDims[1], outputDims[2]],
      dtype: 'float32',
      format: layout.format,
      strides: YOLO_STRIDES,
    },
    classNames: names,
  };
}

/** Where the letterbox put the frame, for mapping boxes back. */
export interface FramePlacement {
  scale: number;
  padXPx: number;
  padYPx: number;
}

export interface PreparedInput {
  /** The network input, planar CHW, as the card wants it. */
  input: Float32Array;
  placement: FramePlacement;
  preprocessMs: number;
}

/** The card's input size in elements (1 x 3 x size x size for the layouts Ursa reads). */
export function inputLength(card: ModelCard): number {
  return card.input.shape.reduce((a, b) => a * b, 1);
}

/**
 * Letterboxes an rgb24 frame into a network input the way the card says. Separate from the
 * session so that the station can prepare the next frame while the worker runs this one.
 */
export function prepareInput(
  card: ModelCard,
  frame: PipelineFrame,
  into: Float32Array = new Float32Array(inputLength(card)),
): PreparedInput {
  const start = performance.now();
  const { letterbox: box, valueRange, channelOrder } = card.input;
  const placed = letterbox(
    frame.rgb,
    frame.width,
    frame.height,
    { inputSize: card.input.shape[3], padValue: box.padValue, channelOrder, align: box.align },
    into,
  );
  if (valueRange[1] === 1) {
    for (let i = 0; i < into.length; i++) into[i] /= 255;
  }
  const placement = { scale: placed.scale, padXPx: placed.padXPx, padYPx: placed.padYPx };
  return { input: into, placement, preprocessMs: performance.now() - start };
}

export class YoloxPipeline {
  private readonly input: Float32Array;

  private constructor(
    readonly session: ort.InferenceSession,
    readonly card: ModelCard,
    readonly options: PipelineOptions,
  ) {
    this.input = new Float32Array(inputLength(card));
  }

  /**
   * Loads the model and proves it is what the card says: names, shapes, and one warm-up run
   * whose output has the carded shape. A model that is not the carded one is used with a card
   * derived from it when it is a YOLO layout Ursa knows (deriveModelCard). Errors name the
   * file, its shapes and what was expected.
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
    let usedCard = card;
    try {
      const mismatch = await cardMismatch(session, card);
      if (mismatch !== null) {
        try {
          usedCard = await deriveModelCard(session, modelPath);
        } catch (error) {
          throw new Error(
            `${mismatch}, and it is no YOLO model Ursa knows: ` + `${(error as Error).message}`,
          );
        }
      }
    } catch (error) {
      await session.release();
      throw new Error(
        `model ${modelPath} does not match its card: ${(error as Error).message}; ${expected}`,
      );
    }
    return new YoloxPipeline(session, usedCard, options);
  }

  get inputSize(): number {
    return this.card.input.shape[3];
  }

  /** Runs the session on an input buffer, the pipeline's own by default. */
  async infer(input: Float32Array = this.input): Promise<ort.Tensor> {
    const feeds = {
      [this.card.input.name]: new ort.Tensor('float32', input, this.card.input.shape),
    };
    const outputs = await this.session.run(feeds);
    return outputs[this.card.output.name];
  }

  /** Fills the input buffer from an rgb24 frame; returns the letterbox scale. */
  preprocess(frame: PipelineFrame): number {
    return this.place(frame).scale;
  }

  /** Fills the input buffer from an rgb24 frame; returns where the frame sits in it. */
  place(frame: PipelineFrame): FramePlacement {
    return prepareInput(this.card, frame, this.input).placement;
  }

  /** Output tensor to candidate boxes in source pixels, suppressed where the layout needs it. */
  decode(output: ort.Tensor, placement: FramePlacement): RawBox[] {
    const data = output.data as Float32Array;
    const { format } = this.card.output;
    const { scoreThreshold, iouThreshold } = this.options;
    const [, rows, columns] = output.dims;
    const layout: LayoutOptions = { scoreThreshold, ...placement };
    const numClasses = this.card.classNames.length;
    if (format === 'end-to-end') return decodeEndToEnd(data, rows, layout);
    let boxes: RawBox[];
    if (format === 'yolov5') boxes = decodeYolov5(data, rows, columns - 5, layout);
    else if (format === 'yolov8') boxes = decodeYolov8(data, columns, rows - 4, layout);
    else {
      boxes = decodeYolox(data, {
        inputSize: this.inputSize,
        strides: this.card.output.strides,
        numClasses,
        scoreThreshold,
        scale: placement.scale,
      });
    }
    return nonMaxSuppression(boxes, iouThreshold, true);
  }

  async run(frame: PipelineFrame): Promise<PipelineResult> {
    return this.runPrepared(frame, prepareInput(this.card, frame, this.input));
  }

  /** Like run(), with the whole-frame input letterboxed beforehand (see prepareInput). */
  async runPrepared(frame: PipelineFrame, prepared: PreparedInput): Promise<PipelineResult> {
    const timing = { preprocessMs: prepared.preprocessMs, inferenceMs: 0, postprocessMs: 0 };
    const inferStart = performance.now();
    const output = await this.infer(prepared.input);
    const inferEnd = performance.now();
    let boxes = this.decode(output, prepared.placement);
    timing.inferenceMs += inferEnd - inferStart;
    timing.postprocessMs += performance.now() - inferEnd;

    const tiling = this.options.tiling;
    if (tiling) {
      const tileSizePx = tiling.tileSizePx ?? this.inputSize;
      const tiles = planTiles(frame.width, frame.height, tileSizePx, tiling.overlapPx);
      for (const tile of tiles) {
        const cropStart = performance.now();
        const tileFrame: PipelineFrame = {
          ...frame,
          width: tile.widthPx,
          height: tile.heightPx,
          rgb: cropRgb(frame.rgb, frame.width, tile),
        };
        timing.preprocessMs += performance.now() - cropStart;
        const tileBoxes = await this.runOnce(tileFrame, timing);
        boxes = boxes.concat(tileBoxes.map((box) => shiftBox(box, tile)));
      }
      if (tiles.length > 0) {
        const mergeStart = performance.now();
        boxes = mergeTiledBoxes(nonMaxSuppression(boxes, this.options.iouThreshold, true));
        timing.postprocessMs += performance.now() - mergeStart;
      }
    }

    const detections = toDetections(boxes, frame, this.card.classNames);
    return { detections, ...timing };
  }

  private async runOnce(
    frame: PipelineFrame,
    timing: Omit<PipelineResult, 'detections'>,
  ): Promise<RawBox[]> {
    const start = performance.now();
    const placement = this.place(frame);
    const inferStart = performance.now();
    const output = await this.infer();
    const inferEnd = performance.now();
    const kept = this.decode(output, placement);
    timing.preprocessMs += inferStart - start;
    timing.inferenceMs += inferEnd - inferStart;
    timing.postprocessMs += performance.now() - inferEnd;
    return kept;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** The same pipeline by a name that says it is not YOLOX-only. */
export const DetectorPipeline = YoloxPipeline;
