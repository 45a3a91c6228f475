import { CairnError } from "../../sdk/errors.js";

/**
 * Checks a Redis URL (`redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS) before a
 * client sees it. The URL itself never appears in the error: it may hold a password.
 */
export function checkRedisUrl(url: string, name = "CAIRN_REDIS_URL"): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CairnError("invalid_config", `${name} is not a URL; expected redis://host:port or rediss://…`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new CairnError(
      "invalid_config",
      `${name} must start with redis:// or rediss://, not ${parsed.protocol}//`,
    );
  }
  if (parsed.hostname === "") throw new CairnError("invalid_config", `${name} names no host`);
  return url;
}

/** The URL with its password replaced, for messages and logs. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "Redis";
  }
}
