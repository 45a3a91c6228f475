/** A duration as milliseconds or a string such as "250ms", "30s", "5m", "2h", "7d". */
export type Duration = number | `${number}${DurationUnit}`;
type DurationUnit = "ms" | "s" | "m" | "h" | "d";

const unitMs: Record<DurationUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const pattern = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

export function parseDuration(value: number | string, field = "duration"): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const match = pattern.exec(value.trim());
    if (match) return Number(match[1]) * unitMs[match[2] as DurationUnit];
  }
  throw new TypeError(
    `${field}: expected milliseconds or a string like "30s", "5m", "7d", got ${JSON.stringify(value)}`,
  );
}
