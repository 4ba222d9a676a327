// Detector benchmark on real photos: bare session.run against the whole per-frame pipeline
// (letterbox, inference, decode, NMS, georeferencing), in one process, no worker.
// Prints human lines and one `BENCH {...}` line per result; the pipeline's baseline is the
// bare session.run, so its ratio is the price of everything around the network.
// MAVLink: packets per second through the station's decoder and its link input (decoder plus
// the flight record's frame scanner) against bare node-mavlink (splitter and parser) on the
// same frames from the shared tlogs; and tlog open-and-summarise speed in MB/s on the largest
// shared tlog against node-mavlink's tlog splitter and parser. For rates, higher is better.
// Detector path: frames per second through the station's detector against bare session.run.
// Thermal: people found in real drone thermal frames, whole frame against tiled.
// Live: video delay and rate of the station's path against bare ffmpeg, and from frame to map
// with the simulator's camera (see bench-live.ts).
// Replay: indexing and seeking a 100 MB flight record against reading it through once (see
// bench-replay.ts).
// Usage: npm run bench [-- --iterations 20 --warmup 3 --threads 1
//                          --only mavlink|detector|thermal|live|replay]

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchEndToEnd, benchLiveDecode } from './bench-live';
import { benchReplay } from './bench-replay';
import { percentile, report, reportRate, round } from './bench-report';
import {
  MavLinkPacketParser,
  MavLinkPacketSplitter,
  MavLinkTLogPacketSplitter,
  type MavLinkPacket,
} from 'node-mavlink';
import * as ort from 'onnxruntime-node';
import { type CameraPose, georeferenceDetection } from '../app/core/georef';
import type { CameraModel } from '../app/core/types';
import { MultiObjectTracker } from '../app/core/tracker';
import { Detector } from '../app/station/detector/detector';
import { letterbox } from '../app/station/detector/letterbox';
import type { ModelCard } from '../app/station/detector/model-card';
import { resolveModel } from '../app/station/detector/model-store';
import {
  DEFAULT_IOU_THRESHOLD,
  DEFAULT_SCORE_THRESHOLD,
  type PipelineFrame,
  YoloxPipeline,
} from '../app/station/detector/pipeline';
import { MavlinkDecoder } from '../app/station/mavlink/codec';
import { MODEL_MESSAGE_IDS } from '../app/station/mavlink/vehicle-model';
import { sharedDir, userCacheDir } from '../app/station/paths';
import { MavlinkFrameScanner } from '../app/station/tlog/frame';
import { parseTlogBytes } from '../app/station/tlog/reader';
import { summarizeTlogFile } from '../app/station/tlog/summary';
import {
  addCounts,
  type MatchCounts,
  matchDetections,
  type QualityFigures,
  qualityFigures,
  readLabelledFrames,
} from '../app/station/detector/evaluation';
import { decodeImageRgb } from '../app/station/video/ffmpeg';

const PHOTOS = ['bear-coco-285.jpg', 'person.jpg', 'dog.jpg', 'horses.jpg'];
// The station's frames are at most 640 wide; bench what it sees.
const FRAME_MAX_WIDTH_PX = 640;
// A drone 60 m up looking 45 degrees down, as during a hazing approach.
const POSE: CameraPose = {
  position: { latDeg: 48.17, lonDeg: -111.95 },
  altitudeAglM: 60,
  vehicleAttitude: { rollDeg: 0, pitchDeg: 0, yawDeg: 90 },
  gimbal: { pitchDeg: -45, rollDeg: 0, yawDeg: 0, yawFrame: 'vehicle' },
};
const CAMERA: CameraModel = { horizontalFovDeg: 69, verticalFovDeg: 54 };
/** Faster than any inference here, so the detector always has a frame waiting. */
const FAST_CAMERA_PERIOD_MS = 10;
const THERMAL_TILING = { tileSizePx: 208, overlapPx: 48 };

function positiveInteger(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new Error(`--${name} must be a positive integer, got "${value}"`);
  }
  return parsed;
}

/** The best of `runs` timings of `work`, which returns how many items it handled. */
async function bestRate(runs: number, work: () => Promise<number>): Promise<number> {
  let best = 0;
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    const items = await work();
    best = Math.max(best, items / ((performance.now() - start) / 1000));
  }
  return best;
}

/** node-mavlink's streams may hand packets on in a later turn; wait until no more come. */
async function settle(count: () => number): Promise<number> {
  for (;;) {
    const before = count();
    await new Promise((resolve) => setImmediate(resolve));
    if (count() === before) return before;
  }
}

