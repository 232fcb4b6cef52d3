/** A run folder (or one file in it) that does not follow the format; names the file and why. */
export class RunFormatError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'RunFormatError';
  }
}
