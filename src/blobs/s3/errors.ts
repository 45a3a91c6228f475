import { CairnError } from "../../sdk/errors.js";

/** The parts of an AWS SDK error this driver looks at. */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const networkCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "UND_ERR_SOCKET",
]);

const throttling = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "RequestTimeout",
  "ServiceUnavailable",
]);

/** The S3 error name of a failed call ("NoSuchKey", "AccessDenied"...), if S3 answered. */
export function s3ErrorName(error: unknown): string | undefined {
  const e = error as SdkError | undefined;
  return e?.$metadata?.httpStatusCode === undefined ? undefined : e.name;
}

export function httpStatusOf(error: unknown): number | undefined {
  return (error as SdkError | undefined)?.$metadata?.httpStatusCode;
}

/** Whether a failure means the server could not be reached or did not answer in time. */
export function isUnreachable(error: unknown): boolean {
  const e = error as SdkError | undefined;
  if (e === undefined || e === null || typeof e !== "object") return false;
  if (e.$metadata?.httpStatusCode !== undefined) return false;
  return (
    networkCodes.has(e.code ?? "") ||
    e.name === "TimeoutError" ||
    e.name === "AbortError" ||
    /socket hang up|ECONN|timed out|EPIPE/i.test(e.message ?? "")
  );
}

/**
 * A failed S3 call as a CairnError: `backend_unavailable` (503), retryable when the server could
 * not be reached, timed out, failed (5xx) or throttled; not retryable when it refused the request
 * (wrong credentials, a missing bucket). `where` names the server without secrets.
 */
export function s3Failure(error: unknown, where: string): CairnError {
  if (error instanceof CairnError) return error;
  const e = (typeof error === "object" && error !== null ? error : { message: String(error) }) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const detail = `${e.name && e.name !== "Error" ? `${e.name}: ` : ""}${e.message ?? ""}`.trim();
  const cause = error;
  if (e.name === "CredentialsProviderError") {
    return new CairnError(
      "backend_unavailable",
      `blob storage (${where}) has no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ` +
        `or the accessKeyId and secretAccessKey parameters (${detail})`,
      { cause },
    );
  }
  if (status === undefined || status >= 500 || status === 429 || throttling.has(e.name ?? "")) {
    const reason = status === undefined ? detail || "no answer" : `it answered ${status} ${detail}`;
    return new CairnError("backend_unavailable", `blob storage (${where}) is unavailable: ${reason}`, {
      retryable: true,
      cause,
    });
  }
  return new CairnError(
    "backend_unavailable",
    `blob storage (${where}) refused the request: ${status} ${detail}`,
    {
      cause,
    },
  );
}
