// The detector's worker thread: owns the onnxruntime session so that inference (25 to 130 ms
// a frame on one core, by machine) never blocks the station's event loop. Frames are handled
// one at a time, in order; the Detector decides which frames get here.

import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { YoloxPipeline } from './pipeline';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-protocol';

function requirePort(): MessagePort {
  if (!parentPort) throw new Error('detector-worker must run in a worker thread');
  return parentPort;
}

const port = requirePort();
const init = workerData as WorkerInit;

function reply(message: WorkerReply): void {
  port.postMessage(message);
}

async function main(): Promise<void> {
  let pipeline: YoloxPipeline;
  try {
    pipeline = await YoloxPipeline.create(init.modelPath, init.card, init);
  } catch (error) {
    reply({ type: 'init-error', message: (error as Error).message });
    return;
  }
  let queue = Promise.resolve();
  port.on('message', (request: WorkerRequest) => {
    if (request.type === 'close') {
      // Terminating a thread while onnxruntime is inside run() aborts the whole process, so
      // the thread ends only after the frame in hand and with the session released.
      queue = queue.then(async () => {
        await pipeline.release().catch(() => {});
        port.close();
      });
      return;
    }
    queue = queue.then(async () => {
      const start = performance.now();
      try {
        const { prepared } = request;
        const result = prepared
          ? await pipeline.runPrepared(request, prepared)
          : await pipeline.run(request);
        const message: WorkerReply = {
          type: 'result',
          requestId: request.requestId,
          detections: result.detections,
          inferenceMs: result.inferenceMs,
          totalMs: performance.now() - start,
          input: prepared?.input,
        };
        port.postMessage(message, prepared ? [prepared.input.buffer as ArrayBuffer] : []);
      } catch (error) {
        reply({ type: 'error', requestId: request.requestId, message: (error as Error).message });
      }
    });
  });
  reply({ type: 'ready', card: pipeline.card });
}

void main();
