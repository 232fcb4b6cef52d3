/**
 * The GPU check's one entry point, bundled by bundle.mjs into `.gpu-check/bundle/lib/gpu-check.mjs`
 * and run by run.sh with the packed node binary (no pnpm, tsx or node_modules on the server):
 *
 *   gpu-check.mjs adapter                       the WebGPU adapter Dawn picks (high-performance)
 *   gpu-check.mjs conformance [backend]         the tensor conformance suite (default webgpu)
 *   gpu-check.mjs bench <train-step|generation> [options]   as `pnpm bench <name>`
 *   gpu-check.mjs exp <command> [args]          as `pnpm exp <command>`
 */
import { runConformanceSuite } from '../../packages/tensor/src/testing/index.js';
import { backendNames, initBackend, type BackendChoice } from '../../packages/tensor/src/index.js';
import * as generation from '../../apps/bench/src/benches/generation.js';
import * as trainStep from '../../apps/bench/src/benches/train-step.js';
import { printTable, writeBenchResult, type BenchModule } from '../../apps/bench/src/result.js';

const benches: Record<string, BenchModule> = { 'train-step': trainStep, generation };

const usage = `usage: gpu-check.mjs adapter | conformance [backend] | bench <${Object.keys(benches).join('|')}> [options] | exp <command> [args]`;

/** The features that decide how far WGSL kernels can go on this adapter. */
const FEATURES_OF_INTEREST = ['shader-f16', 'subgroups', 'subgroup-size-control', 'chromium-experimental-subgroup-matrix', 'timestamp-query'];

interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

/**
 * What Dawn offers with its experimental features unlocked (`allow_unsafe_apis`): the features
 * above and the subgroup-matrix shapes and types (tensor-core matrices from WGSL), which decide
 * whether matmuls can use them: NVIDIA's Vulkan cooperative matrices take f16/bf16/int8 inputs, so
 * without shader-f16 there may be no float configuration at all.
 */
async function adapterFeatures(): Promise<void> {
  const specifier = 'webgpu';
  const dawn = (await import(/* @vite-ignore */ specifier)) as { create(flags: string[]): { requestAdapter(o?: object): Promise<{ features: Set<string>; info: { subgroupMatrixConfigs?: SubgroupMatrixConfig[]; subgroupMinSize?: number; subgroupMaxSize?: number }; limits: Record<string, number> } | null> } };
  const adapter = await dawn.create(['enable-dawn-features=allow_unsafe_apis']).requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) return;
  console.log(`features: ${FEATURES_OF_INTEREST.map((f) => `${f} ${adapter.features.has(f) ? 'yes' : 'no'}`).join(', ')}`);
  const { subgroupMinSize, subgroupMaxSize, subgroupMatrixConfigs } = adapter.info;
  if (subgroupMinSize !== undefined) console.log(`subgroup size: ${subgroupMinSize}-${subgroupMaxSize}`);
  const configs = subgroupMatrixConfigs ?? [];
  console.log(`subgroup-matrix configs (${configs.length}): ${configs.map((c) => `${c.componentType}->${c.resultComponentType} ${c.M}x${c.N}x${c.K}`).join(', ') || 'none'}`);
  const limits = ['maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage', 'maxStorageBufferBindingSize'];
  console.log(`limits: ${limits.map((k) => `${k} ${adapter.limits[k]}`).join(', ')}`);
}

/** The adapter `initBackend('webgpu')` picks (high-performance, Dawn's default selector), or why there is none. */
async function adapter(): Promise<number> {
  try {
    const { device } = await initBackend('webgpu', { log: false });
    console.log(`webgpu adapter: ${device!.description || device!.device} (vendor ${device!.vendor || '?'}, architecture ${device!.architecture || '?'}, device ${device!.device || '?'}${device!.software ? ', software' : ''})`);
  } catch (e) {
    console.log(`webgpu adapter: none (${(e as Error).message})`);
    return 1;
  }
  try {
    await adapterFeatures();
  } catch (e) {
    console.log(`adapter features: not read (${(e as Error).message})`);
  }
  return 0;
}

async function conformance(backend: string): Promise<number> {
  if (!(backendNames as readonly string[]).includes(backend)) throw new Error(`conformance: unknown backend "${backend}" (one of ${backendNames.join(', ')})`);
  await initBackend(backend as BackendChoice);
  const t0 = performance.now();
  const results = await runConformanceSuite(backend as BackendChoice);
  printTable(['case', 'result'], results.map((r) => [r.name, r.error === undefined ? 'ok' : `FAIL: ${r.error}`]));
  const failed = results.filter((r) => r.error !== undefined).length;
  console.log(`conformance on ${backend}: ${results.length - failed}/${results.length} cases agree with cpu (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return failed === 0 ? 0 : 1;
}

async function bench(name: string | undefined, args: string[]): Promise<number> {
  const mod = name === undefined ? undefined : benches[name];
  if (mod === undefined) throw new Error(`bench: unknown benchmark "${name ?? ''}" (bundled: ${Object.keys(benches).join(', ')})`);
  const result = await mod.run(args);
  console.error(`(written to ${writeBenchResult(result)})`);
  console.log(JSON.stringify(result));
  return 0;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'exp') {
    // The exp CLI parses process.argv itself (commander, from argv[2]) and sets process.exitCode.
    process.argv = [process.argv[0]!, process.argv[1]!, ...rest];
    await import('../../apps/exp/src/cli.js');
    return;
  }
  let code: number;
  if (command === 'adapter') code = await adapter();
  else if (command === 'conformance') code = await conformance(rest[0] ?? 'webgpu');
  else if (command === 'bench') code = await bench(rest[0], rest.slice(1));
  else {
    console.error(usage);
    code = 2;
  }
  process.exitCode = code;
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  console.error(`gpu-check: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
