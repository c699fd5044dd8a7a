// The confusion matrix as an SVG heat map: a row per true class, a column per predicted
// class, each cell shaded by its share of the row (the class's recall on the diagonal, its
// confusions off it) and labelled with its count. Pure string building, tested in Node.

import { escapeXml } from './charts.js';
import { formatPercent } from '../training/format.js';

/** Cell size, the room the class names take on the left and on top, and the room the last slanted name runs into on the right. */
const CELL = 34;
const LEFT = 110;
const TOP = 96;
const RIGHT = 64;
const PAD = 8;

/** The share of `row` that `cell` is (0 for an empty row). */
export function rowShare(row: readonly number[], cell: number): number {
  const total = row.reduce((a, b) => a + b, 0);
  return total > 0 ? cell / total : 0;
}

/** `counts[label][predicted]`, with `classNames[id]` as the axis labels (the ids when there are too few names). */
export function confusionSvg(counts: readonly (readonly number[])[], classNames: readonly string[]): string {
  const n = counts.length;
  const name = (id: number): string => classNames[id] ?? String(id);
  const width = LEFT + n * CELL + RIGHT;
  const height = TOP + n * CELL + PAD;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" preserveAspectRatio="xMinYMin meet">`,
    `<text class="axis-title" x="${LEFT + (n * CELL) / 2}" y="12" text-anchor="middle">predicted</text>`,
    `<text class="axis-title" x="12" y="${TOP + (n * CELL) / 2}" text-anchor="middle" transform="rotate(-90 12 ${TOP + (n * CELL) / 2})">true</text>`,
  ];
  for (let id = 0; id < n; id++) {
    const label = escapeXml(name(id));
    const columnX = LEFT + id * CELL + CELL / 2;
    parts.push(`<text class="class-name" x="${columnX}" y="${TOP - 6}" text-anchor="start" transform="rotate(-50 ${columnX} ${TOP - 6})">${label}</text>`);
    parts.push(`<text class="class-name" x="${LEFT - 6}" y="${TOP + id * CELL + CELL / 2}" text-anchor="end" dominant-baseline="middle">${label}</text>`);
  }
  counts.forEach((row, label) => {
    row.forEach((count, predicted) => {
      const share = rowShare(row, count);
      const x = LEFT + predicted * CELL;
      const y = TOP + label * CELL;
      const kind = label === predicted ? 'right' : 'wrong';
      const tooltip = `true ${name(label)}, predicted ${name(predicted)}: ${count} (${formatPercent(share)} of ${name(label)})`;
      parts.push(
        `<g class="cell ${kind}" data-label="${label}" data-predicted="${predicted}"><title>${escapeXml(tooltip)}</title>` +
          `<rect class="cell-frame" x="${x}" y="${y}" width="${CELL}" height="${CELL}"/>` +
          `<rect class="cell-fill" x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill-opacity="${share.toFixed(3)}"/>` +
          `<text class="count${share > 0.5 ? ' strong' : ''}" x="${x + CELL / 2}" y="${y + CELL / 2}" text-anchor="middle" dominant-baseline="middle">${count}</text></g>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('');
}
