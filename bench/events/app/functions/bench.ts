import { http, on } from "cairn";

/** Milliseconds since the epoch with sub-millisecond precision (comparable across processes). */
const now = () => performance.timeOrigin + performance.now();

// Upload → handler start: the handler's first line records when it started, per blob key.
export const onUpload = on.blobCreated("latency/", async (event, ctx) => {
  const startedAt = now();
  await ctx.cache.set(`start:${event.payload.key}`, startedAt, { ttl: "1h" });
});

/** POST /presign { keys } → { urls }: presigned PUT URLs, made before the timing starts. */
export const presign = http("POST /presign", async (request, ctx) => {
  const { keys } = (await request.json()) as { keys: string[] };
  const urls = await Promise.all(keys.map((key) => ctx.blobs.presign(key, { method: "PUT" })));
  return Response.json({ urls });
});

/** POST /starts { keys } → { starts }: when the handler started for each key (up to 100). */
export const starts = http("POST /starts", async (request, ctx) => {
  const { keys } = (await request.json()) as { keys: string[] };
  const values = await ctx.cache.getMany<number>(keys.map((key) => `start:${key}`));
  return Response.json({ starts: values.map((value) => value ?? null) });
});

// Queue throughput: a function sends with sendBatch, a batch consumer counts what it handled.
// With `dueAt`, every message waits until then: a backlog that becomes due all at once.
export const send = http("POST /send", async (request, ctx) => {
  const { batches, from, dueAt } = (await request.json()) as {
    batches: number;
    from: number;
    dueAt?: number;
  };
  const delay = dueAt === undefined ? undefined : Math.max(0, Math.ceil(dueAt - Date.now()));
  await Promise.all(
    Array.from({ length: batches }, (_, b) =>
      ctx.queues.work.sendBatch(
        Array.from({ length: 100 }, (_, i) => ({ body: { n: from + b * 100 + i }, delay })),
      ),
    ),
  );
  return new Response(null, { status: 204 });
});

export const consume = on.queue<{ n: number }>("work", async (batch, ctx) => {
  await ctx.cache.increment("handled", batch.messages.length);
});

/** GET /handled → { handled }: messages the consumer has handled so far. */
export const handled = http("GET /handled", async (_request, ctx) =>
  Response.json({ handled: (await ctx.cache.get<number>("handled")) ?? 0 }),
);

/** GET /warm: an answer for the harness's readiness check. */
export const warm = http("GET /warm", () => new Response("ok"));
