import { registerMigrations } from "../store/migrations.js";

/**
 * Messages waiting for a consumer: queue messages (consumer "q:<queue>") and event deliveries, one
 * row per subscribing function (consumer "f:<function>"). A row is leased while a node works on it
 * and deleted when its consumer succeeds; messages that run out of attempts move to dead letters.
 */
registerMigrations([
  {
    name: "0002_messages",
    sqlite: `
      DROP TABLE IF EXISTS cairn_outbox;
      CREATE TABLE cairn_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        consumer TEXT NOT NULL,
        topic TEXT NOT NULL,
        key TEXT,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        available_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_until INTEGER,
        lease_owner TEXT,
        last_error TEXT
      );
      CREATE INDEX cairn_messages_due ON cairn_messages (consumer, available_at);
      CREATE INDEX cairn_messages_ordered ON cairn_messages (consumer, key, id) WHERE key IS NOT NULL;
      CREATE TABLE cairn_dead_letters (
        id INTEGER PRIMARY KEY,
        consumer TEXT NOT NULL,
        topic TEXT NOT NULL,
        key TEXT,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        failed_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT
      );
      CREATE INDEX cairn_dead_letters_consumer ON cairn_dead_letters (consumer, id);
      CREATE TABLE cairn_dedup (
        queue TEXT NOT NULL,
        dedup_key TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        PRIMARY KEY (queue, dedup_key)
      );
      CREATE INDEX cairn_dedup_expiry ON cairn_dedup (expires_at);
      CREATE TABLE cairn_schedules (name TEXT PRIMARY KEY, cron TEXT NOT NULL, next_at INTEGER NOT NULL);
    `,
    postgres: `
      DROP TABLE IF EXISTS cairn_outbox;
      CREATE TABLE cairn_messages (
        id BIGSERIAL PRIMARY KEY,
        consumer TEXT NOT NULL,
        topic TEXT NOT NULL,
        key TEXT,
        payload TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        available_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_until BIGINT,
        lease_owner TEXT,
        last_error TEXT
      );
      CREATE INDEX cairn_messages_due ON cairn_messages (consumer, available_at);
      CREATE INDEX cairn_messages_ordered ON cairn_messages (consumer, key, id) WHERE key IS NOT NULL;
      CREATE TABLE cairn_dead_letters (
        id BIGINT PRIMARY KEY,
        consumer TEXT NOT NULL,
        topic TEXT NOT NULL,
        key TEXT,
        payload TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        failed_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT
      );
      CREATE INDEX cairn_dead_letters_consumer ON cairn_dead_letters (consumer, id);
      CREATE TABLE cairn_dedup (
        queue TEXT NOT NULL,
        dedup_key TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        message_id BIGINT NOT NULL,
        PRIMARY KEY (queue, dedup_key)
      );
      CREATE INDEX cairn_dedup_expiry ON cairn_dedup (expires_at);
      CREATE TABLE cairn_schedules (name TEXT PRIMARY KEY, cron TEXT NOT NULL, next_at BIGINT NOT NULL);
    `,
  },
  {
    // Nodes announce themselves while they run; the leases of one that stopped announcing are
    // handed back (see nodes.ts), and the owner index makes that a lookup rather than a scan.
    name: "0004_nodes",
    sqlite: `
      CREATE TABLE cairn_nodes (id TEXT PRIMARY KEY, started_at INTEGER NOT NULL, seen_at INTEGER NOT NULL);
      CREATE INDEX cairn_messages_owner ON cairn_messages (lease_owner) WHERE lease_owner IS NOT NULL;
    `,
    postgres: `
      CREATE TABLE cairn_nodes (id TEXT PRIMARY KEY, started_at BIGINT NOT NULL, seen_at BIGINT NOT NULL);
      CREATE INDEX cairn_messages_owner ON cairn_messages (lease_owner) WHERE lease_owner IS NOT NULL;
    `,
  },
]);
