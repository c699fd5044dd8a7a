// The worst-classified samples as pictures: an epoch event's pixel bytes (channel planes,
// base64) turned into the RGBA rows a canvas takes, and the caption under each. Pure, so it
// is tested in Node; the webview only puts the pixels on canvases.

import type { WorstSample } from '../../../engine/src/core/events.js';
import { formatLoss, formatPercent } from '../training/format.js';

export interface SampleImage {
  width: number;
  height: number;
  /** width × height × 4 bytes, row by row, as ImageData holds them. */
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

/** The sample's pixels as RGBA: grey images repeat their one plane, colour ones interleave their three. */
export function sampleImage(sample: WorstSample): SampleImage {
  const [channels, height, width] = sample.shape;
  const raw = atob(sample.pixels);
  const plane = width * height;
  if (raw.length !== channels * plane) throw new Error(`a ${channels}×${height}×${width} sample has ${raw.length} pixel bytes`);
  const rgba = new Uint8ClampedArray(new ArrayBuffer(plane * 4));
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) rgba[p * 4 + c] = raw.charCodeAt((channels === 3 ? c * plane : 0) + p);
    rgba[p * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

/** The caption's lines: the true class, and what the model took it for with what confidence. */
export function sampleCaption(sample: WorstSample, classNames: readonly string[] | null): { truth: string; guess: string; tooltip: string } {
  const name = (id: number): string => classNames?.[id] ?? String(id);
  return {
    truth: name(sample.label),
    guess: `→ ${name(sample.predicted)} ${formatPercent(sample.confidence)}`,
    tooltip: `sample ${sample.index}: true ${name(sample.label)}, predicted ${name(sample.predicted)} (${formatPercent(sample.confidence)}), loss ${formatLoss(sample.loss)}`,
  };
}
