import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./proxy.js";

/**
 * A PostgreSQL server of the test's own (initdb in a temporary folder, run as the postgres user),
 * so a test can restart it without disturbing the machine's shared server or other test runs.
 */
export interface PrivatePostgres {
  url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function binaries(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, "bin");
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl"))) return bin;
  }
  return undefined;
}

/** Why a private server cannot run here, or undefined when it can. */
export function privatePostgresUnavailable(): string | undefined {
  if (binaries() === undefined) return "PostgreSQL's server binaries (initdb, pg_ctl) are not installed";
  if (process.getuid?.() !== 0)
    return "starting a private PostgreSQL needs root (to run initdb as the postgres user)";
  const probe = spawnSync("runuser", ["-u", "postgres", "--", "true"]);
  if (probe.status !== 0) return "runuser -u postgres does not work here";
  return undefined;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binaries()!;
  const dir = mkdtempSync(join(tmpdir(), "cairn-pg-"));
  chownSync(
    dir,
    Number(execFileSync("id", ["-u", "postgres"]).toString().trim()),
    Number(execFileSync("id", ["-g", "postgres"]).toString().trim()),
  );
  const data = join(dir, "data");
  const port = await freePort();
  const asPostgres = (tool: string, args: string[]) =>
    execFileSync("runuser", ["-u", "postgres", "--", join(bin, tool), ...args], { stdio: "pipe" });
  asPostgres("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on`;
  asPostgres("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "start"]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      asPostgres("pg_ctl", [
        "-D",
        data,
        "-o",
        options,
        "-l",
        join(dir, "log"),
        "-m",
        "fast",
        "-w",
        "restart",
      ]);
      await Promise.resolve();
    },
    async stop() {
      try {
        asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      await Promise.resolve();
    },
  };
}
