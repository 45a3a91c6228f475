import type { Clock } from "../shared/clock.js";
import type { Store } from "../store/types.js";
import type { Consumer } from "./dispatcher.js";

export interface ConsumerStats {
  consumer: string;
  function: string | undefined;
  kind: string | undefined;
  /** Due now, waiting for a free slot. */
  ready: number;
  /** Not due yet: delayed sends and backed-off retries. */
  delayed: number;
  /** Leased by a node right now. */
  inflight: number;
  /** Failed at least once and waiting for another attempt. */
  retrying: number;
  dead: number;
}

/** Depth, in-flight, retries and dead letters per consumer, straight from the store. */
export class QueueStats {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly consumers: Consumer[],
  ) {}

  async all(): Promise<ConsumerStats[]> {
    const now = this.clock.now();
    const rows = await this.store.read.all<{
      consumer: string;
      ready: number;
      delayed: number;
      inflight: number;
      retrying: number;
    }>(
      `SELECT consumer,
         SUM(CASE WHEN lease_owner IS NULL AND available_at <= ? THEN 1 ELSE 0 END) AS ready,
         SUM(CASE WHEN lease_owner IS NULL AND available_at > ? THEN 1 ELSE 0 END) AS delayed,
         SUM(CASE WHEN lease_owner IS NOT NULL AND available_at > ? THEN 1 ELSE 0 END) AS inflight,
         SUM(CASE WHEN lease_owner IS NULL AND attempts > 0 THEN 1 ELSE 0 END) AS retrying
       FROM cairn_messages GROUP BY consumer`,
      [now, now, now],
    );
    const dead = await this.store.read.all<{ consumer: string; n: number }>(
      "SELECT consumer, COUNT(*) AS n FROM cairn_dead_letters GROUP BY consumer",
    );
    const out = new Map<string, ConsumerStats>();
    const entry = (consumer: string): ConsumerStats => {
      let stats = out.get(consumer);
      if (stats === undefined) {
        const known = this.consumers.find((candidate) => candidate.id === consumer);
        stats = {
          consumer,
          function: known?.functionName,
          kind: known?.kind,
          ready: 0,
          delayed: 0,
          inflight: 0,
          retrying: 0,
          dead: 0,
        };
        out.set(consumer, stats);
      }
      return stats;
    };
    for (const consumer of this.consumers) entry(consumer.id);
    for (const row of rows) {
      const stats = entry(row.consumer);
      stats.ready = Number(row.ready);
      stats.delayed = Number(row.delayed);
      stats.inflight = Number(row.inflight);
      stats.retrying = Number(row.retrying);
    }
    for (const row of dead) entry(row.consumer).dead = Number(row.n);
    return [...out.values()].sort((a, b) => (a.consumer < b.consumer ? -1 : 1));
  }
}
