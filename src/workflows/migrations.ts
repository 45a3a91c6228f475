import { registerMigrations } from "../store/migrations.js";

/**
 * Workflow runs, their journals and their signals. A run's activations replay the journal; the
 * `token` column tells a current activation from a stale one (a second activation started after a
 * lease ran out), whose writes are refused.
 */
registerMigrations([
  {
    name: "0003_workflows",
    sqlite: `
      CREATE TABLE cairn_workflows (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        state TEXT,
        waiting_for TEXT,
        parent_id TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        token INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        completed_at INTEGER
      );
      CREATE INDEX cairn_workflows_by_time ON cairn_workflows (created_at, id);
      CREATE INDEX cairn_workflows_by_name ON cairn_workflows (name, created_at, id);
      CREATE INDEX cairn_workflows_by_status ON cairn_workflows (status, created_at, id);
      CREATE INDEX cairn_workflows_by_parent ON cairn_workflows (parent_id) WHERE parent_id IS NOT NULL;
      CREATE TABLE cairn_workflow_steps (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        result TEXT,
        error TEXT,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        data TEXT,
        PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE cairn_workflow_signals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        name TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        consumed_seq INTEGER
      );
      CREATE INDEX cairn_workflow_signals_run ON cairn_workflow_signals (run_id, id);
    `,
    postgres: `
      CREATE TABLE cairn_workflows (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        state TEXT,
        waiting_for TEXT,
        parent_id TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        token INTEGER NOT NULL DEFAULT 1,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        completed_at BIGINT
      );
      CREATE INDEX cairn_workflows_by_time ON cairn_workflows (created_at, id);
      CREATE INDEX cairn_workflows_by_name ON cairn_workflows (name, created_at, id);
      CREATE INDEX cairn_workflows_by_status ON cairn_workflows (status, created_at, id);
      CREATE INDEX cairn_workflows_by_parent ON cairn_workflows (parent_id) WHERE parent_id IS NOT NULL;
      CREATE TABLE cairn_workflow_steps (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        result TEXT,
        error TEXT,
        started_at BIGINT NOT NULL,
        ended_at BIGINT,
        data TEXT,
        PRIMARY KEY (run_id, seq)
      );
      CREATE TABLE cairn_workflow_signals (
        id BIGSERIAL PRIMARY KEY,
        run_id TEXT NOT NULL,
        name TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        consumed_seq INTEGER
      );
      CREATE INDEX cairn_workflow_signals_run ON cairn_workflow_signals (run_id, id);
    `,
  },
  {
    // The W3C traceparent of the call that started a run: every activation, on any node and after
    // any restart, joins that trace.
    name: "0005_workflow_trace",
    sqlite: "ALTER TABLE cairn_workflows ADD COLUMN trace TEXT;",
    postgres: "ALTER TABLE cairn_workflows ADD COLUMN trace TEXT;",
  },
]);
