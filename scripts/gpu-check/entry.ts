/**
 * The GPU check's one entry point, bundled by bundle.mjs into `.gpu-check/bundle/lib/gpu-check.mjs`
 * and run by run.sh with the packed node binary (no pnpm, tsx or node_modules on the server):
 *
 *   gpu-check.mjs adapter                       the WebGPU adapter Dawn picks (high-performance)
 *   gpu-check.mjs conformance [backend] [--matmul LIST|all]   the tensor conformance suite (default
 *                                               webgpu), once per listed webgpu matmul kernel
 *   gpu-check.mjs matmuls                       the webgpu matmul kernels (SL_WEBGPU_MATMUL values)
 *   gpu-check.mjs bench <train-step|generation|webgpu-gemm> [options]   as `pnpm bench <name>` (--help: its options)
 *   gpu-check.mjs exp <command> [args]          as `pnpm exp <command>`
 */
import { runConformanceSuite } from '../../packages/tensor/src/testing/index.js';
import { backendNames, initBackend, matMulChoices, type BackendChoice, type MatMulChoice } from '../../packages/tensor/src/index.js';
import * as generation from '../../apps/bench/src/benches/generation.js';
import * as trainStep from '../../apps/bench/src/benches/train-step.js';
import * as webgpuGemm from '../../apps/bench/src/benches/webgpu-gemm.js';
import { printTable, writeBenchResult, type BenchModule } from '../../apps/bench/src/result.js';

const benches: Record<string, BenchModule> = { 'train-step': trainStep, generation, 'webgpu-gemm': webgpuGemm };

const usage = `usage: gpu-check.mjs adapter | conformance [backend] [--matmul LIST|all] | matmuls | bench <${Object.keys(benches).join('|')}> [options] | exp <command> [args]`;

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

/** `conformance [backend] [--matmul LIST|all]`: the suite against cpu, on webgpu once per matmul kernel (a column each). */
async function conformance(args: string[]): Promise<number> {
  const at = args.indexOf('--matmul');
  const list = at < 0 ? undefined : args[at + 1];
  if (at >= 0 && (list === undefined || list.startsWith('--'))) throw new Error('conformance: --matmul needs a list (comma-separated) or all');
  const [backend = 'webgpu', ...extra] = at < 0 ? args : [...args.slice(0, at), ...args.slice(at + 2)];
  if (extra.length > 0) throw new Error(`conformance: unexpected arguments ${extra.join(' ')}`);
  if (!(backendNames as readonly string[]).includes(backend)) throw new Error(`conformance: unknown backend "${backend}" (one of ${backendNames.join(', ')})`);
  const kernels = list === undefined ? [undefined] : list === 'all' ? [...matMulChoices] : list.split(',');
  for (const k of kernels) {
    if (k !== undefined && !(matMulChoices as readonly string[]).includes(k)) throw new Error(`conformance: unknown matmul "${k}" (one of ${matMulChoices.join(', ')}, or all)`);
  }
  if (list !== undefined && backend !== 'webgpu') throw new Error('conformance: --matmul chooses webgpu kernels; the backend must be webgpu');
  const t0 = performance.now();
  const columns: Array<{ name: string; results: Awaited<ReturnType<typeof runConformanceSuite>> }> = [];
  for (const k of kernels) {
    await initBackend(backend as BackendChoice, k === undefined ? {} : { gpu: { matmul: k as MatMulChoice }, log: false });
    columns.push({ name: k === undefined ? 'result' : `matmul ${k}`, results: await runConformanceSuite(backend as BackendChoice) });
  }
  const cell = (r: { error?: string }) => (r.error === undefined ? 'ok' : `FAIL: ${r.error}`);
  printTable(['case', ...columns.map((c) => c.name)], columns[0]!.results.map((r, i) => [r.name, ...columns.map((c) => cell(c.results[i]!))]));
  const cases = columns[0]!.results.length;
  let failed = 0;
  for (const c of columns) {
    const bad = c.results.filter((r) => r.error !== undefined).length;
    failed += bad;
    console.log(`conformance on ${backend}${c.name === 'result' ? '' : ` (${c.name})`}: ${cases - bad}/${cases} cases agree with cpu`);
  }
  console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  // Last line, for run.sh: the cases each kernel passed (it trains only with a kernel that passed all).
  const passed = Object.fromEntries(columns.map((c, i) => [kernels[i] ?? 'default', c.results.filter((r) => r.error === undefined).length]));
  console.log(JSON.stringify({ conformance: backend, cases, passed }));
  return failed === 0 ? 0 : 1;
}

async function bench(name: string | undefined, args: string[]): Promise<number> {
  const mod = name === undefined ? undefined : benches[name];
  if (mod === undefined) throw new Error(`bench: unknown benchmark "${name ?? ''}" (bundled: ${Object.keys(benches).join(', ')})`);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(mod.usage);
    return 0;
  }
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
  else if (command === 'conformance') code = await conformance(rest);
  else if (command === 'matmuls') {
    console.log(matMulChoices.join(' '));
    code = 0;
  }
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
