// Model cards: what a weights file must be (hash, size, where it comes from) and how to feed it
// (input layout, output format, class names). The YOLOX-Nano card is bundled into the build so
// the app can name classes and check weights without ../shared.

import { readFileSync } from 'node:fs';
import yoloxNanoJson from '../../../models/yolox-nano.json';
import type { OutputFormat } from './layouts';

export interface ModelCard {
  name: string;
  version: string;
  description: string;
  license: string;
  task: 'object-detection';
  file: {
    name: string;
    sha256: string;
    sizeBytes: number;
    url: string;
  };
  upstream: { repository: string; commit: string; path: string };
  input: {
    name: string;
    /** [batch, channels, height, width]; square inputs only. */
    shape: [number, number, number, number];
    dtype: 'float32';
    channelOrder: 'BGR' | 'RGB';
    /** [0, 255] feeds pixel values as they are; [0, 1] divides them by 255. */
    valueRange: [0, 255] | [0, 1];
    letterbox: { align: 'top-left' | 'center'; padValue: number };
  };
  output: {
    name: string;
    /** yolox-grid: [batch, cells, 5 + classes]; other formats: see layouts.ts. */
    shape: [number, number, number];
    dtype: 'float32';
    format: OutputFormat;
    strides: number[];
  };
  classNames: string[];
}

function fail(where: string, what: string): never {
  throw new Error(`model card ${where}: ${what}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(record: Record<string, unknown>, key: string, where: string): unknown {
  if (!(key in record)) fail(where, `missing field "${key}"`);
  return record[key];
}

function text(record: Record<string, unknown>, key: string, where: string): string {
  const value = field(record, key, where);
  if (typeof value !== 'string' || value.length === 0) {
    fail(where, `"${key}" must be a non-empty string`);
  }
  return value;
}

function section(record: Record<string, unknown>, key: string, where: string) {
  const value = field(record, key, where);
  if (!isRecord(value)) fail(where, `"${key}" must be an object`);
  return value;
}

function integers(value: unknown, length: number, label: string, where: string): number[] {
  if (
    !Array.isArray(value) ||
    value.length !== length ||
    !value.every((n) => Number.isInteger(n) && n > 0)
  ) {
    fail(where, `"${label}" must be ${length} positive integers`);
  }
  return value as number[];
}

/** Checks a parsed card and returns it typed; `where` names the card in errors. */
export function parseModelCard(json: unknown, where: string): ModelCard {
  if (!isRecord(json)) fail(where, 'is not a JSON object');
  const task = text(json, 'task', where);
  if (task !== 'object-detection') fail(where, `task "${task}" is not "object-detection"`);

  const file = section(json, 'file', where);
  const sha256 = text(file, 'sha256', where).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) fail(where, '"file.sha256" must be 64 hex digits');
  const sizeBytes = field(file, 'sizeBytes', where);
  if (!Number.isInteger(sizeBytes) || (sizeBytes as number) <= 0) {
    fail(where, '"file.sizeBytes" must be a positive integer');
  }
  const fileName = text(file, 'name', where);
  if (fileName.includes('/') || fileName.includes('\\')) {
    fail(where, `"file.name" must be a bare file name, got "${fileName}"`);
  }

  const upstream = section(json, 'upstream', where);
  const input = section(json, 'input', where);
  const inputShape = integers(field(input, 'shape', where), 4, 'input.shape', where);
  if (inputShape[0] !== 1 || inputShape[1] !== 3 || inputShape[2] !== inputShape[3]) {
    fail(where, `"input.shape" must be [1, 3, N, N], got [${inputShape.join(', ')}]`);
  }
  const channelOrder = text(input, 'channelOrder', where);
  if (channelOrder !== 'BGR' && channelOrder !== 'RGB') {
    fail(where, `"input.channelOrder" must be BGR or RGB, got "${channelOrder}"`);
  }
  const letterbox = section(input, 'letterbox', where);
  if (letterbox.align !== 'top-left') fail(where, '"input.letterbox.align" must be "top-left"');
  const padValue = field(letterbox, 'padValue', where);
  if (typeof padValue !== 'number' || padValue < 0 || padValue > 255) {
    fail(where, '"input.letterbox.padValue" must be a number in 0..255');
  }
  const valueRange = field(input, 'valueRange', where);
  if (!Array.isArray(valueRange) || valueRange[0] !== 0 || valueRange[1] !== 255) {
    fail(where, '"input.valueRange" must be [0, 255] (the only range the app feeds)');
  }

  const output = section(json, 'output', where);
  const outputShape = integers(field(output, 'shape', where), 3, 'output.shape', where);
  if (output.format !== 'yolox-grid') fail(where, '"output.format" must be "yolox-grid"');
  const strides = field(output, 'strides', where);
  if (!Array.isArray(strides) || strides.length === 0) {
    fail(where, '"output.strides" must be a non-empty list');
  }
  integers(strides, strides.length, 'output.strides', where);

  const classNames = field(json, 'classNames', where);
  if (!Array.isArray(classNames) || !classNames.every((n) => typeof n === 'string')) {
    fail(where, '"classNames" must be a list of strings');
  }
  if (outputShape[2] !== 5 + classNames.length) {
    fail(
      where,
      `"output.shape" has ${outputShape[2]} values per cell but ${classNames.length} class ` +
        `names need ${5 + classNames.length}`,
    );
  }

  return {
    name: text(json, 'name', where),
    version: text(json, 'version', where),
    description: text(json, 'description', where),
    license: text(json, 'license', where),
    task: 'object-detection',
    file: { name: fileName, sha256, sizeBytes: sizeBytes as number, url: text(file, 'url', where) },
    upstream: {
      repository: text(upstream, 'repository', where),
      commit: text(upstream, 'commit', where),
      path: text(upstream, 'path', where),
    },
    input: {
      name: text(input, 'name', where),
      shape: inputShape as ModelCard['input']['shape'],
      dtype: 'float32',
      channelOrder,
      valueRange: [0, 255],
      letterbox: { align: 'top-left', padValue },
    },
    output: {
      name: text(output, 'name', where),
      shape: outputShape as ModelCard['output']['shape'],
      dtype: 'float32',
      format: 'yolox-grid',
      strides: strides as number[],
    },
    classNames: classNames as string[],
  };
}

export function loadModelCard(cardPath: string): ModelCard {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(cardPath, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read model card ${cardPath}: ${(error as Error).message}`);
  }
  return parseModelCard(json, cardPath);
}

/** The card of the detector the app ships with (models/yolox-nano.json). */
export const yoloxNanoCard: ModelCard = parseModelCard(yoloxNanoJson, 'models/yolox-nano.json');
