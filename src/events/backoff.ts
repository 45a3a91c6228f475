/**
 * Exponential backoff with full jitter between half and the whole delay: `base · 2^(attempt-1)`,
 * capped at `max`. Jitter spreads retries of many messages that failed together.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.5 + random() * 0.5));
}
