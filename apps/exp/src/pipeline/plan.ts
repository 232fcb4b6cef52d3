import { ConfigError, describeAt } from '../config/errors.js';
import type { AnyStage, PipelineConfig, StageSection } from '../stages/types.js';

/** One stage of a validated pipeline, ready to run once its inputs exist. */
export interface PlannedStage {
  name: string;
  stage: AnyStage;
  /** The stage's own options: the section without `kind` and `inputs`. */
  options: Record<string, unknown>;
  /** Slot -> stage name(s), as written in the config. */
  inputs: Record<string, string | string[]>;
  /** Names of the stages this one needs, in slot order. */
  deps: string[];
}

/**
 * Checks what the schema cannot: every `inputs` slot exists for the kind and names existing
 * stages of an accepted kind, required slots are filled, what a stage needs of its inputs'
 * configs holds (`Stage.checkInputs`), and there is no cycle. Returns the
 * stages in dependency order (ties keep the order of the config file). Errors name the file
 * and key path (`stages.sllm.inputs.svae`).
 */
export function planPipeline(config: PipelineConfig, registry: ReadonlyMap<string, AnyStage>, file?: string): PlannedStage[] {
  const fail = (keyPath: string, reason: string): never => {
    throw new ConfigError(describeAt(file, keyPath, reason), file, keyPath);
  };
  const sections = config.stages;
  const names = Object.keys(sections);
  const planned = new Map<string, PlannedStage>();
  for (const [name, section] of Object.entries(sections)) {
    const stage = registry.get(section.kind) ?? fail(`stages.${name}.kind`, `unknown stage kind "${section.kind}"`);
    const { kind: _kind, inputs, ...options } = section as StageSection;
    const deps: string[] = [];
    for (const [slot, value] of Object.entries(inputs)) {
      const at = `stages.${name}.inputs.${slot}`;
      const spec =
        stage.inputs[slot] ??
        fail(at, `a ${stage.kind} stage has no input "${slot}" (inputs: ${Object.keys(stage.inputs).join(', ') || 'none'})`);
      const refs = Array.isArray(value) ? value : [value];
      if (Array.isArray(value) && !spec.many) fail(at, 'takes one stage name, not a list');
      for (const ref of refs) {
        const target = sections[ref] ?? fail(at, `unknown stage "${ref}" (stages: ${names.join(', ')})`);
        if (ref === name) fail(at, 'a stage cannot be its own input');
        if (!spec.kinds.includes(target.kind)) fail(at, `stage "${ref}" is a ${target.kind} stage; expected ${spec.kinds.join(' or ')}`);
        if (!deps.includes(ref)) deps.push(ref);
      }
    }
    for (const [slot, spec] of Object.entries(stage.inputs)) {
      if (!spec.optional && inputs[slot] === undefined) fail(`stages.${name}.inputs`, `missing input "${slot}" (${spec.description})`);
    }
    const inputSections = Object.fromEntries(Object.entries(inputs).map(([slot, v]) => [slot, Array.isArray(v) ? v.map((r) => sections[r]!) : sections[v]!]));
    const problem = stage.checkInputs?.(options, inputSections, inputs);
    if (problem) fail(`stages.${name}.${problem.keyPath}`, problem.reason);
    planned.set(name, { name, stage, options, inputs, deps });
  }
  const order: PlannedStage[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') fail(`stages.${name}.inputs`, `dependency cycle: ${[...path, name].join(' -> ')}`);
    state.set(name, 'visiting');
    const p = planned.get(name)!;
    for (const d of p.deps) visit(d, [...path, name]);
    state.set(name, 'done');
    order.push(p);
  };
  for (const name of names) visit(name, []);
  return order;
}

/** The stages `target` depends on, transitively, and `target` itself, in plan order. */
export function upstreamOf(plan: PlannedStage[], target: string): PlannedStage[] {
  const byName = new Map(plan.map((p) => [p.name, p]));
  const keep = new Set<string>();
  const add = (n: string): void => {
    if (keep.has(n)) return;
    keep.add(n);
    for (const d of byName.get(n)?.deps ?? []) add(d);
  };
  add(target);
  return plan.filter((p) => keep.has(p.name));
}
