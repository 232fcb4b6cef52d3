/**
 * Reverse-mode gradients with early freeing: tfjs-core's `engine.gradients` (behind `tf.grads`,
 * `tf.variableGrads`, `optimizer.minimize`), except that each tape node's memory is released as
 * soon as its backward has run, as PyTorch does, instead of when the whole backward ends.
 *
 * Why: tfjs-core 4.x keeps every gradient its backward computes (`backpropagateGradients` in
 * tape.ts never disposes a node's incoming gradients, nor the partial sums it adds up) and every
 * tensor saved for the backward (disposed after the loop), so the step peaks at all activations
 * plus all gradients. Here, right after a node's backward:
 * - the gradients of its outputs are disposed, unless one of them was passed on unchanged (it is
 *   still held as another tensor's gradient), is the caller's `dy`, is a gradient to return, or
 *   was not created by this backward (a saved tensor, a kept or user-held tensor that a custom
 *   gradient returned): a reference count over the gradient map decides;
 * - the tensors it saved for the backward are disposed: tfjs disposes exactly these after the
 *   loop (each node saved its own clones, so another node's saved tensors or the user's are
 *   untouched; the data of a tensor saved by several nodes lives until the last clone goes);
 * - the temporaries of its gradient function are disposed (tfjs tracks those computed outside
 *   the per-input closures, e.g. a split, in the backward's scope until the end).
 * Saved tensors of nodes that do not connect xs to y are disposed before the loop.
 *
 * Gradients are bit-identical to tfjs's: the same tape, the same node order, the same gradient
 * functions and the same `add(accumulated, new)` order; only disposal times differ.
 *
 * Why a loop of our own and not a patch of tfjs-core: tfjs-core is a peer dependency, so the
 * copy that runs is the user's, where a patch applied by this repository's install (pnpm
 * `patchedDependencies`) never reaches; this file ships with the package. It walks tfjs's tape
 * through engine members that are not in its public typings (`state.activeTape`, `startTape`,
 * `endTape`, a node's `gradient` and `saved`); where they are missing (another tfjs-core
 * version), and for higher-order gradients (a backward inside another tape), it calls tfjs's
 * own `engine.gradients`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** A tfjs tape node (tfjs-core `tape.ts`, not exported). */
interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The engine members this file uses beyond tfjs's public typings. */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number; activeScope: { id: number } | null };
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, fn: () => T): T;
  startScope(name?: string): void;
  endScope(result?: tf.TensorContainer): void;
  gradients<T extends tf.Tensor>(f: () => T, xs: tf.Tensor[], dy?: T, allowNoGradients?: boolean): { value: T; grads: tf.Tensor[] };
}

function engine(): EngineInternals {
  return tf.engine() as unknown as EngineInternals;
}

function hasTapeInternals(e: EngineInternals): boolean {
  return typeof e.startTape === 'function' && typeof e.endTape === 'function' && typeof e.state?.gradientDepth === 'number';
}

/**
 * The nodes on a path from one of `xs` to `y`, in tape order, each with only its inputs that
 * depend on `xs` (tfjs-core's `getFilteredNodesXToY`, which it does not export).
 */
function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      for (const o of node.outputs) fromX.add(o.id);
      nodeFromX.add(node.id);
    }
  }
  const toY = new Set([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    const inputs = Object.values(node.inputs);
    if (inputs.length > 0 && node.outputs.some((o) => toY.has(o.id))) {
      for (const t of inputs) toY.add(t.id);
      nodeToY.add(node.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodeFromX.has(node.id) || !nodeToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs });
  }
  return out;
}

/**
 * Gradients of the tensors a backward holds, by the id of the tensor they are the gradient
 * of, with a count of the map entries holding each one (a gradient passed on unchanged is the
 * value of several entries). Frees a gradient when no entry holds it any more, if it is one
 * this backward created (`own`).
 */
class GradientMap {
  private readonly byId = new Map<number, tf.Tensor>();
  private readonly holders = new Map<tf.Tensor, number>();
  private readonly owned = new Set<tf.Tensor>();

  get(id: number): tf.Tensor | undefined {
    return this.byId.get(id);
  }

  holds(t: tf.Tensor): boolean {
    return this.holders.has(t);
  }

  /** Marks `t` as created by this backward: it may be freed once nothing holds it. */
  own(t: tf.Tensor): void {
    if (!t.kept) this.owned.add(t);
  }

  set(id: number, t: tf.Tensor): void {
    const prev = this.byId.get(id);
    this.byId.set(id, t);
    this.holders.set(t, (this.holders.get(t) ?? 0) + 1);
    if (prev !== undefined) this.release(prev);
  }

  delete(id: number): void {
    const prev = this.byId.get(id);
    if (prev === undefined) return;
    this.byId.delete(id);
    this.release(prev);
  }

  /** Frees `t` if this backward created it and no entry holds it. */
  freeIfUnheld(t: tf.Tensor): void {
    if (!this.holders.has(t) && this.owned.delete(t)) t.dispose();
  }

  private release(t: tf.Tensor): void {
    const n = this.holders.get(t)! - 1;
    if (n > 0) this.holders.set(t, n);
    else {
      this.holders.delete(t);
      this.freeIfUnheld(t);
    }
  }
}

/**
 * Runs one node's backward and accumulates its inputs' gradients into `grads`, then frees what
 * the node no longer needs (see the file comment). `keep` holds the ids whose gradients are
 * returned. Same checks and messages as tfjs-core's `backpropagateGradients`.
 */
