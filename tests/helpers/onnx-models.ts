// Tiny ONNX models for detector tests, written with a minimal protobuf encoder: one float
// input that the graph ignores and one output that is a constant chosen by the test, so the
// decoded boxes are known exactly.

import { writeFileSync } from 'node:fs';

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

function key(field: number, wireType: number): number[] {
  return varint(field * 8 + wireType);
}

function int(field: number, value: number): number[] {
  return [...key(field, 0), ...varint(value)];
}

function bytesField(field: number, bytes: ArrayLike<number>): number[] {
  return [...key(field, 2), ...varint(bytes.length), ...Array.from(bytes)];
}

function str(field: number, value: string): number[] {
  return bytesField(field, new TextEncoder().encode(value));
}

const FLOAT = 1;

/** A dimension: a number, or a name for a dynamic one. */
export type Dim = number | string;

function valueInfo(name: string, shape: readonly Dim[]): number[] {
  const dims = shape.flatMap((dim) =>
    bytesField(1, typeof dim === 'number' ? int(1, dim) : str(2, dim)),
  );
  const tensorType = [...int(1, FLOAT), ...bytesField(2, dims)];
  return [...str(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

function tensor(name: string, shape: readonly number[], data: Float32Array): number[] {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return [
    ...shape.flatMap((dim) => int(1, dim)),
    ...int(2, FLOAT),
    ...str(8, name),
    ...bytesField(9, raw),
  ];
}

export interface TinyModel {
  inputName?: string;
  inputShape: readonly Dim[];
  outputName?: string;
  outputShape: readonly number[];
  /** The output, row-major; its length must match outputShape. */
  output: Float32Array;
  /** metadata_props, e.g. { names: "{0: 'person', 1: 'bear'}" }. */
  metadata?: Record<string, string>;
  /**
   * Adds the largest input value to every output value, so a test can see what the detector
   * fed the network (255 for 0..255 inputs, 1 for 0..1 inputs of a white frame).
   */
  addInputMax?: boolean;
}

/** Bytes of an ONNX model (opset 13) whose output is the constant `output`. */
export function encodeTinyModel(model: TinyModel): Uint8Array {
  const inputName = model.inputName ?? 'images';
  const outputName = model.outputName ?? 'output';
  const count = model.outputShape.reduce((a, b) => a * b, 1);
  if (model.output.length !== count) {
    throw new Error(`tiny model: output has ${model.output.length} values, shape needs ${count}`);
  }
  const nodes = model.addInputMax
    ? [
        // AttributeProto: name = 1, i = 3, type = 20 (2 = INT).
        [
          ...str(1, inputName),
          ...str(2, 'input_max'),
          ...str(3, 'max'),
          ...str(4, 'ReduceMax'),
          ...bytesField(5, [...str(1, 'keepdims'), ...int(3, 0), ...int(20, 2)]),
        ],
        [
          ...str(1, 'constant'),
          ...str(1, 'input_max'),
          ...str(2, outputName),
          ...str(3, 'add'),
          ...str(4, 'Add'),
        ],
      ]
    : [
        [
          ...str(1, 'constant'),
          ...str(2, outputName),
          ...str(3, 'identity'),
          ...str(4, 'Identity'),
        ],
      ];
  const graph = [
    ...nodes.flatMap((node) => bytesField(1, node)),
    ...str(2, 'tiny'),
    ...bytesField(5, tensor('constant', model.outputShape, model.output)),
    ...bytesField(11, valueInfo(inputName, model.inputShape)),
    ...bytesField(12, valueInfo(outputName, model.outputShape)),
  ];
  const opset = [...str(1, ''), ...int(2, 13)];
  const metadata = Object.entries(model.metadata ?? {}).flatMap(([name, value]) =>
    bytesField(14, [...str(1, name), ...str(2, value)]),
  );
  return Uint8Array.from([
    ...int(1, 7),
    ...str(2, 'ursa-tests'),
    ...bytesField(7, graph),
    ...bytesField(8, opset),
    ...metadata,
  ]);
}

export function writeTinyModel(file: string, model: TinyModel): string {
  writeFileSync(file, encodeTinyModel(model));
  return file;
}

/** A zeroed [1, rows, columns] output with the given rows set (missing values stay 0). */
export function rowsOutput(rows: number, columns: number, set: Record<number, number[]>) {
  const data = new Float32Array(rows * columns);
  for (const [row, values] of Object.entries(set)) data.set(values, Number(row) * columns);
  return data;
}

/** A zeroed [1, 4 + classes, candidates] output with the given candidates' columns set. */
export function columnsOutput(
  channels: number,
  candidates: number,
  set: Record<number, number[]>,
): Float32Array {
  const data = new Float32Array(channels * candidates);
  for (const [candidate, values] of Object.entries(set)) {
    values.forEach((value, channel) => {
      data[channel * candidates + Number(candidate)] = value;
    });
  }
  return data;
}
