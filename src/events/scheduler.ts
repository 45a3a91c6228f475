import { Cron } from "croner";
import type { HostLogger } from "../log/logger.js";
import { throttledWarn } from "../log/throttle.js";
import { CairnError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import type { Store } from "../store/types.js";
import { insertMessage } from "./publisher.js";
import { functionConsumer } from "./subscriptions.js";

export interface ScheduleSpec {
  functionName: string;
  cron: string;
  timezone: string;
  catchUp: boolean;
}

interface Armed {
  spec: ScheduleSpec;
  cron: Cron;
}

/**
 * Cron schedules that fire once per tick across every node and restart. A tick is a row: whoever
 * moves `next_at` from this tick to the next (a compare-and-set in one transaction) also enqueues
 * the invocation, so exactly one node fires it, and the invocation gets the usual retries.
 */
export class Scheduler {
  private readonly armed: Armed[];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly warning: ReturnType<typeof throttledWarn>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    specs: ScheduleSpec[],
    private readonly fired: () => void,
    private readonly logger: HostLogger,
  ) {
    this.armed = specs.map((spec) => ({ spec, cron: compile(spec) }));
    this.warning = throttledWarn(logger);
  }

  /** Make sure every schedule has its row; a changed expression starts from the next tick. */
  async start(): Promise<void> {
    const now = this.clock.now();
    await this.store.transaction(async (tx) => {
      for (const { spec, cron } of this.armed) {
        const key = `${spec.cron}@${spec.timezone}`;
        const row = await tx.get<{ cron: string }>("SELECT cron FROM cairn_schedules WHERE name = ?", [
          spec.functionName,
        ]);
        const next = nextTick(cron, now);
        if (row === undefined) {
          await tx.run(
            "INSERT INTO cairn_schedules (name, cron, next_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
            [spec.functionName, key, next],
          );
        } else if (row.cron !== key) {
          await tx.run("UPDATE cairn_schedules SET cron = ?, next_at = ? WHERE name = ?", [
            key,
            next,
            spec.functionName,
          ]);
        }
      }
    });
    await this.poll();
  }

  /** Fire every tick that is due (at most one per schedule: missed ticks collapse into one). */
  async poll(): Promise<void> {
    if (this.stopped) return;
    const now = this.clock.now();
    let wake = Number.POSITIVE_INFINITY;
    let firedAny = false;
    for (const { spec, cron } of this.armed) {
      const row = await this.store.read.get<{ next_at: number }>(
        "SELECT next_at FROM cairn_schedules WHERE name = ?",
        [spec.functionName],
      );
      if (row === undefined) continue;
      const due = Number(row.next_at);
      if (due > now) {
        wake = Math.min(wake, due);
        continue;
      }
      const following = nextTick(cron, now);
      const fire = spec.catchUp || now - due < 60_000;
      const won = await this.store.transaction(async (tx) => {
        const moved = await tx.run("UPDATE cairn_schedules SET next_at = ? WHERE name = ? AND next_at = ?", [
          following,
          spec.functionName,
          due,
        ]);
        if (moved.changes === 0) return false;
        if (fire) {
          const payload = JSON.stringify({ scheduledAt: due, cron: spec.cron });
          await insertMessage(tx, functionConsumer(spec.functionName), "schedule", null, payload, now, now);
        }
        return fire;
      });
      if (won) firedAny = true;
      wake = Math.min(wake, following);
    }
    if (firedAny) this.fired();
    this.arm(wake);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private arm(wake: number): void {
    if (this.stopped || !Number.isFinite(wake)) return;
    clearTimeout(this.timer);
    // Re-read at least every minute: another node may have moved a tick, or the clock jumped.
    const delay = Math.max(0, Math.min(60_000, wake - this.clock.now()));
    this.timer = setTimeout(() => {
      this.poll().catch((error: unknown) => {
        this.warning({ err: error }, "scheduler: checking schedules failed; retrying in a second");
        this.arm(this.clock.now() + 1000);
      });
    }, delay);
    this.timer.unref();
  }
}

function compile(spec: ScheduleSpec): Cron {
  try {
    return new Cron(spec.cron, { timezone: spec.timezone, paused: true });
  } catch (error) {
    throw new CairnError(
      "invalid_config",
      `${spec.functionName}: "${spec.cron}" (${spec.timezone}) is not a valid cron schedule: ${(error as Error).message}`,
    );
  }
}

function nextTick(cron: Cron, after: number): number {
  const next = cron.nextRun(new Date(after));
  if (next === null) return Number.MAX_SAFE_INTEGER;
  return next.getTime();
}
