import type { BatchStream } from './loop.js';

/** Where an epoch-based stream is: the epoch and the batches already taken from it. */
export interface EpochPosition {
  epoch: number;
  index: number;
}

/**
 * An endless batch stream over epochs: `makeEpoch(e)` yields epoch e's batches (a shuffled,
 * deterministic order, as the data package's batchers give for a seed and epoch). The position
 * is (epoch, index); `seek` regenerates that epoch and skips `index` batches, so a resumed run
 * sees exactly the batches an uninterrupted one would.
 */
export function epochStream<B>(options: {
  makeEpoch: (epoch: number) => Iterator<B>;
  tokens: (batch: B) => number;
  dispose?: (batch: B) => void;
  /** Who is asking, for the "empty epoch" error. */
  what: string;
}): BatchStream<B> {
  let epoch = 0;
  let index = 0;
  let it = options.makeEpoch(0);
  const stream: BatchStream<B> = {
    next() {
      let r = it.next();
      if (r.done) {
        epoch += 1;
        index = 0;
        it = options.makeEpoch(epoch);
        r = it.next();
        if (r.done) throw new Error(`${options.what}: an epoch has no batches (is the training split empty?)`);
      }
      index += 1;
      return r.value;
    },
    position: (): EpochPosition => ({ epoch, index }),
    seek(position) {
      const p = position as EpochPosition;
      if (!(Number.isInteger(p?.epoch) && Number.isInteger(p?.index))) throw new Error(`${options.what}: bad stream position ${JSON.stringify(position)}`);
      epoch = p.epoch;
      index = 0;
      it = options.makeEpoch(epoch);
      for (let i = 0; i < p.index; i++) {
        const r = it.next();
        if (r.done) throw new Error(`${options.what}: position ${JSON.stringify(position)} is past the end of epoch ${epoch}`);
        options.dispose?.(r.value);
        index += 1;
      }
    },
    tokens: options.tokens,
  };
  if (options.dispose) stream.dispose = options.dispose;
  return stream;
}
