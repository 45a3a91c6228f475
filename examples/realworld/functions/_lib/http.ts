/** Conduit's error shape: `{ "errors": { "body": ["..."] } }`, with the status the spec gives. */
export function errors(status: number, ...messages: string[]): Response {
  return Response.json({ errors: { body: messages } }, { status });
}

export const invalid = (...messages: string[]) => errors(422, ...messages);
export const notFound = (what: string) => errors(404, `${what} not found`);
export const forbidden = (message: string) => errors(403, message);

/** The request's JSON object, or undefined when the body is not one. */
export async function readJson(request: Request): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await request.json();
    return isObject(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

/** `body[key]` when it is an object (Conduit wraps every payload: `{ "user": { ... } }`). */
export async function readWrapped(
  request: Request,
  key: string,
): Promise<Record<string, unknown> | undefined> {
  const body = await readJson(request);
  const inner = body?.[key];
  return isObject(inner) ? inner : undefined;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A required non-empty string field (trimmed), or the message saying what is wrong. */
export function requiredString(
  body: Record<string, unknown>,
  field: string,
  max: number,
): { value: string } | { error: string } {
  const value = body[field];
  if (typeof value !== "string" || value.trim() === "") return { error: `${field} can't be blank` };
  if (value.length > max) return { error: `${field} is too long (at most ${max} characters)` };
  return { value: value.trim() };
}

/** limit (1–100, default 20) and offset (0–10,000, default 0) from the query string. */
export function pageParams(url: URL): { limit: number; offset: number } | undefined {
  const limit = url.searchParams.get("limit");
  const offset = url.searchParams.get("offset");
  const l = limit === null || limit === "" ? 20 : Number(limit);
  const o = offset === null || offset === "" ? 0 : Number(offset);
  if (!Number.isInteger(l) || l < 1 || l > 100 || !Number.isInteger(o) || o < 0 || o > 10_000)
    return undefined;
  return { limit: l, offset: o };
}

export const iso = (ms: number) => new Date(ms).toISOString();
