/** A problem with the user's data (a file, a record, a setting), with where it was found. */
export class DataError extends Error {
  constructor(
    message: string,
    /** The file (or other input) the problem is in, when there is one. */
    readonly file?: string,
  ) {
    super(message);
    this.name = 'DataError';
  }
}