async function benchMavlink(runs: number): Promise<void> {
  const tlogDir = path.join(sharedDir(), 'fixtures', 'tlog');
  if (!existsSync(tlogDir)) {
    process.stdout.write(`MAVLink benchmarks skipped: no tlogs in ${tlogDir}\n`);
    return;
  }
  const files = readdirSync(tlogDir)
    .filter((name) => name.endsWith('.tlog'))
    .map((name) => path.join(tlogDir, name));
  // Every frame of every shared log, one per chunk, as UDP datagrams bring them.
  const frames = files.flatMap((file) =>
    parseTlogBytes(readFileSync(file)).records.map((r) => Buffer.from(r.frame)),
  );
  const frameBytes = frames.reduce((sum, f) => sum + f.length, 0);

  const bare = await bestRate(runs, async () => {
    const splitter = new MavLinkPacketSplitter();
    const parser = new MavLinkPacketParser();
    let packets = 0;
    splitter.pipe(parser).on('data', (_: MavLinkPacket) => packets++);
    for (const frame of frames) splitter.write(frame);
    return settle(() => packets);
  });
  const decoder = await bestRate(runs, async () => {
    let messages = 0;
    const station = new MavlinkDecoder(() => messages++);
    for (const frame of frames) station.push(frame);
    const valid = await settle(() => station.stats.validFrames);
    station.dispose();
    return valid;
  });
  const linkInput = await bestRate(runs, async () => {
    let recorded = 0;
    const station = new MavlinkDecoder(() => {}, MODEL_MESSAGE_IDS);
    const scanner = new MavlinkFrameScanner(() => recorded++, { datagrams: true });
    for (const frame of frames) {
      station.push(frame);
      scanner.push(frame);
    }
    const valid = await settle(() => station.stats.validFrames);
    station.dispose();
    return Math.min(valid, recorded);
  });
  process.stdout.write(
    `MAVLink: ${frames.length} frames (${(frameBytes / 1e6).toFixed(1)} MB) from ` +
      `${files.length} shared tlogs, one per chunk, best of ${runs}\n` +
      `  bare node-mavlink splitter+parser: ${Math.round(bare)} packets/s\n` +
      `  station decoder (every message decoded): ${Math.round(decoder)} packets/s\n` +
      `  station link input (vehicle-model messages + flight record scanner): ` +
      `${Math.round(linkInput)} packets/s\n`,
  );
  reportRate('mavlink station decoder', decoder, 'packets/s', bare);
  reportRate('mavlink station link input with recording', linkInput, 'packets/s', bare);

  const largest = files.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
  const megabytes = statSync(largest).size / 1e6;
  const summarise = await bestRate(runs, async () => {
    summarizeTlogFile(largest);
    return megabytes;
  });
  const bareTlog = await bestRate(runs, async () => {
    const splitter = new MavLinkTLogPacketSplitter();
    const parser = new MavLinkPacketParser();
    let packets = 0;
    splitter.pipe(parser).on('data', () => packets++);
    splitter.write(readFileSync(largest));
    await settle(() => packets);
    return megabytes;
  });
  process.stdout.write(
    `tlog: ${path.basename(largest)} (${megabytes.toFixed(2)} MB): open and summarise ` +
      `${summarise.toFixed(1)} MB/s; node-mavlink tlog splitter+parser ` +
      `${bareTlog.toFixed(1)} MB/s\n`,
  );
  reportRate('tlog open and summarise', summarise, 'MB/s', bareTlog);
}

/**
 * People in real drone thermal frames (HIT-UAV), found by the shipped model on the whole
 * frame and with tiling. The model is trained on daylight colour photos, not thermal: the
 * figures say how far that carries, with no tuning to these frames.
 */
