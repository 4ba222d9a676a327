// The thermal palette tables and the luminance recolouring the video canvas uses.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPalette, paletteTable } from '../../app/ui/components/VideoPanel';

const rgbAt = (table: Uint8Array, y: number): number[] => [...table.subarray(y * 3, y * 3 + 3)];

test('colour leaves the picture alone; white-hot is grey as sent; black-hot inverts it', () => {
  assert.equal(paletteTable('colour'), null);
  const white = paletteTable('white-hot') as Uint8Array;
  const black = paletteTable('black-hot') as Uint8Array;
  for (const y of [0, 1, 100, 254, 255]) {
    assert.deepEqual(rgbAt(white, y), [y, y, y]);
    assert.deepEqual(rgbAt(black, y), [255 - y, 255 - y, 255 - y]);
  }
});

test('ironbow runs from black through purple and red to white, brighter as it goes', () => {
  const iron = paletteTable('ironbow') as Uint8Array;
  assert.deepEqual(rgbAt(iron, 0), [0, 0, 0]);
  assert.deepEqual(rgbAt(iron, 255), [255, 255, 255]);
  const [r40, g40, b40] = rgbAt(iron, 40);
  assert.ok(b40 > r40 && b40 > g40, 'cold is blue-purple');
  const [r150, g150, b150] = rgbAt(iron, 150);
  assert.ok(r150 > g150 && r150 > b150, 'warm is red');
  let previous = -1;
  for (let y = 0; y < 256; y++) {
    const [r, g, b] = rgbAt(iron, y);
    const brightness = 0.299 * r + 0.587 * g + 0.114 * b;
    assert.ok(brightness >= previous - 1, `brightness falls at ${y}`);
    previous = brightness;
  }
});

test('pixels are recoloured by luminance, alpha kept', () => {
  const pixels = new Uint8ClampedArray([200, 200, 200, 255, 0, 0, 0, 128, 255, 0, 0, 255]);
  applyPalette(pixels, paletteTable('black-hot') as Uint8Array);
  // Grey keeps its value as luminance (the weights sum to 256); pure red has 76.
  assert.deepEqual([...pixels], [55, 55, 55, 255, 255, 255, 255, 128, 179, 179, 179, 255]);
});
