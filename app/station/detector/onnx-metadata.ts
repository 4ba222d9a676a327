// Class names for a model that is not carded: from the ONNX file's metadata_props (where
// Ultralytics stores `names` and `imgsz`) or a labels file beside it. onnxruntime-node does not
// expose model metadata, so a minimal protobuf reader pulls metadata_props out of the file.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** ModelProto.metadata_props; StringStringEntryProto has key = 1, value = 2. */
const MODEL_METADATA_FIELD = 14;

class ProtoReader {
  offset = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly end = bytes.length,
  ) {}

  get done(): boolean {
    return this.offset >= this.end;
  }

  varint(): number {
    let value = 0;
    let factor = 1;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.end) throw new Error('truncated varint');
      const byte = this.bytes[this.offset++];
      value += (byte & 0x7f) * factor;
      if (byte < 0x80) return value;
      factor *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** Returns [start, end) of a length-delimited field. */
  span(): [number, number] {
    const length = this.varint();
    const start = this.offset;
    if (start + length > this.end) throw new Error('field runs past its message');
    this.offset = start + length;
    return [start, start + length];
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.offset += 8;
    else if (wireType === 2) this.span();
    else if (wireType === 5) this.offset += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
}

/** The metadata_props of an ONNX ModelProto, as key/value pairs. */
export function readOnnxMetadata(bytes: Uint8Array): Map<string, string> {
  const metadata = new Map<string, string>();
  const decoder = new TextDecoder();
  const reader = new ProtoReader(bytes);
  while (!reader.done) {
    const tag = reader.varint();
    const fieldNumber = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (fieldNumber !== MODEL_METADATA_FIELD || wireType !== 2) {
      reader.skip(wireType);
      continue;
    }
    const [start, end] = reader.span();
    const entry = new ProtoReader(bytes, end);
    entry.offset = start;
    let key = '';
    let value = '';
    while (!entry.done) {
      const entryTag = entry.varint();
      if ((entryTag & 7) !== 2) {
        entry.skip(entryTag & 7);
        continue;
      }
      const [from, to] = entry.span();
      const decoded = decoder.decode(bytes.subarray(from, to));
      if (entryTag >>> 3 === 1) key = decoded;
      else if (entryTag >>> 3 === 2) value = decoded;
    }
    metadata.set(key, value);
  }
  return metadata;
}

/**
 * Ultralytics writes names as a Python dict literal, "{0: 'person', 1: 'bear'}"; JSON lists
 * and objects are accepted too. Returns names in class order, or null when it cannot parse.
 */
export function parseClassNames(text: string): string[] | null {
  const trimmed = text.trim();
  try {
    const json: unknown = JSON.parse(trimmed);
    if (Array.isArray(json) && json.every((n) => typeof n === 'string')) return json;
  } catch {
    // Not JSON: the Python literal below.
  }
  const names: string[] = [];
  const entry = /(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;
  for (const match of trimmed.matchAll(entry)) {
    names[Number(match[1])] = (match[2] ?? match[3]).replace(/\\(.)/g, '$1');
  }
  if (names.length === 0) return null;
  for (let i = 0; i < names.length; i++) names[i] ??= `class ${i}`;
  return names;
}

/** Square input side from Ultralytics' imgsz ("[640, 640]"), or null. */
export function parseImageSize(text: string | undefined): number | null {
  const sizes = text?.match(/\d+/g)?.map(Number);
  if (!sizes || sizes.length === 0 || sizes.some((n) => n !== sizes[0])) return null;
  return sizes[0] > 0 ? sizes[0] : null;
}

export interface ModelLabels {
  names: string[] | null;
  /** Where the names came from, for the log. */
  source: string;
  imageSizePx: number | null;
}

function readLabelsFile(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** Names from the model's metadata, else MODEL.labels.txt, else labels.txt beside it. */
export function findModelLabels(modelPath: string): ModelLabels {
  let metadata = new Map<string, string>();
  try {
    metadata = readOnnxMetadata(readFileSync(modelPath));
  } catch {
    // A file onnxruntime accepted but this reader cannot walk: fall back to labels files.
  }
  const imageSizePx = parseImageSize(metadata.get('imgsz'));
  const fromMetadata = metadata.has('names') ? parseClassNames(metadata.get('names')!) : null;
  if (fromMetadata) return { names: fromMetadata, source: 'model metadata', imageSizePx };
  const parsed = path.parse(modelPath);
  for (const file of [
    path.join(parsed.dir, `${parsed.name}.labels.txt`),
    path.join(parsed.dir, 'labels.txt'),
  ]) {
    if (existsSync(file)) return { names: readLabelsFile(file), source: file, imageSizePx };
  }
  return { names: null, source: 'none', imageSizePx };
}
