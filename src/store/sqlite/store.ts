import { AsyncResource } from "node:async_hooks";
import { existsSync, mkdirSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { CairnError } from "../../sdk/errors.js";
import "../all-migrations.js";
import { allMigrations } from "../migrations.js";
import {
  notifyCommitted,
  type SqlExecutor,
  type SqlValue,
  type Store,
  type TransactionOptions,
} from "../types.js";

type Statement = Database.Statement<unknown[], unknown>;

interface Queued {
  work: (tx: SqlExecutor) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  committed: ((value: unknown) => void) | undefined;
  /** The caller's async context, which `committed` runs in. */
  context: AsyncResource | undefined;
  bare: boolean;
}

/**
 * The embedded store: one SQLite file in WAL mode. Transactions that arrive in the same turn of the
 * event loop share one commit, each inside its own savepoint so that one failing leaves the others
 * intact. A commit is acknowledged only once the write-ahead log holding it is on disk: SQLite runs
 * with synchronous=NORMAL (it syncs only at checkpoints) and the log is fsync'd here, in the thread
 * pool, so the main thread never waits on the disk and the next batch runs while one is flushed.
 * Reads run on the write connection between batches and on a second connection during one, so they
 * only ever see committed data. Once a store is busy, a thread of its own checkpoints the log into
 * the database file, and now and then has writes held for a moment so that the log restarts (see
 * Checkpointer).
 */
export class SqliteStore implements Store {
  readonly dialect = "sqlite" as const;
  readonly read: SqlExecutor;
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly writeStatements = new Map<string, Statement>();
  private readonly readStatements = new Map<string, Statement>();
  private readonly prepareWrite: (sql: string) => Statement;
  /** The write connection's transaction control, prepared once (exec parses its SQL every time). */
  private readonly control: Record<
    "begin" | "commit" | "rollback" | "savepoint" | "release" | "rollbackTo",
    Statement
  >;
  private queue: Queued[] = [];
  /**
   * The write-ahead log, opened for syncing once; the flush in progress (with the commits it covers)
   * and the one queued after it.
   */
  private log: FileHandle | undefined;
  private flushing: { covers: number; done: Promise<void> } | undefined;
  private nextFlush: { promise: Promise<void>; start: () => void } | undefined;
  private scheduled = false;
  private running = false;
  private closed = false;
  /** The savepoint whose work may use the write connection right now. */
  private owner = 0;
  private commits = 0;
  /** Commits known to be on disk. */
  private syncedCommits = 0;
  private checkpointer: Checkpointer | undefined;
  /** Writes are held so that the log can restart (see Checkpointer); no batch starts meanwhile. */
  private held = false;
  private readonly restartLogFrames: number;

  private constructor(
    readonly file: string,
    options: SqliteStoreOptions,
  ) {
    this.restartLogFrames = options.restartLogFrames ?? defaultRestartLogFrames;
    mkdirSync(dirname(file), { recursive: true });
    this.writer = new Database(file, { nativeBinding });
    this.writer.pragma("journal_mode = WAL");
    this.writer.pragma("synchronous = NORMAL");
    this.writer.pragma("busy_timeout = 5000");
    // After a burst, the log shrinks back to this size when it next restarts.
    this.writer.pragma(`journal_size_limit = ${logSizeLimitBytes}`);
    migrate(this.writer);
    this.control = {
      begin: this.writer.prepare("BEGIN IMMEDIATE"),
      commit: this.writer.prepare("COMMIT"),
      rollback: this.writer.prepare("ROLLBACK"),
      savepoint: this.writer.prepare("SAVEPOINT cairn_tx"),
      release: this.writer.prepare("RELEASE cairn_tx"),
      rollbackTo: this.writer.prepare("ROLLBACK TO cairn_tx"),
    };
    this.reader = new Database(file, { readonly: true, nativeBinding });
    this.reader.pragma("busy_timeout = 5000");
    // Reads take the write connection whenever no batch holds it: its page cache stays warm, while
    // the read connection's is dropped whenever another connection has committed since its last
    // read (about twice the time for a key lookup). During a batch the read connection keeps reads
    // off what the batch has not committed yet.
    this.prepareWrite = preparer(this.writer, this.writeStatements);
    const prepareRead = preparer(this.reader, this.readStatements);
    this.read = executor(
      (sql) => (this.running ? prepareRead(sql) : this.prepareWrite(sql)),
      () => this.assertOpen(),
    );
  }

  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    try {
      return new SqliteStore(file, options);
    } catch (error) {
      throw new CairnError(
        "backend_unavailable",
        `cannot open the SQLite store ${file}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions<T>): Promise<T> {
    if (this.closed) return Promise.reject(new CairnError("shutting_down", "the store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        work,
        resolve: resolve as (value: unknown) => void,
        reject,
        committed: options?.committed as ((value: unknown) => void) | undefined,
        // The shared commit runs in the context of whichever call scheduled it: the callback
        // keeps its own caller's (the trace a workflow's first activation joins). A resource, not
        // AsyncResource.bind: on Node 20 every bound function also gets two deprecation wrappers.
        context: options?.committed && new AsyncResource("cairn.store.committed"),
        bare: options?.bare === true,
      });
      this.schedule();
    });
  }

  async close(): Promise<void> {
    while (
      this.running ||
      this.queue.length > 0 ||
      this.flushing !== undefined ||
      this.nextFlush !== undefined
    ) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.closed = true;
    await this.checkpointer?.stop();
    await this.log?.close();
    this.reader.close();
    this.writer.close();
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.held) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.runBatch();
    });
  }

  /**
   * Resolves once everything committed before the call is on disk. Flushes are shared: a commit
   * joins the flush under way if that began after it, else the one queued after it. (Two flushes at
   * once made a commit that arrives during one durable ~0.25 ms sooner, but under load kept two of
   * libuv's four pool threads on the log: in a run of the whole test suite, the crash test's blob
   * writers, whose file writes need those threads, completed almost none.)
   */
  private durable(): Promise<void> {
    const flushing = this.flushing;
    if (flushing === undefined) return this.flush();
    if (flushing.covers >= this.commits) return flushing.done;
    if (this.nextFlush === undefined) {
      let resolve!: (flushed: Promise<void>) => void;
      const promise = new Promise<void>((done) => (resolve = done));
      this.nextFlush = { promise, start: () => resolve(this.flush()) };
    }
    return this.nextFlush.promise;
  }

  private flush(): Promise<void> {
    const covers = this.commits;
    // The next flush starts first thing once this one ends, before the commits it covered are
    // answered (answering them posts messages, ~30 µs each).
    const ended = () => {
      this.flushing = undefined;
      const next = this.nextFlush;
      this.nextFlush = undefined;
      next?.start();
    };
    const done = this.syncLog().then(
      () => {
        this.syncedCommits = Math.max(this.syncedCommits, covers);
        ended();
      },
      (error: unknown) => {
        ended();
        throw error;
      },
    );
    this.flushing = { covers, done };
    return done;
  }

  synced(): Promise<void> {
    return this.syncedCommits >= this.commits ? Promise.resolve() : this.durable();
  }

  /**
   * The log stays the same file while the store is open: SQLite deletes it only when the last
   * connection to the database closes, and restarts it in place after a checkpoint. So it is opened
   * once, and each flush is one fdatasync.
   */
  private async syncLog(): Promise<void> {
    // One flush at a time, so one open; if it fails, the next flush tries again. Once open, the
    // sync is handed to the thread pool at once, not a turn later.
    this.log ??= await this.openLog();
    await this.log.datasync();
  }

  private async openLog(): Promise<FileHandle> {
    const path = `${this.file}-wal`;
    const log = await open(path, "r");
    // The log's directory entry must be durable too, once.
    const directory = await open(dirname(path), "r");
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
    return log;
  }

  private async runBatch(): Promise<void> {
    if (this.held) return; // scheduled before the hold; released, it is scheduled again
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    this.running = true;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    let committed = false;
    // A transaction alone in its batch needs no savepoint: if it fails, the whole batch rolls back.
    const alone = batch.length === 1;
    try {
      this.control.begin.run();
      for (let i = 0; i < batch.length; i++) {
        const token = i + 1;
        const { work, bare } = batch[i]!;
        const savepoint = !alone && !bare;
        if (savepoint) this.control.savepoint.run();
        this.owner = token;
        const tx = executor(this.prepareWrite, () => {
          if (this.owner !== token) throw new Error("a store transaction was used after it ended");
        });
        try {
          const value = await work(tx);
          this.owner = 0;
          if (savepoint) this.control.release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          this.owner = 0;
          if (savepoint) {
            this.control.rollbackTo.run();
            this.control.release.run();
          }
          outcomes.push({ ok: false, error });
        }
      }
      if (outcomes.some((outcome) => outcome.ok)) {
        this.control.commit.run();
        committed = true;
        if (++this.commits === checkpointerAfterCommits) this.startCheckpointer();
      } else {
        // Nothing to keep: no commit, and nothing to wait for.
        this.control.rollback.run();
        batch.forEach((queued, i) => queued.reject((outcomes[i] as { error: unknown }).error));
      }
    } catch (error) {
      if (this.writer.inTransaction) this.control.rollback.run();
      const failure = new CairnError(
        "backend_unavailable",
        `the SQLite store could not commit: ${(error as Error).message}`,
        {
          cause: error,
          retryable: true,
        },
      );
      for (const queued of batch) queued.reject(failure);
    } finally {
      this.owner = 0;
      this.running = false;
    }
    if (this.held) this.checkpointer?.quiet();
    else if (this.queue.length > 0) this.schedule(); // the next batch runs while this one is flushed
    if (committed) {
      batch.forEach((queued, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) queued.context?.runInAsyncScope(notifyCommitted, undefined, queued, outcome.value);
      });
      try {
        await this.durable();
      } catch (error) {
        const failure = new CairnError(
          "backend_unavailable",
          `the SQLite store could not sync its log: ${(error as Error).message}`,
          {
            cause: error,
            retryable: true,
          },
        );
        for (const queued of batch) queued.reject(failure);
        return;
      }
      batch.forEach((queued, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) queued.resolve(outcome.value);
        else queued.reject(outcome.error);
      });
    }
  }

  /**
   * Checkpoints move to their own thread: left to SQLite, the commit that fills the log past 1,000
   * pages copies them into the database file and fsyncs it, on the main thread (5–40 ms, every
   * few hundred milliseconds under load). Until the thread is up, and if it ever fails, SQLite's
   * own checkpoints stay on.
   */
  private startCheckpointer(): void {
    const checkpointer = new Checkpointer(this.file, this.restartLogFrames, {
      hold: () => {
        this.held = true;
        if (!this.running) checkpointer.quiet();
      },
      release: () => this.releaseWrites(),
    });
    this.checkpointer = checkpointer;
    checkpointer.ready.then(
      (up) => {
        if (up && !this.closed && this.checkpointer === checkpointer)
          this.writer.pragma("wal_autocheckpoint = 0");
      },
      () => undefined,
    );
    void checkpointer.failed.then(() => {
      if (this.checkpointer !== checkpointer || this.closed) return;
      this.checkpointer = undefined;
      if (this.held) this.releaseWrites();
      this.writer.pragma(`wal_autocheckpoint = ${defaultAutocheckpoint}`);
    });
  }

  private releaseWrites(): void {
    this.held = false;
    if (this.queue.length > 0) this.schedule();
  }

  private assertOpen(): void {
    if (this.closed) throw new CairnError("shutting_down", "the store is closed");
  }
}

export interface SqliteStoreOptions {
  /** Frames in the log past which writes pause briefly so that it restarts (tests set fewer). */
  restartLogFrames?: number;
}

/** Commits before a store is busy enough for a checkpointing thread (most test stores never are). */
const checkpointerAfterCommits = 64;
const defaultAutocheckpoint = 1000;
const checkpointIntervalMs = 100;
/** 16 MB of 4 KB pages: a restart (a pause of a few milliseconds) every 16 MB written at most. */
const defaultRestartLogFrames = 4096;
const logSizeLimitBytes = 64 * 1024 * 1024;
/** A hold that the checkpointing thread does not end within this is ended anyway. */
const holdTimeoutMs = 1000;

const driverPath = createRequire(import.meta.url).resolve("better-sqlite3");

/**
 * The driver's compiled addon. Named here, the first open loads it directly; left to the driver, the
 * `bindings` package searches a dozen candidate paths for it (~8 ms of every start).
 */
const addonPath = join(dirname(driverPath), "..", "build", "Release", "better_sqlite3.node");
const nativeBinding = existsSync(addonPath) ? addonPath : undefined;

/**
 * The checkpointing thread's code, evaluated (CommonJS) so that it runs the same from the sources
 * and from the bundled build. PASSIVE checkpoints never wait for the writer or the readers; one
 * that finds nothing new to copy does no I/O.
 *
 * The log restarts from its beginning only when a write begins with every frame checkpointed. Under
 * writes that never pause that never happens, so the log would grow without end (a quarter of a GB
 * in seconds). Once it holds `restartFrames`, the thread asks the store to hold its writes ("hold"),
 * copies what is left once the store has stopped ("quiet"), and lets it go on ("release"): the next
 * write restarts the log, overwriting it in place.
 */
const checkpointerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
let heldAt = 0;
function checkpoint() {
  try {
    return db.pragma("wal_checkpoint(PASSIVE)")[0];
  } catch (error) {
    if (error.code !== "SQLITE_BUSY") throw error;
    return undefined;
  }
}
const timer = setInterval(() => {
  // A hold whose "quiet" never came (the store gave up on it) does not stop the checkpoints.
  if (heldAt !== 0 && Date.now() - heldAt < workerData.holdTimeoutMs * 2) return;
  heldAt = 0;
  const done = checkpoint();
  if (done !== undefined && done.log >= workerData.restartFrames) {
    heldAt = Date.now();
    parentPort.postMessage("hold");
  }
}, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message === "quiet") {
    checkpoint();
    heldAt = 0;
    parentPort.postMessage("release");
    return;
  }
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage("ready");
`;

interface HoldHandlers {
  /** Start no batch until `release`, and call `quiet()` once none is running. */
  hold(): void;
  release(): void;
}

class Checkpointer {
  /** Resolves true once the thread checkpoints, false if it never came up. */
  readonly ready: Promise<boolean>;
  /** Resolves if the thread ends without being asked to. */
  readonly failed: Promise<void>;
  private readonly worker: Worker;
  private readonly exited: Promise<unknown>;
  private stopping = false;
  private holdTimer: NodeJS.Timeout | undefined;

  constructor(file: string, restartFrames: number, handlers: HoldHandlers) {
    this.worker = new Worker(checkpointerSource, {
      eval: true,
      workerData: {
        driver: driverPath,
        file,
        intervalMs: checkpointIntervalMs,
        restartFrames,
        holdTimeoutMs,
      },
      stdout: false,
      stderr: false,
    });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once("exit", resolve));
    this.worker.on("error", () => undefined); // seen as an exit
    this.ready = new Promise((resolve) => {
      this.worker.once("message", () => resolve(true));
      void this.exited.then(() => resolve(false));
    });
    const release = () => {
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
      handlers.release();
    };
    this.worker.on("message", (message) => {
      if (message === "hold") {
        // Writes never wait on the thread for long, whatever becomes of it.
        this.holdTimer = setTimeout(release, holdTimeoutMs);
        handlers.hold();
      } else if (message === "release") release();
    });
    this.failed = this.exited.then(() => {
      clearTimeout(this.holdTimer);
      if (this.stopping) return new Promise<void>(() => undefined);
    });
  }

  /** No write is under way: the thread may copy the rest of the log. */
  quiet(): void {
    this.worker.postMessage("quiet");
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.holdTimer);
    this.worker.postMessage("stop");
    const timeout = setTimeout(() => void this.worker.terminate(), 2000);
    await this.exited;
    clearTimeout(timeout);
  }
}

/** A connection's prepared statements, each prepared on first use. */
function preparer(db: Database.Database, statements: Map<string, Statement>): (sql: string) => Statement {
  return (sql) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}

function executor(prepare: (sql: string) => Statement, guard: () => void): SqlExecutor {
  return {
    dialect: "sqlite",
    all<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
      guard();
      return Promise.resolve(prepare(sql).all(...params.map(bind)) as Row[]);
    },
    get<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row | undefined> {
      guard();
      return Promise.resolve(prepare(sql).get(...params.map(bind)) as Row | undefined);
    },
    run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
      guard();
      return Promise.resolve({ changes: prepare(sql).run(...params.map(bind)).changes });
    },
  };
}

/** better-sqlite3 binds blobs only from Buffers. */
function bind(value: SqlValue): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

function migrate(db: Database.Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS cairn_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const applied = new Set(
    (db.prepare("SELECT name FROM cairn_migrations").all() as Array<{ name: string }>).map((row) => row.name),
  );
  const record = db.prepare("INSERT INTO cairn_migrations (name, applied_at) VALUES (?, ?)");
  for (const migration of allMigrations()) {
    if (applied.has(migration.name)) continue;
    db.transaction(() => {
      db.exec(migration.sqlite);
      record.run(migration.name, Date.now());
    })();
  }
}
