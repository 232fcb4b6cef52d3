import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
const device = await adapter.requestDevice();
const code = `@group(0) @binding(0) var<storage, read_write> o: array<f32>; @group(0) @binding(1) var<storage, read> a: array<f32>; struct U { n: i32 }; @group(0) @binding(2) var<uniform> u: U;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { if (i32(g.x) < u.n) { o[g.x] = a[g.x] + 1.0; } }`;
const pipe = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
const bo = device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE });
const ba = device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE });
const bu = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
const N = 20000;
function t(name, f) { const t0 = performance.now(); for (let i = 0; i < N; i++) f(i); const us = (performance.now() - t0) * 1000 / N; console.log(name.padEnd(40), us.toFixed(2), 'us'); }
const layout = pipe.getBindGroupLayout(0);
t('getBindGroupLayout', () => pipe.getBindGroupLayout(0));
t('createBindGroup (cached layout)', () => device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: bo } }, { binding: 1, resource: { buffer: ba } }, { binding: 2, resource: { buffer: bu } }] }));
t('createBindGroup (getBindGroupLayout)', () => device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: bo } }, { binding: 1, resource: { buffer: ba } }, { binding: 2, resource: { buffer: bu } }] }));
const arr = new ArrayBuffer(16);
t('writeBuffer 16 B', () => device.queue.writeBuffer(bu, 0, arr, 0, 16));
const bg = device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: bo } }, { binding: 1, resource: { buffer: ba } }, { binding: 2, resource: { buffer: bu } }] });
for (const batch of [1, 15, 100]) {
  t(`record 1 dispatch, submit every ${batch}`, (() => { let enc, pass, k = 0; return (i) => {
    if (!enc) { enc = device.createCommandEncoder(); pass = enc.beginComputePass(); }
    pass.setPipeline(pipe); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(1); k++;
    if (k === batch || i === N - 1) { pass.end(); device.queue.submit([enc.finish()]); enc = undefined; k = 0; }
  }; })());
  await device.queue.onSubmittedWorkDone();
}
t('createBuffer 256 B', () => device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE }).destroy());
process.exit(0);
