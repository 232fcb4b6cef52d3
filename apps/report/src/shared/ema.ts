/**
 * Debiased exponential moving average (as in Adam / TensorBoard): the running average is
 * divided by `1 - weight^n` so early points are not pulled towards zero. NaN/null points
 * are passed through as null and do not update the average. `weight` in [0, 1); 0 = raw.
 */
export function debiasedEma(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (!(weight >= 0 && weight < 1)) throw new Error(`smoothing weight must be in [0, 1), got ${weight}`);
  let avg = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    avg = weight * avg + (1 - weight) * v;
    n++;
    return avg / (1 - weight ** n);
  });
}
