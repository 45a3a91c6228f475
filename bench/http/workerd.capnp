# The workerd side of bench/http: worker.mjs served on 127.0.0.1:9315 by the workerd binary alone
# (`workerd serve workerd.capnp`), without Miniflare's entry worker and Node process in front.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .hello)],
  sockets = [(name = "http", address = "127.0.0.1:9315", http = (), service = "main")],
);

const hello :Workerd.Worker = (
  modules = [(name = "worker.mjs", esModule = embed "worker.mjs")],
  compatibilityDate = "2025-01-01",
);
