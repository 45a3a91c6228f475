import type { SqlExecutor } from "../store/types.js";

/** A claimed message row. */
export interface MessageRow {
  id: number;
  topic: string;
  key: string | null;
  payload: string;
  attempts: number;
  created_at: number;
}

/**
 * Lease up to `limit` due messages of a consumer. While leased, a message's `available_at` is its
 * lease expiry, so a message whose node died becomes due again by itself. Messages with an ordering
 * key wait for every earlier message with that key to be gone (delivered or dead-lettered).
 * The longest due go first: ordered by (available_at, id), the order of the due index, so a claim
 * reads `limit` rows of a backlog instead of sorting all of it.
 */
export async function claim(
  tx: SqlExecutor,
  consumer: string,
  now: number,
  leaseUntil: number,
  owner: string,
  limit: number,
): Promise<MessageRow[]> {
  const skipLocked = tx.dialect === "postgres" ? " FOR UPDATE SKIP LOCKED" : "";
  const rows = await tx.all<MessageRow>(
    `UPDATE cairn_messages SET lease_until = ?, available_at = ?, lease_owner = ?, attempts = attempts + 1
     WHERE id IN (
       SELECT m.id FROM cairn_messages m
       WHERE m.consumer = ? AND m.available_at <= ?
         AND (m.key IS NULL OR NOT EXISTS (
           SELECT 1 FROM cairn_messages o WHERE o.consumer = m.consumer AND o.key = m.key AND o.id < m.id))
       ORDER BY m.available_at, m.id LIMIT ?${skipLocked}
     )
     RETURNING id, topic, key, payload, attempts, created_at`,
    [leaseUntil, leaseUntil, owner, consumer, now, limit],
  );
  for (const row of rows) {
    row.id = Number(row.id);
    row.attempts = Number(row.attempts);
    row.created_at = Number(row.created_at);
  }
  return rows.sort((a, b) => a.id - b.id);
}

/** Delivered: gone for good (only if this node still holds the lease). */
export async function acknowledge(tx: SqlExecutor, id: number, owner: string): Promise<void> {
  await tx.run("DELETE FROM cairn_messages WHERE id = ? AND lease_owner = ?", [id, owner]);
}

/** Deliver again at `availableAt`. */
export async function reschedule(
  tx: SqlExecutor,
  id: number,
  owner: string,
  availableAt: number,
  error: string | null,
): Promise<void> {
  await tx.run(
    "UPDATE cairn_messages SET available_at = ?, lease_until = NULL, lease_owner = NULL, last_error = ? WHERE id = ? AND lease_owner = ?",
    [availableAt, error, id, owner],
  );
}

/** Out of attempts: move to the dead-letter queue with the last error. */
export async function deadLetter(
  tx: SqlExecutor,
  id: number,
  owner: string,
  now: number,
  error: string | null,
): Promise<void> {
  const moved = await tx.run(
    `INSERT INTO cairn_dead_letters (id, consumer, topic, key, payload, created_at, failed_at, attempts, last_error)
     SELECT id, consumer, topic, key, payload, created_at, ?, attempts, ? FROM cairn_messages WHERE id = ? AND lease_owner = ?`,
    [now, error, id, owner],
  );
  if (moved.changes > 0) await tx.run("DELETE FROM cairn_messages WHERE id = ?", [id]);
}

/** Give leases back at once (a node stopping): the messages are due again immediately. */
export async function releaseLeases(tx: SqlExecutor, owner: string, now: number): Promise<number> {
  const released = await tx.run(
    "UPDATE cairn_messages SET available_at = ?, lease_until = NULL, lease_owner = NULL WHERE lease_owner = ?",
    [now, owner],
  );
  return released.changes;
}

/**
 * Hand back the leases of owners that are gone (`alive` says no): their messages are due at once
 * instead of when the leases expire. Returns how many messages were released.
 */
export async function releaseOrphanedLeases(
  tx: SqlExecutor,
  now: number,
  alive: (owner: string) => boolean,
): Promise<number> {
  const owners = await tx.all<{ owner: string }>(
    "SELECT DISTINCT lease_owner AS owner FROM cairn_messages WHERE lease_owner IS NOT NULL",
  );
  let released = 0;
  for (const { owner } of owners) if (!alive(owner)) released += await releaseLeases(tx, owner, now);
  return released;
}

/** The earliest time a message of this consumer is (or becomes) due, or undefined when it has none. */
export async function nextDue(read: SqlExecutor, consumer: string): Promise<number | undefined> {
  const row = await read.get<{ next: number | null }>(
    "SELECT MIN(available_at) AS next FROM cairn_messages WHERE consumer = ?",
    [consumer],
  );
  return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
}

/** The earliest time after `now` at which a message of this consumer becomes due. */
export async function nextDueAfter(
  read: SqlExecutor,
  consumer: string,
  now: number,
): Promise<number | undefined> {
  const row = await read.get<{ next: number | null }>(
    "SELECT MIN(available_at) AS next FROM cairn_messages WHERE consumer = ? AND available_at > ?",
    [consumer, now],
  );
  return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
}
