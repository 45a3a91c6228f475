import type { Clock } from "../shared/clock.js";
import type { HostLogger } from "../log/logger.js";
import { throttledWarn } from "../log/throttle.js";
import type { Store } from "../store/types.js";
import { releaseLeases } from "./messages.js";

/** How often a running node says so. */
export const heartbeatIntervalMs = 2_000;
/**
 * A node not heard from for this long is taken for dead and its leases are handed back. Well above
 * the heartbeat interval (a busy or briefly disconnected node is not dead), and it assumes node
 * clocks agree to within a few seconds, as NTP keeps them.
 */
export const nodeTimeoutMs = 15_000;

/**
 * The nodes serving an app, as rows in its store: each node refreshes its own row every
 * `heartbeatIntervalMs` and looks for rows older than `nodeTimeoutMs`. A node killed without
 * handing its leases back (SIGKILL, a lost machine) stops refreshing; another node then releases
 * its leases, so its messages and workflow runs resume within seconds instead of when each lease
 * would have expired (a consumer's timeout plus 10 s, minutes for long ones). Should a node taken
 * for dead still be running, it finds its leases gone: its outcomes are not recorded and the
 * messages are delivered again (at least once, as always; workflow runs refuse stale activations).
 */
export class NodeRegistry {
  private timer: NodeJS.Timeout | undefined;
  private readonly warn: ReturnType<typeof throttledWarn>;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly id: string,
    private readonly logger: HostLogger,
    private readonly onReleased: () => void,
  ) {
    this.warn = throttledWarn(logger);
  }

  /** Announce this node before it takes any lease (a lease whose owner has no row is never released early). */
  async join(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beating ??= this.tick().finally(() => (this.beating = undefined));
    }, heartbeatIntervalMs);
    this.timer.unref();
  }

  /** Stop announcing (the row stays, and goes stale like a killed node's). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stop announcing and remove this node's row (its leases were handed back already). */
  async leave(): Promise<void> {
    this.stop();
    await this.beating;
    try {
      await this.store.transaction((tx) => tx.run("DELETE FROM cairn_nodes WHERE id = ?", [this.id]));
    } catch (error) {
      this.logger.debug({ err: error }, "nodes: could not remove this node's row; others will");
    }
  }

  /** Release the leases of every node not heard from in `nodeTimeoutMs`; returns how many. */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    const stale = await this.store.read.all<{ id: string; seen_at: number }>(
      "SELECT id, seen_at FROM cairn_nodes WHERE seen_at < ? AND id <> ?",
      [now - nodeTimeoutMs, this.id],
    );
    let released = 0;
    for (const node of stale) {
      // Deleting the row first makes one node do it when several sweep at once.
      const count = await this.store.transaction(async (tx) => {
        const gone = await tx.run("DELETE FROM cairn_nodes WHERE id = ? AND seen_at < ?", [
          node.id,
          now - nodeTimeoutMs,
        ]);
        return gone.changes === 0 ? 0 : releaseLeases(tx, node.id, now);
      });
      if (count > 0)
        this.logger.warn(
          { node: node.id, released: count, silentMs: now - Number(node.seen_at) },
          "a node stopped without handing back its leases; took them back",
        );
      released += count;
    }
    if (released > 0) this.onReleased();
    return released;
  }

  private async tick(): Promise<void> {
    try {
      await this.beat();
      await this.sweep();
    } catch (error) {
      this.warn({ err: error }, "nodes: the heartbeat failed; retrying");
    }
  }

  private beat(): Promise<unknown> {
    const now = this.clock.now();
    return this.store.transaction((tx) =>
      tx.run(
        `INSERT INTO cairn_nodes (id, started_at, seen_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`,
        [this.id, now, now],
      ),
    );
  }
}
