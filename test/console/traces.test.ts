import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Tracer } from "../../src/telemetry/tracing.js";
import { eventually, getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";
import { opsApp } from "./ops-app.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status: { code?: number; message?: string };
}

/** An OTLP/HTTP receiver that keeps every span it is sent (JSON bodies, as Cairn sends them). */
async function otlpReceiver(): Promise<{
  url: string;
  spans: OtlpSpan[];
  resources: unknown[];
  close(): Promise<void>;
}> {
  const spans: OtlpSpan[] = [];
  const resources: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      if (
        req.method !== "POST" ||
        req.url !== "/v1/traces" ||
        req.headers["content-type"] !== "application/json"
      ) {
        res.writeHead(404).end();
        return;
      }
      const parsed = JSON.parse(body) as {
        resourceSpans: Array<{ resource: unknown; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      for (const resource of parsed.resourceSpans) {
        resources.push(resource.resource);
        for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    resources,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((entry) => entry.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
};

describe("traces over OTLP/HTTP", () => {
  let dir: string;
  let test: TestNode;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  const token = "trace-admin-token";

  beforeAll(async () => {
    receiver = await otlpReceiver();
    dir = makeApp(opsApp);
    test = await startNode({
      dir,
      env: {
        ...process.env,
        CAIRN_ADMIN_TOKEN: token,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: "ops-test",
      },
    });
  });
  afterAll(async () => {
    await test?.stop();
    await receiver?.close();
    removeApp(dir);
  });

  it("makes the HTTP request, the invocation, its service calls and each workflow step spans of one trace", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpan = "00f067aa0ba902b7";
    const started = await getJson(`${test.url}/start/greet`, {
      method: "POST",
      body: JSON.stringify({ name: "ada" }),
      headers: { traceparent: `00-${traceId}-${callerSpan}-01` },
    });
    expect(started.status).toBe(202);
    await eventually(async () => {
      const run = await getJson(`${test.url}/_cairn/workflows/${started.body.id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return run.body.status === "completed" ? true : undefined;
    }, 15_000);
    // The run reads "completed" once its outcome commits, a moment before its last activation's
    // span ends: wait for both activations' spans, not only for the last step's.
    const trace = await eventually(async () => {
      await test.node.tracer!.flush();
      const spans = receiver.spans.filter((span) => span.traceId === traceId);
      const activations = spans.filter((span) => span.name === "workflow greet").length;
      return spans.some((span) => span.name === "step record") && activations >= 2 ? spans : undefined;
    }, 10_000);

    const one = (name: string) => {
      const found = trace.filter((span) => span.name === name);
      expect(found.map((span) => span.name)).toEqual([name]);
      return found[0]!;
    };
    const request = one("POST /start/:workflow");
    expect(request.parentSpanId).toBe(callerSpan);
    expect(request.kind).toBe(2); // server
    expect(attribute(request, "http.response.status_code")).toBe("202");
    const invocation = one("invoke start");
    expect(invocation.parentSpanId).toBe(request.spanId);
    const start = one("workflows.start");
    expect(start.parentSpanId).toBe(invocation.spanId);
    expect(start.kind).toBe(3); // client

    // Two activations: the first one ends when "flaky" fails and waits for its retry.
    const activations = trace.filter((span) => span.name === "workflow greet");
    expect(activations.length).toBe(2);
    for (const activation of activations) expect(activation.parentSpanId).toBe(start.spanId);
    const activationIds = new Set(activations.map((span) => span.spanId));
    const steps = trace.filter((span) => span.name.startsWith("step "));
    expect(
      steps.map((span) => `${span.name}:${String(attribute(span, "cairn.step.status"))}`).sort(),
    ).toEqual([
      "step flaky:completed",
      "step flaky:retrying",
      "step prepare:completed",
      "step record:completed",
    ]);
    for (const step of steps) expect(activationIds.has(step.parentSpanId!)).toBe(true);
    const retry = steps.find((span) => attribute(span, "cairn.step.status") === "retrying")!;
    expect(retry.status.code).toBe(2);
    expect(retry.status.message).toContain("first attempts fail");
    // Service calls made by the workflow hang below its activation.
    const calls = trace.filter((span) => span.name === "cache.get" || span.name === "workflows.commitStep");
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const call of calls) expect(activationIds.has(call.parentSpanId!)).toBe(true);
    // Every span ended after it started, and the resource names the service.
    for (const span of trace)
      expect(BigInt(span.endTimeUnixNano) >= BigInt(span.startTimeUnixNano)).toBe(true);
    expect(JSON.stringify(receiver.resources[0])).toContain("ops-test");
  });

  it("carries the trace into fetches a function makes, and starts a new trace without a traceparent", async () => {
    const response = await fetch(`${test.url}/relay`);
    expect(response.status).toBe(200);
    await test.node.tracer!.flush();
    const relay = await eventually(() => receiver.spans.find((span) => span.name === "GET /relay"));
    expect(relay.parentSpanId).toBeUndefined();
    const trace = await eventually(() => {
      const spans = receiver.spans.filter((span) => span.traceId === relay.traceId);
      return spans.some((span) => span.name === "GET /hello") ? spans : undefined;
    });
    const relayInvocation = trace.find((span) => span.name === "invoke relay")!;
    const hello = trace.find((span) => span.name === "GET /hello")!;
    expect(hello.parentSpanId).toBe(relayInvocation.spanId);
  });

  it("records nothing below a caller that asked for no sampling", async () => {
    const traceId = "5bf92f3577b34da6a3ce929d0e0e4736";
    await fetch(`${test.url}/hello`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-00` } });
    await test.node.tracer!.flush();
    expect(receiver.spans.filter((span) => span.traceId === traceId)).toEqual([]);
  });
});

describe("without an OTLP endpoint", () => {
  it("makes no tracer and not a single span", async () => {
    const dir = makeApp(opsApp);
    const env = { ...process.env };
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    delete env.CAIRN_OTLP_ENDPOINT;
    const start = vi.spyOn(Tracer.prototype, "start");
    const test = await startNode({ dir, env });
    try {
      expect(test.node.tracer).toBeUndefined();
      expect(
        (
          await fetch(`${test.url}/hello`, {
            headers: { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` },
          })
        ).status,
      ).toBe(200);
      expect((await fetch(`${test.url}/seed`, { method: "POST" })).status).toBe(204);
      expect(start).not.toHaveBeenCalled();
    } finally {
      start.mockRestore();
      await test.stop();
      removeApp(dir);
    }
  });
});

describe("a workflow run's trace across a restart", () => {
  const app = {
    "cairn.config.ts": `
      import { defineConfig } from "cairn";
      export default defineConfig({});
    `,
    "functions/patient.ts": `
      import { http, workflow } from "cairn";
      export const start = http("POST /patient", async (_request, ctx) =>
        Response.json(await ctx.workflows.start("patient", {}), { status: 202 }));
      export const patient = workflow("patient", async (_input: unknown, wf) => {
        const { n } = await wf.waitForSignal<{ n: number }>("go");
        return await wf.step("after", () => n + 1);
      });
    `,
  };
  let dir: string;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  const token = "trace-restart-token";
  const start = (data: string) =>
    startNode({
      dir,
      dataDir: data,
      env: { ...process.env, CAIRN_ADMIN_TOKEN: token, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    });

  beforeAll(async () => {
    receiver = await otlpReceiver();
    dir = makeApp(app);
  });
  afterAll(async () => {
    await receiver?.close();
    removeApp(dir);
  });

  it("joins the activations after a restart to the trace that started the run", async () => {
    const data = `${dir}/.data`;
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    let test = await start(data);
    const started = await getJson(`${test.url}/patient`, {
      method: "POST",
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    expect(started.status).toBe(202);
    await eventually(async () => {
      const run = await getJson(`${test.url}/_cairn/workflows/${started.body.id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return run.body.waitingFor === undefined || run.body.waitingFor === null ? undefined : true;
    });
    await test.node.tracer!.flush();
    await test.stop();

    // A new node process on the same data: its tracer knows nothing of the run.
    test = await start(data);
    try {
      const signal = await getJson(`${test.url}/_cairn/workflows/${started.body.id}/signals/go`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ n: 41 }),
      });
      expect(signal.status).toBeLessThan(300);
      const done = await getJson(`${test.url}/_cairn/workflows/${started.body.id}?wait=10s`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(done.body).toMatchObject({ status: "completed", output: 42 });
      // The run reads "completed" a moment before its last activation's span ends.
      const trace = await eventually(async () => {
        await test.node.tracer!.flush();
        const spans = receiver.spans.filter((span) => span.traceId === traceId);
        const activations = spans.filter((span) => span.name === "workflow patient").length;
        return spans.some((span) => span.name === "step after") && activations >= 2 ? spans : undefined;
      }, 10_000);
      const startCall = trace.find((span) => span.name === "workflows.start")!;
      const activations = trace.filter((span) => span.name === "workflow patient");
      expect(activations.length).toBeGreaterThanOrEqual(2);
      for (const activation of activations) expect(activation.parentSpanId).toBe(startCall.spanId);
      const after = trace.find((span) => span.name === "step after")!;
      expect(activations.map((span) => span.spanId)).toContain(after.parentSpanId);
    } finally {
      await test.stop();
    }
  });
});
