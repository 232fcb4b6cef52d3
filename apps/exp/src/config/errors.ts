/** A configuration problem, with the file and key path it comes from. Printed without a stack. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly keyPath?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `file: a.b.c: reason`, leaving out what is unknown. */
export function describeAt(file: string | undefined, keyPath: string | undefined, reason: string): string {
  return [file, keyPath, reason].filter((s) => s !== undefined && s !== '').join(': ');
}
