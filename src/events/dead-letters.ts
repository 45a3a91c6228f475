import { CairnError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import type { Store } from "../store/types.js";

export interface DeadLetter {
  id: string;
  consumer: string;
  topic: string;
  key: string | null;
  payload: unknown;
  createdAt: number;
  failedAt: number;
  attempts: number;
  lastError: string | null;
}

interface Row {
  id: number;
  consumer: string;
  topic: string;
  key: string | null;
  payload: string;
  created_at: number;
  failed_at: number;
  attempts: number;
  last_error: string | null;
}

/** The dead-letter queue: inspect what ran out of attempts, send it back, or drop it. */
export class DeadLetters {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly sent: () => void,
  ) {}

  async list(
    options: { consumer?: string; limit?: number; after?: string } = {},
  ): Promise<{ items: DeadLetter[]; next?: string }> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const params: Array<string | number> = [];
    let where = "WHERE 1 = 1";
    if (options.consumer !== undefined) {
      where += " AND consumer = ?";
      params.push(options.consumer);
    }
    if (options.after !== undefined) {
      where += " AND id > ?";
      params.push(Number(options.after));
    }
    params.push(limit + 1);
    const rows = await this.store.read.all<Row>(
      `SELECT * FROM cairn_dead_letters ${where} ORDER BY id LIMIT ?`,
      params,
    );
    const items = rows.slice(0, limit).map(toDeadLetter);
    return rows.length > limit ? { items, next: items[items.length - 1]!.id } : { items };
  }

  async get(id: string): Promise<DeadLetter> {
    const row = await this.store.read.get<Row>("SELECT * FROM cairn_dead_letters WHERE id = ?", [Number(id)]);
    if (row === undefined) throw new CairnError("not_found", `no dead letter ${id}`);
    return toDeadLetter(row);
  }

  /** Send dead letters back to their consumer with a fresh count of attempts. Returns how many. */
  async redrive(selection: { id?: string; consumer?: string }): Promise<number> {
    const now = this.clock.now();
    const moved = await this.store.transaction(async (tx) => {
      const rows =
        selection.id !== undefined
          ? await tx.all<Row>("SELECT * FROM cairn_dead_letters WHERE id = ?", [Number(selection.id)])
          : selection.consumer !== undefined
            ? await tx.all<Row>("SELECT * FROM cairn_dead_letters WHERE consumer = ? ORDER BY id", [
                selection.consumer,
              ])
            : await tx.all<Row>("SELECT * FROM cairn_dead_letters ORDER BY id");
      for (const row of rows) {
        await tx.run(
          "INSERT INTO cairn_messages (consumer, topic, key, payload, created_at, available_at) VALUES (?, ?, ?, ?, ?, ?)",
          [row.consumer, row.topic, row.key, row.payload, Number(row.created_at), now],
        );
        await tx.run("DELETE FROM cairn_dead_letters WHERE id = ?", [row.id]);
      }
      return rows.length;
    });
    if (selection.id !== undefined && moved === 0)
      throw new CairnError("not_found", `no dead letter ${selection.id}`);
    if (moved > 0) this.sent();
    return moved;
  }

  async purge(selection: { id?: string; consumer?: string }): Promise<number> {
    return this.store.transaction(async (tx) => {
      if (selection.id !== undefined)
        return (await tx.run("DELETE FROM cairn_dead_letters WHERE id = ?", [Number(selection.id)])).changes;
      if (selection.consumer !== undefined)
        return (await tx.run("DELETE FROM cairn_dead_letters WHERE consumer = ?", [selection.consumer]))
          .changes;
      return (await tx.run("DELETE FROM cairn_dead_letters")).changes;
    });
  }
}

function toDeadLetter(row: Row): DeadLetter {
  let payload: unknown = row.payload;
  try {
    payload = JSON.parse(row.payload);
  } catch {
    // keep the text
  }
  return {
    id: String(row.id),
    consumer: row.consumer,
    topic: row.topic,
    key: row.key,
    payload,
    createdAt: Number(row.created_at),
    failedAt: Number(row.failed_at),
    attempts: Number(row.attempts),
    lastError: row.last_error,
  };
}
