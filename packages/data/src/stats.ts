export interface DatasetStats {
  documents: number;
}

export function formatStats(stats: DatasetStats): string {
  return `documents: ${stats.documents}`;
}
