// The comparison operators `< > <= >= == !=`: masks, 1 where the comparison holds and 0
// elsewhere, with NumPy broadcasting (or a number operand). A mask has no gradient; the
// checker marks it a mask (lang/values.ts), and both back ends hold it as float 0/1.

import type { Tensor } from '../tensor/tensor.js';
import type { ComparisonCode } from '../kernels/elementwise.js';
import type { ComparisonOp } from '../lang/syntax.js';
import { compute, elementwiseRule, onnxOperands, pyOperands, withOperand, type ElementwiseAttrs } from './arithmetic.js';
import { defineOpWith } from './def.js';
import { outputShape } from './shape-rule.js';
import { asTensor, requireFloat, type Operand } from './operand.js';

/** The mask a (op) b: recorded on no tape, so no gradient flows through it. */
function compare(code: ComparisonCode, a: Operand, b: Operand): Tensor {
  const x = asTensor(a, b);
  const y = asTensor(b, a);
  requireFloat(code, x, y);
  return compute(code, x, y, outputShape(COMPARISONS[code], [x.shape, y.shape], {}));
}

/** ONNX's comparison node for each op (`ne` is `Not(Equal)`), cast to float. */
const ONNX_OPS = { lt: 'Less', gt: 'Greater', le: 'LessOrEqual', ge: 'GreaterOrEqual', eq: 'Equal', ne: 'Equal' } as const;

function comparisonDef<const N extends ComparisonCode>(name: N, symbol: ComparisonOp, holds: string) {
  return defineOpWith<ElementwiseAttrs>()({
    name,
    surface: 'operator',
    notation: { kind: 'infix', symbol, operands: 'elementwise' },
    givesMask: true,
    params: [],
    doc: { summary: `The mask of where ${holds} (1 there, 0 elsewhere), with NumPy broadcasting.`, gradient: 'none: a mask is constant' },
    shape: elementwiseRule,
    takesMasks: true,
    gradInputs: () => [],
    ts: (inputs, attrs) => withOperand(attrs, inputs, (a, b) => compare(name, a, b)),
    onnx: {
      forward: (ctx, inputs, attrs) => {
        const holdsThere = ctx.b.op1(ONNX_OPS[name], onnxOperands(ctx, inputs, attrs));
        const mask = name === 'ne' ? ctx.b.op1('Not', [holdsThere]) : holdsThere;
        return { outputs: [ctx.b.op1('Cast', [mask], { to: 1 })] };
      },
      backward: (_ctx, _entry, _g, needs) => needs.map(() => null),
    },
    pytorch: (args, attrs) => {
      const [a, b] = pyOperands(args, attrs);
      return `(${a} ${symbol} ${b})`;
    },
  });
}

export const ltOp = comparisonDef('lt', '<', 'a < b');
export const gtOp = comparisonDef('gt', '>', 'a > b');
export const leOp = comparisonDef('le', '<=', 'a ≤ b');
export const geOp = comparisonDef('ge', '>=', 'a ≥ b');
export const eqOp = comparisonDef('eq', '==', 'a = b');
export const neOp = comparisonDef('ne', '!=', 'a ≠ b');

const COMPARISONS = { lt: ltOp, gt: gtOp, le: leOp, ge: geOp, eq: eqOp, ne: neOp } as const;
