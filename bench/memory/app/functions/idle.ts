import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { threadId } from "node:worker_threads";
import { http } from "cairn";

/** What the instances do does not matter here: they are measured idle. */
export const hello = http("GET /", () => new Response("Hello, world!"));

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds its instance for a while, so that concurrent requests land on different instances. */
export const slow = http("GET /slow", async () => {
  await pause(200);
  return new Response("slow");
});

/** This instance's own V8 heap (its isolate's), read after the same pause. */
export const heap = http("GET /heap", async () => {
  await pause(200);
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]),
  );
  return Response.json({ ...getHeapStatistics(), spaces, threadId });
});
