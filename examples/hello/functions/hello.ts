import { http } from "cairn";

/** The smallest function: a fixed text response. */
export const hello = http("GET /hello", () => new Response("Hello, world!"));

/** Route parameters arrive typed on ctx.params. */
export const greet = http("GET /hello/:name", (_request, ctx) => {
  ctx.log.info("greeting", { name: ctx.params.name });
  return Response.json({ greeting: `Hello, ${ctx.params.name}!`, requestId: ctx.requestId });
});

/** The request is a Web-standard Request. */
export const echo = http("POST /hello/echo", async (request) => {
  const body: unknown = await request.json();
  return Response.json({ received: body });
});
