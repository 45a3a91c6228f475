/**
 * Node defines Request, Response and Headers as lazy globals: the first touch loads undici, about
 * 50 ms of a worker's boot. The runtime reaches for them only when a handler needs the real classes,
 * so an instance boots, and a handler that answers with a string or bytes runs, without loading it.
 */
type WebClass = "Request" | "Response" | "Headers";
type Classes = { Request: typeof Request; Response: typeof Response; Headers: typeof Headers };

// Taken before the runtime replaces globalThis.Response, and without calling the lazy getters.
const originals = {
  Request: Object.getOwnPropertyDescriptor(globalThis, "Request"),
  Response: Object.getOwnPropertyDescriptor(globalThis, "Response"),
  Headers: Object.getOwnPropertyDescriptor(globalThis, "Headers"),
};
const loaded: Partial<Classes> = {};

/** The native class; loads undici on first use. */
export function nativeClass<K extends WebClass>(name: K): Classes[K] {
  let value: Classes[K] | undefined = loaded[name];
  if (value === undefined) {
    const original = originals[name];
    if (original === undefined) throw new Error(`this Node.js has no global ${name}`);
    if (original.get === undefined) {
      value = original.value as Classes[K];
    } else {
      // Node's lazy getter also redefines the global; whatever stands there now (the runtime's own
      // Response) is put back.
      const now = Object.getOwnPropertyDescriptor(globalThis, name);
      value = original.get.call(globalThis) as Classes[K];
      if (now !== undefined) Object.defineProperty(globalThis, name, now);
    }
    loaded[name] = value;
  }
  return value;
}

/**
 * Make `owner`, the prototype of the runtime's own light objects, answer every member of the native
 * class's prototype that it does not define itself, by forwarding to the native object `realize`
 * makes for an instance. The native class is wired in (and undici loaded) on the first look-up that
 * reaches past `owner`.
 */
export function forwardToNative<Self>(
  owner: object,
  name: "Request" | "Response",
  realize: (self: Self) => object,
): void {
  let wired = false;
  const wire = (): void => {
    if (wired) return;
    const native = nativeClass(name).prototype as object;
    Object.setPrototypeOf(owner, native);
    wired = true;
    for (const member of Object.getOwnPropertyNames(native)) {
      if (member === "constructor" || Object.hasOwn(owner, member)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(native, member);
      if (!descriptor) continue;
      if (typeof descriptor.value === "function") {
        const method = descriptor.value as (...args: unknown[]) => unknown;
        Object.defineProperty(owner, member, {
          value(this: Self, ...args: unknown[]) {
            return method.apply(realize(this), args);
          },
          configurable: true,
          writable: true,
        });
      } else if (descriptor.get !== undefined) {
        Object.defineProperty(owner, member, {
          get(this: Self): unknown {
            return Reflect.get(native, member, realize(this));
          },
          configurable: true,
        });
      }
    }
  };
  Object.setPrototypeOf(owner, standInPrototype(owner, wire));
}

/**
 * A stand-in for the native prototype in `owner`'s chain. The first look-up that reaches it (a member
 * `owner` does not define itself, an `in` test, instanceof) calls `wire`, which must put the native
 * prototype in its place; the look-up then continues there. Two cases skip the wiring: a `then`
 * look-up (every promise resolved with the object makes one; the native classes have no `then`
 * either) and assignments, which land on the object itself as they would with the native prototype
 * (whose members are all getters and methods).
 */
function standInPrototype(owner: object, wire: () => void): object {
  return new Proxy(Object.create(null) as object, {
    get(_target, name, receiver) {
      if (name === "then") return undefined;
      wire();
      return Reflect.get(owner, name, receiver) as unknown;
    },
    has(_target, name) {
      wire();
      return Reflect.has(owner, name);
    },
    getPrototypeOf() {
      wire();
      return Reflect.getPrototypeOf(owner);
    },
  });
}