async function benchThermal(modelPath: string | undefined): Promise<void> {
  const dir = path.join(sharedDir(), 'fixtures', 'thermal', 'hit-uav');
  const annotations = path.join(dir, 'annotations.json');
  if (!existsSync(annotations)) {
    process.stdout.write(`thermal: skipped, ${annotations} is absent\n`);
    return;
  }
  const model = await resolveModel({
    explicitPath: modelPath,
    cacheDir: userCacheDir(),
    sharedDir: sharedDir(),
    allowDownload: false,
  });
  const frames = readLabelledFrames(annotations);
  const images = await Promise.all(frames.map((f) => decodeImageRgb(path.join(dir, f.file))));
  const variants = [
    { name: 'whole frame', tiling: null },
    { name: 'tiled', tiling: THERMAL_TILING },
  ];
  const results: Array<{ name: string; figures: QualityFigures; msPerFrame: number }> = [];
  for (const variant of variants) {
    const pipeline = await YoloxPipeline.create(model.path, model.card, {
      scoreThreshold: DEFAULT_SCORE_THRESHOLD,
      iouThreshold: DEFAULT_IOU_THRESHOLD,
      intraOpThreads: 1,
      tiling: variant.tiling,
    });
    let counts: MatchCounts = { labelled: 0, detected: 0, truePositives: 0 };
    const start = performance.now();
    try {
      for (const [index, frame] of frames.entries()) {
        const image = images[index];
        const result = await pipeline.run({ frameId: index + 1, frameTimeMs: 0, ...image });
        const people = result.detections.filter((d) => d.className === 'person');
        const labels = frame.labels.filter((l) => l.className === 'Person').map((l) => l.box);
        counts = addCounts(counts, matchDetections(labels, people));
      }
    } finally {
      await pipeline.release();
    }
    const msPerFrame = (performance.now() - start) / frames.length;
    results.push({ name: variant.name, figures: qualityFigures(counts), msPerFrame });
  }
  const [whole, tiled] = results;
  for (const { name, figures, msPerFrame } of results) {
    process.stdout.write(
      `HIT-UAV people, ${name}: recall ${figures.truePositives}/${figures.labelled}, ` +
        `precision ${figures.truePositives}/${figures.detected}, ` +
        `${msPerFrame.toFixed(0)} ms a frame\n`,
    );
  }
  process.stdout.write(
    `  (${frames.length} frames, 640x512, 60-130 m; tiles of ${THERMAL_TILING.tileSizePx} px ` +
      `enlarged to the model input, overlapping ${THERMAL_TILING.overlapPx} px)\n`,
  );
  const figure = (value: number | null): number => value ?? 0;
  reportRate(
    'hit-uav person recall tiled',
    figure(tiled.figures.recall),
    'fraction',
    figure(whole.figures.recall),
  );
  reportRate(
    'hit-uav person precision tiled',
    figure(tiled.figures.precision),
    'fraction',
    figure(whole.figures.precision),
  );
  report('hit-uav frame tiled', tiled.msPerFrame, round(whole.msPerFrame));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string' },
      warmup: { type: 'string' },
      threads: { type: 'string' },
      model: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const only = values.only;
  if (only !== undefined && !['mavlink', 'detector', 'thermal', 'live', 'replay'].includes(only)) {
    throw new Error(`--only must be mavlink, detector, thermal, live or replay, got "${only}"`);
  }
  if (only === undefined || only === 'mavlink') await benchMavlink(5);
  if (only === undefined || only === 'replay') await benchReplay();
  if (only === undefined || only === 'thermal') await benchThermal(values.model);
  if (only === undefined || only === 'live') {
    await benchLiveDecode();
    await benchEndToEnd();
  }
  if (only !== undefined && only !== 'detector') return;

  const iterations = positiveInteger(values.iterations, 20, 'iterations');
  const warmup = positiveInteger(values.warmup, 3, 'warmup');
  const threads = positiveInteger(
    values.threads,
    os.availableParallelism() >= 4 ? 2 : 1,
    'threads',
  );

  const model = await resolveModel({
    explicitPath: values.model,
    cacheDir: userCacheDir(),
    sharedDir: sharedDir(),
    allowDownload: false,
  });
  const imagesDir = path.join(sharedDir(), 'fixtures', 'images');
  const frames: PipelineFrame[] = [];
  for (const [index, photo] of PHOTOS.entries()) {
    const image = await decodeImageRgb(path.join(imagesDir, photo), {
      maxWidthPx: FRAME_MAX_WIDTH_PX,
    });
    frames.push({ frameId: index + 1, frameTimeMs: Date.now(), ...image });
  }
  const pipeline = await YoloxPipeline.create(model.path, model.card, {
    scoreThreshold: DEFAULT_SCORE_THRESHOLD,
    iouThreshold: DEFAULT_IOU_THRESHOLD,
    intraOpThreads: threads,
  });
  process.stdout.write(
    `model ${model.path} (${model.source}), ${threads} intra-op thread(s), ` +
      `${os.cpus()[0]?.model ?? 'unknown CPU'}; ${warmup} warm-up + ${iterations} iterations ` +
      `over ${PHOTOS.join(', ')}\n`,
  );

  try {
    // Bare inference: the bear photo prepared once, nothing but session.run timed.
    const { card } = model;
    const { tensor: input } = letterbox(frames[0].rgb, frames[0].width, frames[0].height, {
      inputSize: card.input.shape[3],
      padValue: card.input.letterbox.padValue,
      channelOrder: card.input.channelOrder,
    });
    const feeds = { [card.input.name]: new ort.Tensor('float32', input, card.input.shape) };
    const bareMs: number[] = [];
    for (let i = 0; i < warmup + iterations; i++) {
      const start = performance.now();
      await pipeline.session.run(feeds);
      if (i >= warmup) bareMs.push(performance.now() - start);
    }

    const pipelineMs: number[] = [];
    const stageMs = { preprocess: [] as number[], postprocess: [] as number[] };
    let detectionCount = 0;
    let groundedCount = 0;
    for (let i = 0; i < warmup + iterations; i++) {
      const frame = frames[i % frames.length];
      const start = performance.now();
      const result = await pipeline.run(frame);
      const placed = result.detections.map((d) => georeferenceDetection(d, POSE, CAMERA));
      const elapsedMs = performance.now() - start;
      if (i < warmup) continue;
      pipelineMs.push(elapsedMs);
      stageMs.preprocess.push(result.preprocessMs);
      stageMs.postprocess.push(elapsedMs - result.preprocessMs - result.inferenceMs);
      detectionCount += placed.length;
      groundedCount += placed.filter((d) => d.ground !== null).length;
    }

    const bareMedian = percentile(bareMs, 0.5);
    const bareP90 = percentile(bareMs, 0.9);
    const pipeMedian = percentile(pipelineMs, 0.5);
    const pipeP90 = percentile(pipelineMs, 0.9);
    process.stdout.write(
      `session.run:  median ${bareMedian.toFixed(1)} ms, p90 ${bareP90.toFixed(1)} ms\n` +
        `pipeline:     median ${pipeMedian.toFixed(1)} ms, p90 ${pipeP90.toFixed(1)} ms ` +
        `(x${(pipeMedian / bareMedian).toFixed(2)} of session.run)\n` +
        `  letterbox median ${percentile(stageMs.preprocess, 0.5).toFixed(1)} ms; decode + ` +
        `NMS + georeference median ${percentile(stageMs.postprocess, 0.5).toFixed(2)} ms\n` +
        `  ${detectionCount} detections, ${groundedCount} placed on the ground\n`,
    );
    report('yolox-nano session.run median', bareMedian, null);
    report('yolox-nano session.run p90', bareP90, null);
    report('yolox-nano pipeline median', pipeMedian, round(bareMedian));
    report('yolox-nano pipeline p90', pipeP90, round(bareP90));

    await benchThroughput(pipeline, frames, model, threads, warmup + iterations);
  } finally {
    await pipeline.release();
  }
}

