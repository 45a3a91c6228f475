import { mount } from "cairn";
import { Hono } from "hono";

// An ordinary Hono app, unchanged: Cairn runs it as one function mounted at /hono.
const app = new Hono().basePath("/hono");

app.get("/", (c) => c.text("Hello from Hono!"));
app.get("/users/:id", (c) => c.json({ id: c.req.param("id"), via: "hono" }));
app.post("/echo", async (c) => c.json({ received: await c.req.json<unknown>() }));
app.notFound((c) => c.json({ error: { code: "not_found", message: `no route ${c.req.path}` } }, 404));

export default mount("/hono", app);
