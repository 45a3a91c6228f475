import { registerMigrations } from "../store/migrations.js";

/**
 * Items of every table live in one SQL table, keyed by table name and the encoded partition and
 * sort keys; secondary index entries point back at their items. Keys are byte strings, so SQLite
 * and PostgreSQL order them the same way.
 */
registerMigrations([
  {
    name: "0001_tables",
    sqlite: `
      CREATE TABLE cairn_items (
        tbl TEXT NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        version INTEGER NOT NULL,
        expires_at INTEGER,
        data TEXT NOT NULL,
        PRIMARY KEY (tbl, pk, sk)
      ) WITHOUT ROWID;
      CREATE INDEX cairn_items_expiry ON cairn_items (expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE cairn_index_entries (
        tbl TEXT NOT NULL,
        idx TEXT NOT NULL,
        ipk BLOB NOT NULL,
        isk BLOB NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        PRIMARY KEY (tbl, idx, ipk, isk, pk, sk)
      ) WITHOUT ROWID;
      CREATE INDEX cairn_index_entries_item ON cairn_index_entries (tbl, pk, sk);
      CREATE TABLE cairn_tables (name TEXT PRIMARY KEY, definition TEXT NOT NULL);
      CREATE TABLE cairn_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO cairn_meta (key, value) VALUES ('version', 0);
      CREATE TABLE cairn_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        key TEXT,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
    postgres: `
      CREATE TABLE cairn_items (
        tbl TEXT NOT NULL,
        pk BYTEA NOT NULL,
        sk BYTEA NOT NULL,
        version BIGINT NOT NULL,
        expires_at BIGINT,
        data TEXT NOT NULL,
        PRIMARY KEY (tbl, pk, sk)
      );
      CREATE INDEX cairn_items_expiry ON cairn_items (expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE cairn_index_entries (
        tbl TEXT NOT NULL,
        idx TEXT NOT NULL,
        ipk BYTEA NOT NULL,
        isk BYTEA NOT NULL,
        pk BYTEA NOT NULL,
        sk BYTEA NOT NULL,
        PRIMARY KEY (tbl, idx, ipk, isk, pk, sk)
      );
      CREATE INDEX cairn_index_entries_item ON cairn_index_entries (tbl, pk, sk);
      CREATE TABLE cairn_tables (name TEXT PRIMARY KEY, definition TEXT NOT NULL);
      CREATE SEQUENCE cairn_versions;
      CREATE TABLE cairn_outbox (
        id BIGSERIAL PRIMARY KEY,
        topic TEXT NOT NULL,
        key TEXT,
        payload TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
    `,
  },
]);
