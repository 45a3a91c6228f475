import { parseArgs } from "node:util";
import type { WorkflowRun, WorkflowSummary } from "../workflows/types.js";
import { adminRequest, adminTarget, table } from "./admin-client.js";
import { CliError } from "./errors.js";

export const workflowsUsage = `Usage: cairn workflows <command> [options]

Commands:
  list                          runs, newest first (--name <workflow>, --status <status>, --limit <n>, --cursor <c>)
  show <id>                     one run: status, input, output, error, state and steps (--wait 30s: until it ends)
  start <name> [json]           start a run with that input (--id <id>: the run id, an idempotency key;
                                --wait 30s: wait for it to end and show it)
  signal <id> <signal> [json]   send a signal to a run, with an optional JSON payload
  cancel <id>                   cancel a run (its compensations run)
  retry <id>                    run a failed or cancelled run again from the step that failed

Options:
  --url <url>      the node (default CAIRN_URL or http://127.0.0.1:8787)
  --token <t>      admin token (default CAIRN_ADMIN_TOKEN)
  --app <name>     the app, when the node serves several (list)
  --json           print JSON
`;

const statuses = ["running", "completed", "failed", "cancelled"];

function parseJson(text: string | undefined, what: string): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`${what} is not valid JSON: ${text}`);
  }
}

const time = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());
const compact = (value: unknown) => (value === null || value === undefined ? "-" : JSON.stringify(value));

/** A run for people: its fields, then one line per journaled step. */
function describeRun(run: WorkflowRun): string {
  const fields = table([
    ["run", run.id],
    ["workflow", run.name],
    ["status", run.status],
    ["waiting for", run.waitingFor ?? "-"],
    ["created", time(run.createdAt)],
    ["ended", time(run.completedAt)],
    ...(run.parentId !== null ? [["parent", run.parentId]] : []),
    ["input", compact(run.input)],
    ["output", compact(run.output)],
    ["error", run.error === null ? "-" : `${run.error.code}: ${run.error.message}`],
    ["state", compact(run.state)],
  ]);
  if (run.steps.length === 0) return `${fields}\nno steps yet\n`;
  const steps = table([
    ["seq", "step", "kind", "status", "attempts", "ms", "error"],
    ...run.steps.map((step) => [
      String(step.seq),
      step.name,
      step.kind,
      step.status,
      String(step.attempts),
      step.endedAt === null ? "-" : String(step.endedAt - step.startedAt),
      step.error ? `${step.error.code}: ${step.error.message}`.slice(0, 80) : "",
    ]),
  ]);
  return `${fields}\n${steps}`;
}

export async function workflowsCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      app: { type: "string" },
      name: { type: "string" },
      status: { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
      id: { type: "string" },
      wait: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(workflowsUsage);
    return;
  }
  const target = adminTarget(values);
  const query = (params: Record<string, string | undefined>) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, value);
    const text = search.toString();
    return text ? `?${text}` : "";
  };
  const print = (value: unknown, human: () => string) =>
    process.stdout.write(values.json ? `${JSON.stringify(value, null, 2)}\n` : human());
  const need = (index: number, what: string) => {
    const value = rest[index];
    if (value === undefined) throw new CliError(`cairn workflows ${command} needs ${what}`, workflowsUsage);
    return value;
  };
  const run = (index = 0) => encodeURIComponent(need(index, "a run id"));

  switch (command) {
    case "list": {
      if (values.status !== undefined && !statuses.includes(values.status))
        throw new CliError(`--status is one of ${statuses.join(", ")}`, workflowsUsage);
      const result = await adminRequest<{
        app?: string;
        items: Array<WorkflowSummary & { app?: string }>;
        cursor?: string;
      }>(
        target,
        "GET",
        `/workflows${query({
          app: values.app,
          name: values.name,
          status: values.status,
          limit: values.limit,
          cursor: values.cursor,
        })}`,
      );
      print(result, () => {
        if (result.items.length === 0) return "no workflow runs\n";
        const rows = table([
          ["app", "id", "workflow", "status", "waiting for", "created", "updated"],
          ...result.items.map((item) => [
            item.app ?? result.app ?? "-",
            item.id,
            item.name,
            item.status,
            item.waitingFor ?? "-",
            time(item.createdAt),
            time(item.updatedAt),
          ]),
        ]);
        return result.cursor === undefined ? rows : `${rows}more: --cursor ${result.cursor}\n`;
      });
      return;
    }
    case "show": {
      const result = await adminRequest<WorkflowRun>(
        target,
        "GET",
        `/workflows/${run()}${query({ wait: values.wait })}`,
      );
      print(result, () => describeRun(result));
      return;
    }
    case "start": {
      const name = need(0, "a workflow name");
      const input = parseJson(rest[1], "the input");
      const result = await adminRequest<{ id: string } | WorkflowRun>(
        target,
        "POST",
        `/workflows/${encodeURIComponent(name)}${query({ wait: values.wait })}`,
        input,
        values.id === undefined ? {} : { "idempotency-key": values.id },
      );
      print(result, () => ("steps" in result ? describeRun(result) : `run ${result.id} (${name})\n`));
      return;
    }
    case "signal": {
      const id = run();
      const signal = need(1, "a signal name");
      const result = await adminRequest(
        target,
        "POST",
        `/workflows/${id}/signals/${encodeURIComponent(signal)}`,
        parseJson(rest[2], "the payload"),
      );
      print(result, () => `sent ${signal} to run ${rest[0]}\n`);
      return;
    }
    case "cancel": {
      const result = await adminRequest(target, "POST", `/workflows/${run()}/cancel`);
      print(result, () => `cancelling run ${rest[0]}: its compensations run next\n`);
      return;
    }
    case "retry": {
      const result = await adminRequest(target, "POST", `/workflows/${run()}/retry`);
      print(result, () => `retrying run ${rest[0]} from the step that failed\n`);
      return;
    }
    default:
      throw new CliError(`unknown workflows command "${command}"`, workflowsUsage);
  }
}
