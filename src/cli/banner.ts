import { relative } from "node:path";
import type { CairnNode } from "../host/node.js";
import type { DiscoveredTrigger } from "../shared/protocol.js";

/** What a person starting the server wants to see: where it listens and what it serves. */
export function banner(node: CairnNode, version: string, startedMs: number): string {
  const rows = node.deployment.targets.map(({ spec }) => [
    spec.app,
    spec.trigger !== undefined ? "on" : spec.methods === "*" ? "*" : spec.methods.join("|"),
    spec.trigger !== undefined
      ? triggerLabel(spec.trigger)
      : spec.kind === "mount"
        ? `${spec.path === "/" ? "" : spec.path}/*`
        : spec.path,
    spec.name,
    spec.site,
  ]);
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column]!.length), 0));
  const lines = rows.map((row) =>
    `  ${row.map((cell, column) => (column < 4 ? cell.padEnd(widths[column]!) : cell)).join("  ")}`.trimEnd(),
  );
  const apps = node.deployment.apps.map(({ app }) => relative(process.cwd(), app.dir) || ".");
  return [
    `cairn ${version} serving ${apps.join(", ")} on ${node.url} (ready in ${Math.round(startedMs)} ms)`,
    ...lines,
    "",
  ].join("\n");
}

/** What a trigger function runs on: "blob.created uploads/*", "queue emails", "cron 0 3 * * *". */
function triggerLabel(trigger: DiscoveredTrigger): string {
  switch (trigger.kind) {
    case "event": {
      const { prefix, suffix } = trigger.filter;
      const filter = prefix !== undefined || suffix !== undefined ? ` ${prefix ?? ""}*${suffix ?? ""}` : "";
      return `${trigger.topic}${filter}`;
    }
    case "queue":
      return `queue ${trigger.queue}`;
    case "schedule":
      return `cron ${trigger.cron}${trigger.timezone === "UTC" ? "" : ` (${trigger.timezone})`}`;
    case "workflow":
      return `workflow ${trigger.workflow}`;
  }
}
