import { hostname } from "node:os";
import { CairnError } from "../sdk/errors.js";
import type { OtlpSettings } from "./otlp.js";

/**
 * Where traces go, from the standard OpenTelemetry variables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 * (the full URL), else OTEL_EXPORTER_OTLP_ENDPOINT or CAIRN_OTLP_ENDPOINT (a base URL, to which
 * /v1/traces is added). Undefined, and tracing off, when none is set or OTEL_SDK_DISABLED=true.
 */
export function otlpSettings(env: NodeJS.ProcessEnv): OtlpSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === "none") return undefined;
  const full = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.CAIRN_OTLP_ENDPOINT)?.trim();
  let url: string;
  if (full) url = full;
  else if (base) url = `${base.replace(/\/+$/, "")}/v1/traces`;
  else return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("not http(s)");
  } catch {
    throw new CairnError(
      "invalid_config",
      `the OTLP endpoint "${url}" is not an http:// or https:// URL (OTEL_EXPORTER_OTLP_ENDPOINT)`,
    );
  }
  return {
    url,
    headers: parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || "cairn",
    resource: { "host.name": hostname(), "process.pid": process.pid },
  };
}

/** `key1=value1,key2=value2`, values URL-encoded (the OTEL_EXPORTER_OTLP_HEADERS format). */
function parseHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (value ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    try {
      headers[decodeURIComponent(pair.slice(0, at).trim()).toLowerCase()] = decodeURIComponent(
        pair.slice(at + 1).trim(),
      );
    } catch {
      // a malformed escape: skip that header
    }
  }
  return headers;
}
