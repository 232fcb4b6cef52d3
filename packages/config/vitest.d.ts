import type { UserConfig } from 'vitest/config';
export declare function preset(options?: { testTimeout?: number }): UserConfig;
