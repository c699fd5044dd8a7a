// The data the Training webview draws and the messages it exchanges with the extension;
// plain types only, shared by the extension host and the browser bundle.

import type { Finding, LayerGradStats, WorstSample } from '../../../engine/src/core/events.js';
import type { TextRange } from '../../../engine/src/lang/api.js';

/** One point of a curve: x is the global training step. */
export interface Point {
  x: number;
  y: number;
}

/**
 * One column of the gradient-flow chart: the engine's statistics of one layer at one step
 * (mean |g| and max |g| are the plot_grad_flow bars), as the run events carry them.
 */
export interface LayerGradient extends LayerGradStats {
  /** A finding (vanishing, exploding, dead units...) names this layer. */
  flagged: boolean;
}

export interface GradientFlow {
  /** The step the statistics come from; null for a probe. */
  step: number | null;
  layers: LayerGradient[];
}

/** A finding as the list shows it, with the 1-based line its range starts on (null when the file's text is unknown). */
export interface FindingItem extends Finding {
  line: number | null;
}

/** One epoch's confusion matrix: `counts[label][predicted]` over the evaluated split. */
export interface ConfusionMatrix {
  /** The epoch, counted from 0 as the events count it. */
  epoch: number;
  counts: number[][];
}

/** Everything the webview shows, computed on the extension side from run events. */
export interface TrainingView {
  /** `Net · mnist.nn`, or empty before the first run. */
  title: string;
  /** One line: `epoch 2/5 · step 340/1000 · loss 0.4123`, or how the run ended. */
  status: string;
  running: boolean;
  trainLoss: Point[];
  testLoss: Point[];
  testAccuracy: Point[];
  /** Accuracy on up to 1000 training samples, per epoch. */
  trainAccuracy: Point[];
  /** What the evaluated split is called: `test`, `validation` or `train-set`. */
  evaluatedSplit: string;
  gradientFlow: GradientFlow | null;
  findings: FindingItem[];
  /** The class of each label id, when the run classifies whole samples. */
  classNames: string[] | null;
  /** One per epoch so far, in order. */
  confusion: ConfusionMatrix[];
  /** The latest epoch's worst-classified samples, for image data. */
  worst: { epoch: number; samples: WorstSample[] } | null;
}

/** extension → webview. */
export type HostMessage = { type: 'update'; view: TrainingView };

/** webview → extension. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'revealLayer'; layer: string }
  | { type: 'revealRange'; range: TextRange };
