import { http } from "cairn";

export const hello = http("GET /", () => new Response("Hello, world!"));
