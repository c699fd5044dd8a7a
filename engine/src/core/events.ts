// Events a training run or probe emits; the CLI prints them, the server forwards them to
// the editor (see server/src/protocol.ts), and the run log stores one per line.

import type { TextRange } from '../lang/api.js';

/** Gradient statistics of one parameter at one step. */
export interface ParamGradStats {
  name: string; // state_dict name: `fc1.weight`
  layer: string; // `fc1`
  gradNorm: number; // L2 norm of the gradient
  gradMax: number; // max |g|
  gradMeanAbs: number; // mean |g| (the plot_grad_flow "mean" bar)
  zeroFraction: number; // fraction of exactly-zero gradient entries
  updateRatio: number; // ||update|| / ||weight|| for this step (0 in a probe)
  size: number; // gradient entries
  weightNorm: number; // ||weight|| after this step's update
}

/**
 * Gradient statistics of one layer (or block) at one step, over all its parameters' gradient
 * entries at once: what NN5001/NN5002, the editor's hovers and hints and the Training view's
 * chart all show (core/stats.ts `aggregateGradStats` is the one formula).
 */
export interface LayerGradStats {
  layer: string; // `fc1`, `res1.conv1`, or a block instance `res1`
  params: string[]; // its parameters' state_dict names
  gradNorm: number; // L2 norm over all its gradient entries
  gradMax: number; // max |g|
  gradMeanAbs: number; // mean |g| over all its gradient entries
  zeroFraction: number; // fraction of its gradient entries that are exactly zero
  updateRatio: number; // ||update|| / ||weight|| over all its parameters (0 in a probe)
}

/** Activation statistics of one activation op at one step. */
export interface ActivationStats {
  layer: string; // the op's binding or layer, e.g. `relu@12` when anonymous
  op: string; // an op with an activation kind in the registry (a rectifier or a saturating op)
  range: TextRange;
  deadFraction: number; // a rectifier: fraction of units that are zero for every sample of the batch
  saturatedFraction: number; // a saturating op: fraction of units with |f'| < 0.01 ... see docs/diagnostics.md
}

export type FindingCode = 'NN5001' | 'NN5002' | 'NN5003' | 'NN5004' | 'NN5005' | 'NN5006' | 'NN5007' | 'NN5008' | 'NN5009' | 'NN5010';

export interface Finding {
  code: FindingCode;
  severity: 'warning' | 'error';
  message: string;
  /** The layer or op it concerns, the model input (NN5009), or for a run-level finding the `train` key (`optimizer`, `epochs`). */
  layer: string;
  range: TextRange; // where in the .nn file the finding belongs (the layer's declaration, the op, or a `train` key's value)
  step: number;
  /** A one-token quick fix: `newText` replaces the text at `range` (a learning rate, an epoch count). */
  fix?: { title: string; newText: string };
}

export type RunEvent =
  | {
      type: 'start';
      model: string;
      backend: 'ts' | 'onnx';
      epochs: number;
      stepsPerEpoch: number;
      params: number;
      /** Threads the back end computes on (absent in run logs written before it was recorded). */
      threads?: number;
      resumedFrom?: number;
      /** Why the run uses the back end it does, when not the one asked for. */
      note?: string;
      /**
       * What each class id stands for, when the run classifies whole samples (the labels of an
       * epoch's `confusion` and `worst`): the data set's names (`Coat`), else the ids (`0`, `1`).
       */
      classNames?: string[];
    }
  | {
      type: 'step';
      epoch: number;
      step: number;
      loss: number;
      samplesPerSec: number;
      /** Per parameter, and per layer from them; empty on a step without statistics (ONNX samples them). */
      params: ParamGradStats[];
      layers: LayerGradStats[];
      activations: ActivationStats[];
    }
  | {
      type: 'epoch';
      epoch: number;
      step: number;
      trainLoss: number;
      testLoss: number;
      testAccuracy: number | null;
      /** Which split `testLoss`/`testAccuracy` come from: the data set's test split, the
       * `validate` fraction held out, or the training split when the data set has neither. */
      evaluatedOn?: EvaluatedOn;
      /**
       * Accuracy in eval mode on at most 1000 training samples, evenly spaced over the training
       * split (run/evaluate.ts); null without classes (absent in older run logs).
       */
      trainAccuracy?: number | null;
      /**
       * When the run classifies whole samples: counts over the evaluated split, `confusion[label][predicted]`
       * (rows the true class, columns the predicted one, as sklearn's confusion_matrix).
       */
      confusion?: number[][];
      /** For image data classified by the run: the evaluated samples with the highest loss, worst first. */
      worst?: WorstSample[];
    }
  | { type: 'finding'; finding: Finding }
  | { type: 'checkpoint'; step: number; path: string }
  | {
      type: 'end';
      /** `early_stop`: the evaluation loss did not improve for the block's `early_stopping` epochs. */
      reason: 'done' | 'cancelled' | 'nan' | 'early_stop';
      step: number;
      /** The last epoch's accuracy on the split `evaluatedOn` names. */
      testAccuracy: number | null;
      evaluatedOn?: EvaluatedOn;
      seconds: number;
      checkpoint: string | null;
      /** With `early_stopping`: the epoch of the lowest evaluation loss and the checkpoint kept from it. */
      best?: { epoch: number; loss: number; path: string };
      findings: Finding[];
    };

/** One sample of an epoch's worst-classified ones, small enough to travel in every epoch event. */
export interface WorstSample {
  /** Its index in the evaluated split (file order). */
  index: number;
  label: number;
  predicted: number;
  /** The softmax probability of the predicted class. */
  confidence: number;
  /** The sample's loss under the run's loss function. */
  loss: number;
  /** [channels, height, width]; channels 1 (grey) or 3 (RGB). */
  shape: [number, number, number];
  /**
   * The pixels as bytes, channel planes one after the other (the tensor's layout), base64;
   * each sample's values stretched over 0-255 (as matplotlib's imshow scales an image).
   */
  pixels: string;
}

/** The split a run evaluates on each epoch. */
export type EvaluatedOn = 'test' | 'validation' | 'train';

/**
 * The name of the evaluated split wherever a run's loss or accuracy is shown (terminal,
 * editor): an accuracy on the training data is never called a test accuracy.
 */
export function splitName(on: EvaluatedOn | undefined): string {
  return on === 'train' ? 'train-set' : on === 'validation' ? 'validation' : 'test';
}
