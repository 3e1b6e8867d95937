/** `2025-01-31 12:00:00Z` (UTC, to the second), or `-` when there is no time. */
export function formatTime(date: Date | null): string {
  return date ? `${date.toISOString().slice(0, 19).replace('T', ' ')}Z` : '-';
}