function backpropNode(e: EngineInternals, node: TapeNode, grads: GradientMap, keep: Set<number>): void {
  const dys = node.outputs.map((o) => grads.get(o.id) ?? null);
  if (node.gradient == null) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
  const dxs: Array<[tf.Tensor, tf.Tensor]> = []; // [input, its gradient]
  e.startScope(`backward ${node.kernelName}`);
  const scopeId = e.state.activeScope!.id;
  try {
    const inputGradients = node.gradient(dys);
    for (const inputName in node.inputs) {
      if (!(inputName in inputGradients)) {
        throw new Error(`Cannot backprop through input ${inputName}. Available gradients found: ${Object.keys(inputGradients)}.`);
      }
      const dx = tf.tidy(() => inputGradients[inputName]!());
      if (dx.dtype !== 'float32') {
        throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${inputName} must have 'float32' dtype, but has '${dx.dtype}'`);
      }
      const x = node.inputs[inputName]!;
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input '${inputName}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
        );
      }
      // Created in this node's scope (a tidy result is re-tracked here): not a dy passed on, a
      // saved tensor or one the user holds.
      if (dx.scopeId === scopeId) grads.own(dx);
      dxs.push([x, dx]);
    }
  } finally {
    // Frees the gradient function's temporaries; the dxs move to the enclosing scope.
    e.endScope(dxs.map(([, dx]) => dx));
  }
  for (const s of node.saved ?? []) if (!grads.holds(s)) s.dispose();
  for (const [x, dx] of dxs) {
    const cur = grads.get(x.id);
    if (cur === undefined) grads.set(x.id, dx);
    else {
      const sum = tf.add(cur, dx);
      grads.own(sum);
      grads.set(x.id, sum);
      grads.freeIfUnheld(dx);
    }
  }
  for (const o of node.outputs) if (!keep.has(o.id)) grads.delete(o.id);
}

/**
 * `engine.gradients` (tfjs-core) with early freeing: runs `f` on a tape, then returns its value
 * and its gradients w.r.t. `xs` (undefined for an x that `f` does not depend on), times `dy`
 * (default ones). Both are owned by the caller. Throws, as tfjs does, when no x connects to the
 * result unless `allowNoGradients`.
 */
export function gradients<T extends tf.Tensor>(f: () => T, xs: tf.Tensor[], dy?: T, allowNoGradients = false): { value: T; grads: Array<tf.Tensor | undefined> } {
  const e = engine();
  if (!hasTapeInternals(e) || e.state.gradientDepth > 0) return e.gradients(f, xs, dy, allowNoGradients);
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  let y: T | undefined;
  let fromF = false; // y was created by f (not a tensor it returned as is): freed on failure
  e.startTape();
  e.startScope('forward'); // tfjs's tidy('forward', f), with a look at y's scope before it ends
  try {
    y = f();
    fromF = y instanceof tf.Tensor && y.scopeId === e.state.activeScope!.id && !y.kept;
  } catch (err) {
    for (const node of e.state.activeTape ?? []) for (const s of node.saved ?? []) s.dispose();
    e.state.activeTape = null;
    throw err;
  } finally {
    e.endScope(y);
    e.endTape();
  }
  const tape = e.state.activeTape ?? [];
  try {
    if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
    const path = nodesFromXsToY(tape, xs, y);
    if (!allowNoGradients && path.length === 0) {
      throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
    }
    const onPath = new Set(path.map((n) => n.id));
    for (const node of tape) if (!onPath.has(node.id)) for (const s of node.saved ?? []) s.dispose();
    return e.tidy('backward', () => {
      const grads = new GradientMap();
      const seed = dy ?? tf.ones(y.shape);
      if (dy == null) grads.own(seed);
      grads.set(y.id, seed);
      const keep = new Set(xs.map((x) => x.id));
      for (let i = path.length - 1; i >= 0; i--) backpropNode(e, path[i]!, grads, keep);
      return { value: y, grads: xs.map((x) => grads.get(x.id)) };
    });
  } catch (err) {
    if (fromF) y.dispose();
    throw err;
  } finally {
    for (const node of tape) for (const s of node.saved ?? []) s.dispose();
    e.state.activeTape = null;
  }
}

/**
 * `tf.variableGrads` with early freeing (see {@link gradients}): the value of `f` (a scalar)
 * and its gradients by variable name w.r.t. the trainable variables of `varList` (default:
 * every trainable variable); variables `f` does not depend on get none, and the non-trainable
 * ones of an explicit `varList` map to null, as in tfjs.
 */
export function variableGrads(f: () => tf.Scalar, varList?: tf.Variable[]): { value: tf.Scalar; grads: Record<string, tf.Tensor | null> } {
  const all = varList ?? Object.values(tf.engine().registeredVariables);
  const trainable = all.filter((v) => v.trainable);
  if (trainable.length === 0) {
    throw new Error(`variableGrads() expects at least one of the input variables to be trainable, but none of the ${all.length} variables is trainable.`);
  }
  const { value, grads } = gradients(f, trainable, undefined, true);
  if (grads.every((g) => g === undefined)) {
    tf.dispose(value);
    throw new Error('Cannot find a connection between any variable and the result of the loss function y=f(x). Make sure the operations that use the variables are inside f.');
  }
  if (value.rank !== 0) {
    tf.dispose([value, ...grads.filter((g) => g !== undefined)]);
    throw new Error(`The f passed in variableGrads(f) must return a scalar, but it returned a rank-${value.rank} tensor`);
  }
  const named: Record<string, tf.Tensor | null> = {};
  trainable.forEach((v, i) => {
    if (grads[i] !== undefined) named[v.name] = grads[i]!;
  });
  if (varList !== undefined) for (const v of varList) if (!v.trainable) named[v.name] = null;
  return { value, grads: named };
}
