import { CliError } from "./errors.js";

export interface AdminTarget {
  url: string;
  token: string | undefined;
}

/** Where management commands send their requests: --url / CAIRN_URL and --token / CAIRN_ADMIN_TOKEN. */
export function adminTarget(values: { url?: string; token?: string }): AdminTarget {
  const url = (values.url ?? process.env.CAIRN_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
  return { url, token: values.token ?? process.env.CAIRN_ADMIN_TOKEN };
}

/** Call the platform API; errors come back as what happened and how to fix it. */
export async function adminRequest<T>(
  target: AdminTarget,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.url}/_cairn${path}`, {
      method,
      headers: {
        ...headers,
        ...(target.token !== undefined && { authorization: `Bearer ${target.token}` }),
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new CliError(
      `cannot reach a Cairn node at ${target.url} (${(error as Error).message}): start one, or pass --url`,
    );
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } }).error;
    const hint = response.status === 401 ? " (set CAIRN_ADMIN_TOKEN or pass --token)" : "";
    throw new CliError(`${error?.code ?? response.status}: ${error?.message ?? text}${hint}`);
  }
  return parsed as T;
}

/** A fixed-width table for people. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}
