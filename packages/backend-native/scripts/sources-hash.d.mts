/** sha256 (hex) of binding.gyp and every file of native/src under `pkgDir`, names included. */
export function sourcesHash(pkgDir: string): string;
