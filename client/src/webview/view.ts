// The data the Training webview draws and the messages it exchanges with the extension;
// plain types only, shared by the extension host and the browser bundle.

import type { Finding, LayerGradStats } from '../../../engine/src/core/events.js';
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
  gradientFlow: GradientFlow | null;
  findings: Finding[];
}

/** extension → webview. */
export type HostMessage = { type: 'update'; view: TrainingView };

/** webview → extension. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'revealLayer'; layer: string }
  | { type: 'revealRange'; range: TextRange };
