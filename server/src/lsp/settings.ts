// The server's settings (`nn.*`), read through workspace/configuration, with defaults for
// editors that send none.

export interface Settings {
  backend: 'auto' | 'ts' | 'onnx';
  /** `nn.threads`: onnxruntime's intra-op threads or the TS engine's kernel threads in a training run; 0: every core. */
  threads: number;
  inlayHints: { shapes: boolean; gradients: boolean };
  maxNumberOfProblems: number;
  trace: { server: 'off' | 'messages' | 'verbose' };
  /** Cost budget of the init-time gradient pass per model, in FLOPs (0 turns it off). */
  liveGradients: { maxFlops: number };
  /** Models past these limits are not trained, probed or exported. */
  limits: { maxParameters: number; maxActivationBytes: number };
  /** The user's opt-in: `train` data paths may leave the workspace (the server still never writes outside). */
  allowPathsOutsideWorkspace: boolean;
  /** Where built-in data sets are cached and downloaded from ('' for the environment's or the defaults). */
  dataCache: string;
  dataMirror: string;
}

export const DEFAULT_SETTINGS: Settings = {
  backend: 'auto',
  threads: 0,
  inlayHints: { shapes: true, gradients: true },
  maxNumberOfProblems: 100,
  trace: { server: 'off' },
  liveGradients: { maxFlops: 2e9 },
  limits: { maxParameters: 100_000_000, maxActivationBytes: 2 ** 31 },
  allowPathsOutsideWorkspace: false,
  dataCache: '',
  dataMirror: '',
};

/** Settings from a (possibly partial, possibly malformed) `nn` configuration section. */
export function readSettings(section: unknown): Settings {
  const s = (typeof section === 'object' && section !== null ? section : {}) as Record<string, unknown>;
  const object = (v: unknown) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
  const bool = (v: unknown, d: boolean) => (typeof v === 'boolean' ? v : d);
  const string = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const number = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d);
  const hints = object(s.inlayHints);
  const trace = object(s.trace);
  return {
    backend: s.backend === 'ts' || s.backend === 'onnx' ? s.backend : 'auto',
    threads: Math.floor(number(s.threads, DEFAULT_SETTINGS.threads)),
    inlayHints: { shapes: bool(hints.shapes, true), gradients: bool(hints.gradients, true) },
    maxNumberOfProblems: Math.floor(number(s.maxNumberOfProblems, DEFAULT_SETTINGS.maxNumberOfProblems)),
    trace: { server: trace.server === 'messages' || trace.server === 'verbose' ? trace.server : 'off' },
    liveGradients: { maxFlops: number(object(s.liveGradients).maxFlops, DEFAULT_SETTINGS.liveGradients.maxFlops) },
    limits: {
      maxParameters: number(object(s.limits).maxParameters, DEFAULT_SETTINGS.limits.maxParameters),
      maxActivationBytes: number(object(s.limits).maxActivationBytes, DEFAULT_SETTINGS.limits.maxActivationBytes),
    },
    allowPathsOutsideWorkspace: bool(s.allowPathsOutsideWorkspace, false),
    dataCache: string(s.dataCache),
    dataMirror: string(s.dataMirror),
  };
}
