export const segment = (s: string): string[] => [s];
