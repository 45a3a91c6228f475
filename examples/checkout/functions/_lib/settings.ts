/** The example's settings (cairn.config.ts `vars`, overridable from the environment), parsed. */
export interface Settings {
  paymentsUrl: string;
  latencyMs: number;
  failureRate: number;
  confirmDelayMs: number;
  confirmationTimeoutMs: number;
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "250ms", "30s", "5m", "1h" or plain milliseconds. */
function ms(value: string | undefined, fallback: number): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec((value ?? "").trim());
  return match ? Number(match[1]) * units[match[2] ?? "ms"]! : fallback;
}

export function settings(env: Readonly<Record<string, string>>): Settings {
  const rate = Number(env.PAYMENT_FAILURE_RATE);
  return {
    paymentsUrl: (env.PAYMENTS_URL ?? "").replace(/\/+$/, ""),
    latencyMs: ms(env.PAYMENT_LATENCY_MS, 40),
    failureRate: Number.isFinite(rate) ? Math.min(Math.max(rate, 0), 1) : 0.1,
    confirmDelayMs: ms(env.PAYMENT_CONFIRM_DELAY, 2000),
    confirmationTimeoutMs: ms(env.CONFIRMATION_TIMEOUT, 30_000),
  };
}
