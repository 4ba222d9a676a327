// Letterbox preprocessing for YOLOX: the frame is resized to fit the square input, kept at its
// aspect ratio, placed in the top-left corner and padded, the way the network was trained.
// Pure: no Node imports.

export interface LetterboxOptions {
  /** Side of the square network input, in pixels. */
  inputSize: number;
  padValue: number;
  channelOrder: 'BGR' | 'RGB';
  /** Where the image sits in the square: YOLOX trains top-left, Ultralytics centred. */
  align?: 'top-left' | 'center';
}

export interface LetterboxResult {
  /** Planar CHW float32, values 0..255, length 3 x inputSize x inputSize. */
  tensor: Float32Array;
  /** Network-input pixels per source pixel. */
  scale: number;
  /** Padding before the image starts, in network-input pixels (0 when top-left). */
  padXPx: number;
  padYPx: number;
}

/**
 * rgb24 (row-major, 3 bytes a pixel) to a letterboxed CHW float tensor, bilinear resampling
 * with pixel centres aligned as OpenCV's INTER_LINEAR does. Pass `into` to reuse a buffer.
 */
export function letterbox(
  rgb: Uint8Array,
  widthPx: number,
  heightPx: number,
  options: LetterboxOptions,
  into?: Float32Array,
): LetterboxResult {
  const { inputSize, padValue, channelOrder } = options;
  if (!Number.isInteger(widthPx) || !Number.isInteger(heightPx) || widthPx < 1 || heightPx < 1) {
    throw new Error(`letterbox: frame size must be positive integers, got ${widthPx}x${heightPx}`);
  }
  if (rgb.length !== widthPx * heightPx * 3) {
    throw new Error(
      `letterbox: rgb24 frame of ${widthPx}x${heightPx} needs ${widthPx * heightPx * 3} bytes, ` +
        `got ${rgb.length}`,
    );
  }
  const plane = inputSize * inputSize;
  const tensor = into ?? new Float32Array(3 * plane);
  if (tensor.length !== 3 * plane) {
    throw new Error(`letterbox: buffer holds ${tensor.length} values, expected ${3 * plane}`);
  }
  const scale = Math.min(inputSize / widthPx, inputSize / heightPx);
  const outWidth = Math.max(1, Math.min(inputSize, Math.floor(widthPx * scale)));
  const outHeight = Math.max(1, Math.min(inputSize, Math.floor(heightPx * scale)));
  tensor.fill(padValue);
  // Ultralytics rounds the half-padding this way; matching it keeps boxes where it trained.
  const centred = options.align === 'center';
  const padXPx = centred ? Math.max(0, Math.round((inputSize - outWidth) / 2 - 0.1)) : 0;
  const padYPx = centred ? Math.max(0, Math.round((inputSize - outHeight) / 2 - 0.1)) : 0;

  // Horizontal taps are the same for every row: work them out once.
  const x0 = new Int32Array(outWidth);
  const x1 = new Int32Array(outWidth);
  const wx = new Float32Array(outWidth);
  const scaleX = widthPx / outWidth;
  for (let x = 0; x < outWidth; x++) {
    const sourceX = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), widthPx - 1);
    const left = Math.floor(sourceX);
    x0[x] = left * 3;
    x1[x] = Math.min(left + 1, widthPx - 1) * 3;
    wx[x] = sourceX - left;
  }
  // Output plane order: channel 0 gets blue when the network wants BGR.
  const [plane0, plane1, plane2] = channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const scaleY = heightPx / outHeight;
  const rowBytes = widthPx * 3;
  for (let y = 0; y < outHeight; y++) {
    const sourceY = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), heightPx - 1);
    const top = Math.floor(sourceY);
    const rowA = top * rowBytes;
    const rowB = Math.min(top + 1, heightPx - 1) * rowBytes;
    const wy = sourceY - top;
    const outRow = (y + padYPx) * inputSize + padXPx;
    for (let x = 0; x < outWidth; x++) {
      const a = rowA + x0[x];
      const b = rowA + x1[x];
      const c = rowB + x0[x];
      const d = rowB + x1[x];
      const fx = wx[x];
      const w00 = (1 - fx) * (1 - wy);
      const w01 = fx * (1 - wy);
      const w10 = (1 - fx) * wy;
      const w11 = fx * wy;
      const red = rgb[a] * w00 + rgb[b] * w01 + rgb[c] * w10 + rgb[d] * w11;
      const green = rgb[a + 1] * w00 + rgb[b + 1] * w01 + rgb[c + 1] * w10 + rgb[d + 1] * w11;
      const blue = rgb[a + 2] * w00 + rgb[b + 2] * w01 + rgb[c + 2] * w10 + rgb[d + 2] * w11;
      const index = outRow + x;
      tensor[plane0 * plane + index] = red;
      tensor[plane1 * plane + index] = green;
      tensor[plane2 * plane + index] = blue;
    }
  }
  return { tensor, scale, padXPx, padYPx };
}
