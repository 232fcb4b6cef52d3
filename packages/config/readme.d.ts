/** Runs a README's first ```ts block (after `heading`) as a module; returns its console output. */
export declare function runReadmeExample(readmeUrl: URL, options?: { heading?: string }): Promise<{ logs: string[]; errors: string[] }>;