/**
 * Frames per second through the station's detector path (worker thread, letterbox, decode,
 * NMS, then georeferencing and tracking on the main thread) against bare session.run on the
 * same frames, each prepared beforehand. The goal is 0.9 or better: everything around the
 * network should cost under a tenth of it.
 */
async function benchThroughput(
  pipeline: YoloxPipeline,
  frames: PipelineFrame[],
  model: { path: string; card: ModelCard },
  threads: number,
  frameCount: number,
): Promise<void> {
  const { card } = model;
  const feeds = frames.map((frame) => {
    const { tensor } = letterbox(frame.rgb, frame.width, frame.height, {
      inputSize: card.input.shape[3],
      padValue: card.input.letterbox.padValue,
      channelOrder: card.input.channelOrder,
    });
    return { [card.input.name]: new ort.Tensor('float32', tensor, card.input.shape) };
  });
  const bareStart = performance.now();
  for (let i = 0; i < frameCount; i++) await pipeline.session.run(feeds[i % feeds.length]);
  const bareFps = frameCount / ((performance.now() - bareStart) / 1000);

  const detector = await Detector.create({
    modelPath: model.path,
    card,
    intraOpThreads: threads,
  });
  try {
    // A camera faster than inference, as the station sees it: frames are submitted on a
    // timer and the detector keeps the newest; detections go to the tracker and the map.
    const tracker = new MultiObjectTracker();
    let detected = 0;
    let finished: () => void = () => {};
    const done = new Promise<void>((resolve) => (finished = resolve));
    const subscription = detector.onDetections((frame, detections) => {
      tracker.update(frame.frameTimeMs, detections);
      for (const detection of detections) georeferenceDetection(detection, POSE, CAMERA);
      detected++;
      if (detected === frameCount) finished();
    });
    let submitted = 0;
    const start = performance.now();
    const camera = setInterval(() => {
      const frame = frames[submitted % frames.length];
      submitted++;
      detector.submit({ ...frame, frameId: submitted, frameTimeMs: Date.now() });
    }, FAST_CAMERA_PERIOD_MS);
    await done;
    const pipelineFps = frameCount / ((performance.now() - start) / 1000);
    clearInterval(camera);
    subscription.dispose();
    process.stdout.write(
      `throughput:   station detector path ${pipelineFps.toFixed(1)} frames/s, bare ` +
        `session.run ${bareFps.toFixed(1)} frames/s on the same ${frames.length} frames ` +
        `(x${(pipelineFps / bareFps).toFixed(2)}; goal 0.9 or better; camera at ` +
        `${(1000 / FAST_CAMERA_PERIOD_MS).toFixed(0)} frames/s)\n`,
    );
    reportRate('detector path frames per second', pipelineFps, 'frames/s', bareFps);
  } finally {
    await detector.dispose();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.message}\n`);
  process.exitCode = 1;
});
