// Promise.withResolvers arrived in Node 22; peers whose SDKs call it (Restate's) load this first on
// Node 20. Our own few lines, installed only where the runtime lacks it.
if (typeof Promise.withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
