// Splits a stream of concatenated JPEG images (ffmpeg's mjpeg muxer) into whole images by
// walking the JPEG markers, so a 0xFFD9 inside a header segment cannot cut an image short.

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;

/** Length of the complete JPEG starting at `start`, or -1 when more bytes are needed. */
function jpegLength(data: Buffer, start: number): number {
  let pos = start + 2;
  while (pos + 1 < data.length) {
    if (data[pos] !== 0xff) {
      throw new Error(`bad JPEG marker 0x${data[pos].toString(16)} at byte ${pos - start}`);
    }
    const marker = data[pos + 1];
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (marker === EOI) return pos + 2 - start;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    if (pos + 3 >= data.length) return -1;
    const segmentEnd = pos + 2 + data.readUInt16BE(pos + 2);
    if (marker !== SOS) {
      pos = segmentEnd;
      continue;
    }
    // Entropy-coded data: 0xFF is stuffed as FF00 and restarts are FFD0..D7; anything else
    // after 0xFF is the next marker.
    pos = segmentEnd;
    for (;;) {
      if (pos + 1 >= data.length) return -1;
      if (data[pos] === 0xff) {
        const next = data[pos + 1];
        if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7)) break;
        pos += 2;
      } else {
        pos += 1;
      }
    }
  }
  return -1;
}

export class JpegStreamSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns the images they complete, in order. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const images: Buffer[] = [];
    let start = 0;
    while (start + 1 < this.pending.length) {
      if (this.pending[start] !== 0xff || this.pending[start + 1] !== SOI) {
        throw new Error(`JPEG stream out of step at byte ${start}: no start-of-image marker`);
      }
      const length = jpegLength(this.pending, start);
      if (length < 0) break;
      // Copy out, so each image owns its bytes rather than pinning the whole chunk.
      images.push(Buffer.from(this.pending.subarray(start, start + length)));
      start += length;
    }
    this.pending = this.pending.subarray(start);
    return images;
  }

  /** Bytes held for an image not yet complete. */
  get pendingBytes(): number {
    return this.pending.length;
  }
}
