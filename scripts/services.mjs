// Probes for the scale-out backends the tests can use: PostgreSQL and Redis, spoken to in their
// own protocols (a TCP connect alone would accept anything listening on the port).
import { connect } from "node:net";

export const defaults = {
  databaseUrl: process.env.CAIRN_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  redisUrl: process.env.CAIRN_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
};

function exchange(host, port, payload, isAnswer, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let data = Buffer.alloc(0);
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write(payload));
    socket.on("data", (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (isAnswer(data)) done(true);
    });
    socket.on("close", () => done(false));
  });
}

/** PostgreSQL answers an SSLRequest with one byte, S or N. */
export function postgresAnswers(url = defaults.databaseUrl) {
  const { hostname, port } = new URL(url);
  const request = Buffer.alloc(8);
  request.writeInt32BE(8, 0);
  request.writeInt32BE(80877103, 4);
  return exchange(hostname, Number(port || 5432), request, (data) => data[0] === 0x53 || data[0] === 0x4e);
}

/** Redis answers PING with +PONG (or -NOAUTH when a password is needed, which still answers). */
export function redisAnswers(url = defaults.redisUrl) {
  const { hostname, port } = new URL(url);
  return exchange(hostname, Number(port || 6379), "PING\r\n", (data) =>
    /^(\+PONG|-NOAUTH)/.test(data.toString()),
  );
}
