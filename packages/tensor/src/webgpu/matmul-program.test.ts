import { describe, expect, it } from 'vitest';
import { matMulTilings } from './matmul.js';
import { tiledProgram } from './matmul-program.js';

describe('tiledProgram', () => {
  it("writes a shader key's WGSL once, when it is first compiled, not per dispatch", () => {
    let builds = 0;
    const build = () => {
      builds += 1;
      return `// code ${builds}`;
    };
    const key = `test_${Math.random()}`;
    const epilogue = { bias: false, residual: false };
    // A program per dispatch, as the kernels make them: none of them writes the text.
    const programs = [3, 5, 7].map((m) => tiledProgram(matMulTilings.vec64, 1, m, 9, epilogue, key, build, [4, 4]));
    expect(builds).toBe(0);
    expect(programs[0]!.shaderKey).toBe(key);
    expect(programs[0]!.dispatch).toEqual([1, 1, 1]);
    // tfjs asks for the text when it compiles the key; later asks reuse it.
    expect(programs.map((p) => p.getUserCode())).toEqual(['// code 1', '// code 1', '// code 1']);
    expect(builds).toBe(1);
  });
});
