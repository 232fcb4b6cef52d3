// node fastest-matmul.cjs <train-step.json> [conformance.json]: prints the matmul kernel
// (SL_WEBGPU_MATMUL value) of the fastest webgpu row (ms per step) of a train-step bench result,
// among tfjs's own and the kernels that passed every case of the conformance result (a kernel
// that computes garbage can be fast; without that file only tfjs counts); the choice, with its
// time against tfjs's and what was left out, goes to stderr. Exit 1 when the file has no
// webgpu rows. run.sh calls it with the packed node (plain CommonJS, no packages).
const fs = require('fs');

const [trainStep, conformance] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(trainStep, 'utf8'));
let passed = () => false;
try {
  const c = JSON.parse(fs.readFileSync(conformance, 'utf8'));
  passed = (k) => c.passed[k] === c.cases;
} catch {
  // no conformance figures: tfjs's kernel only
}
const kernel = (system) => (system.match(/SL_WEBGPU_MATMUL=(\w+)/) || [undefined, 'tfjs'])[1];
const all = r.results.filter((x) => x.metric === 'ms_per_step' && /^webgpu( \[SL_WEBGPU_MATMUL=\w+\])?$/.test(x.system));
const rows = all.filter((x) => kernel(x.system) === 'tfjs' || passed(kernel(x.system)));
if (rows.length === 0) process.exit(1);
const best = rows.reduce((a, b) => (b.value < a.value ? b : a));
const tfjs = rows.find((x) => x.system === 'webgpu');
const left = all.filter((x) => !rows.includes(x)).map((x) => kernel(x.system));
console.error(
  `matmul for the steps below: ${kernel(best.system)}, the fastest on the ${r.config.size} step (${best.value} ms${tfjs ? `; tfjs ${tfjs.value} ms` : ''})` +
    (left.length > 0 ? `; left out, not passing every conformance case: ${left.join(', ')}` : ''),
);
console.log(kernel(best.system));
