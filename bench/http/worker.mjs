// The hello-world Worker that the miniflare and workerd sides serve: the same answer as Cairn's
// `GET /` (app/functions/hello.ts) and node-http.mjs.
export default {
  fetch() {
    return new Response("Hello, world!", { headers: { "content-type": "text/plain;charset=UTF-8" } });
  },
};
