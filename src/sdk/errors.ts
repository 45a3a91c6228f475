/**
 * Errors with machine-readable string codes. The same class exists in host and instance code (and
 * possibly twice in one instance, if an app bundles its own copy of the SDK), so identity is checked
 * through a registered symbol rather than the class object.
 */
const brand = Symbol.for("cairn.error");

export interface CairnErrorOptions {
  /** HTTP status the gateway answers with when this error reaches it. */
  status?: number;
  /** Whether retrying the same operation may succeed (transient failure). */
  retryable?: boolean;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class CairnError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: CairnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CairnError";
    this.code = code;
    this.status = options.status ?? statusForCode(code);
    this.retryable = options.retryable ?? false;
    this.details = options.details;
    Object.defineProperty(this, brand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && brand in value;
  }

  toJSON(): SerializedError {
    return serializeError(this);
  }
}

export function isCairnError(value: unknown): value is CairnError {
  return typeof value === "object" && value !== null && brand in value;
}

/** The plain-object form of an error that crosses a thread boundary or goes over the wire. */
export interface SerializedError {
  code: string;
  message: string;
  status?: number;
  retryable?: boolean;
  details?: Record<string, unknown>;
  name?: string;
  stack?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (isCairnError(error)) {
    const out: SerializedError = {
      code: error.code,
      message: error.message,
      status: error.status,
      retryable: error.retryable,
    };
    if (error.details !== undefined) out.details = error.details;
    if (error.stack !== undefined) out.stack = error.stack;
    return out;
  }
  if (error instanceof Error) {
    const out: SerializedError = { code: "function_error", message: error.message, name: error.name };
    if (error.stack !== undefined) out.stack = error.stack;
    return out;
  }
  return { code: "function_error", message: describe(error) };
}

export function deserializeError(error: SerializedError): CairnError {
  const out = new CairnError(error.code, error.message, {
    ...(error.status !== undefined && { status: error.status }),
    ...(error.retryable !== undefined && { retryable: error.retryable }),
    ...(error.details !== undefined && { details: error.details }),
  });
  if (error.stack !== undefined) out.stack = error.stack;
  return out;
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Default HTTP status for the codes the platform itself raises. */
const statusByCode: Record<string, number> = {
  bad_request: 400,
  invalid_json: 400,
  invalid_argument: 400,
  invalid_key: 400,
  validation_failed: 400,
  unauthorized: 401,
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  session_revoked: 401,
  state_invalid: 400,
  state_too_large: 413,
  forbidden: 403,
  invalid_signature: 403,
  url_expired: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  not_a_number: 409,
  condition_failed: 412,
  precondition_failed: 412,
  not_modified: 304,
  metadata_too_large: 400,
  payload_too_large: 413,
  item_too_large: 413,
  value_too_large: 413,
  uri_too_long: 414,
  range_not_satisfiable: 416,
  headers_too_large: 431,
  rate_limited: 429,
  function_error: 500,
  internal_error: 500,
  memory_limit_exceeded: 500,
  instance_lost: 503,
  function_overloaded: 503,
  shutting_down: 503,
  backend_unavailable: 503,
  cache_full: 503,
  function_timeout: 504,
  workflow_ended: 409,
  workflow_cancelled: 409,
  workflow_nondeterministic: 500,
  workflow_stale: 409,
  child_failed: 500,
  signal_timeout: 504,
  step_timeout: 504,
  unsafe_schema_change: 500,
  route_conflict: 500,
};

export function statusForCode(code: string): number {
  return statusByCode[code] ?? 500;
}
