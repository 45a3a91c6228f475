import { parseArgs } from "node:util";
import { adminRequest, adminTarget, table } from "./admin-client.js";
import { CliError } from "./errors.js";

export const queuesUsage = `Usage: cairn queues <command> [options]

Commands:
  list                       depth, in-flight, retries and dead letters per consumer
  dead                       list dead letters (--consumer <queue|f:function>, --limit <n>)
  show <id>                  one dead letter, with its payload and last error
  redrive <id>               send a dead letter back to its consumer
  redrive --all              send every dead letter back (or only --consumer's)
  purge <id>                 drop a dead letter
  send <queue> <json>        send a message (--delay 5s, --idempotency-key k)

Options:
  --url <url>      the node (default CAIRN_URL or http://127.0.0.1:8787)
  --token <t>      admin token (default CAIRN_ADMIN_TOKEN)
  --app <name>     the app, when the node serves several
  --json           print JSON
`;

interface Stats {
  consumer: string;
  function?: string;
  ready: number;
  delayed: number;
  inflight: number;
  retrying: number;
  dead: number;
}

export async function queuesCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      app: { type: "string" },
      consumer: { type: "string" },
      limit: { type: "string" },
      all: { type: "boolean" },
      delay: { type: "string" },
      "idempotency-key": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(queuesUsage);
    return;
  }
  const target = adminTarget(values);
  const query = (extra: Record<string, string | undefined> = {}) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ app: values.app, ...extra }))
      if (value !== undefined) params.set(key, value);
    const text = params.toString();
    return text ? `?${text}` : "";
  };
  const print = (value: unknown, human: () => string) =>
    process.stdout.write(values.json ? `${JSON.stringify(value, null, 2)}\n` : human());
  const id = () => {
    if (rest[0] === undefined)
      throw new CliError(`cairn queues ${command} needs a dead letter id`, queuesUsage);
    return encodeURIComponent(rest[0]);
  };

  switch (command) {
    case "list": {
      const result = await adminRequest<{ apps: Array<{ app: string; consumers: Stats[] }> }>(
        target,
        "GET",
        `/queues${query()}`,
      );
      print(result, () =>
        table([
          ["app", "consumer", "function", "ready", "delayed", "in-flight", "retrying", "dead"],
          ...result.apps.flatMap(({ app, consumers }) =>
            consumers.map((c) => [
              app,
              c.consumer,
              c.function ?? "-",
              ...[c.ready, c.delayed, c.inflight, c.retrying, c.dead].map(String),
            ]),
          ),
        ]),
      );
      return;
    }
    case "dead": {
      const result = await adminRequest<{
        items: Array<{
          id: string;
          consumer: string;
          attempts: number;
          failedAt: number;
          lastError: string | null;
        }>;
      }>(target, "GET", `/queues/dead${query({ consumer: values.consumer, limit: values.limit })}`);
      print(result, () =>
        result.items.length === 0
          ? "no dead letters\n"
          : table([
              ["id", "consumer", "attempts", "failed at", "last error"],
              ...result.items.map((d) => [
                d.id,
                d.consumer,
                String(d.attempts),
                new Date(d.failedAt).toISOString(),
                (d.lastError ?? "").slice(0, 80),
              ]),
            ]),
      );
      return;
    }
    case "show": {
      const result = await adminRequest(target, "GET", `/queues/dead/${id()}${query()}`);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    case "redrive": {
      const result = values.all
        ? await adminRequest<{ redriven: number }>(
            target,
            "POST",
            `/queues/dead/redrive${query({ consumer: values.consumer })}`,
          )
        : await adminRequest<{ redriven: number }>(target, "POST", `/queues/dead/${id()}/redrive${query()}`);
      print(result, () => `redrove ${result.redriven} message${result.redriven === 1 ? "" : "s"}\n`);
      return;
    }
    case "purge": {
      const result = await adminRequest<{ purged: number }>(
        target,
        "DELETE",
        `/queues/dead/${id()}${query()}`,
      );
      print(result, () => `purged ${result.purged}\n`);
      return;
    }
    case "send": {
      const [queue, body] = rest;
      if (queue === undefined || body === undefined)
        throw new CliError("cairn queues send needs a queue and a JSON message", queuesUsage);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new CliError(`the message is not valid JSON: ${body}`);
      }
      const result = await adminRequest<{ id: string; sent: boolean }>(
        target,
        "POST",
        `/queues/${encodeURIComponent(queue)}/messages${query()}`,
        {
          body: parsed,
          ...(values.delay !== undefined && { delay: values.delay }),
          ...(values["idempotency-key"] !== undefined && { idempotencyKey: values["idempotency-key"] }),
        },
      );
      print(result, () =>
        result.sent ? `sent message ${result.id}\n` : `duplicate of message ${result.id}: not sent again\n`,
      );
      return;
    }
    default:
      throw new CliError(`unknown queues command "${command}"`, queuesUsage);
  }
}
