import type { Context, FetchContext, RouteParams } from "./context.js";
import type { FunctionOptions } from "./options.js";
import type { TriggerDeclaration } from "./triggers.js";
import type { WorkflowDeclaration } from "./workflow.js";

/**
 * Declarations are plain objects tagged with a registered symbol, so the runtime recognises them even
 * when the app bundles its own copy of this module.
 */
export const declarationBrand = Symbol.for("cairn.declaration");

export const httpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type HttpMethod = (typeof httpMethods)[number];

export type HttpHandler<Params = Record<string, string>> = (
  request: Request,
  ctx: Context<Params>,
) => Response | Promise<Response>;

/** Anything with a Web-standard `fetch`, such as a Hono app. */
export interface FetchApp {
  fetch(request: Request, env: Record<string, unknown>, ctx: FetchContext): Response | Promise<Response>;
}
export type FetchHandler = FetchApp["fetch"];

interface DeclarationBase {
  readonly [declarationBrand]: true;
  readonly options: FunctionOptions;
  /** Where the declaration was made; formatted into file:line only when reported. */
  readonly site: Error;
}

export interface HttpDeclaration extends DeclarationBase {
  readonly kind: "http";
  /** Upper-case methods, or "*" for all of them. */
  readonly methods: readonly HttpMethod[] | "*";
  readonly path: string;
  readonly handler: HttpHandler;
}

export interface MountOptions extends FunctionOptions {
  /** Remove the prefix from the URL the app sees (default false: the app sees the full path). */
  stripPrefix?: boolean;
}

export interface MountDeclaration extends DeclarationBase {
  readonly kind: "mount";
  readonly prefix: string;
  readonly stripPrefix: boolean;
  readonly fetch: FetchHandler;
}

export type Declaration = HttpDeclaration | MountDeclaration | TriggerDeclaration | WorkflowDeclaration;

export function isDeclaration(value: unknown): value is Declaration {
  return typeof value === "object" && value !== null && declarationBrand in value;
}

/**
 * An HTTP function: `http("GET /users/:id", handler)`. The route is an optional method list
 * (`GET`, `GET|POST`, `*`) and a path with named parameters (`:id`) and a trailing wildcard (`*`).
 */
export function http<Route extends string>(
  route: Route,
  handler: HttpHandler<RouteParams<Route>>,
  options: FunctionOptions = {},
): HttpDeclaration {
  const { methods, path } = parseRoute(route);
  if (typeof handler !== "function") throw new TypeError(`http("${route}"): the handler must be a function`);
  return {
    [declarationBrand]: true,
    kind: "http",
    methods,
    path,
    handler: handler as HttpHandler,
    options,
    site: new Error("declared here"),
  };
}

/** Mount a whole Web-standard app (anything with `fetch(request, env, ctx)`) at a path prefix. */
export function mount(
  prefix: string,
  app: FetchApp | FetchHandler,
  options: MountOptions = {},
): MountDeclaration {
  if (!prefix.startsWith("/")) throw new TypeError(`mount("${prefix}"): the prefix must start with "/"`);
  const fetch: FetchHandler | undefined =
    typeof app === "function" ? app : typeof app?.fetch === "function" ? app.fetch.bind(app) : undefined;
  if (!fetch)
    throw new TypeError(`mount("${prefix}"): expected an app with a fetch(request, env, ctx) method`);
  const { stripPrefix = false, ...functionOptions } = options;
  const normalized = prefix.length > 1 ? prefix.replace(/\/+$/, "") : prefix;
  return {
    [declarationBrand]: true,
    kind: "mount",
    prefix: normalized,
    stripPrefix,
    fetch,
    options: functionOptions,
    site: new Error("declared here"),
  };
}

function parseRoute(route: string): { methods: readonly HttpMethod[] | "*"; path: string } {
  const trimmed = route.trim();
  const space = trimmed.indexOf(" ");
  const methodPart = space === -1 ? "*" : trimmed.slice(0, space);
  const path = space === -1 ? trimmed : trimmed.slice(space + 1).trim();
  if (!path.startsWith("/")) throw new TypeError(`http("${route}"): the path must start with "/"`);
  if (methodPart === "*" || methodPart === "ANY") return { methods: "*", path };
  const methods = methodPart.split("|").map((m) => m.toUpperCase());
  for (const method of methods) {
    if (!(httpMethods as readonly string[]).includes(method)) {
      throw new TypeError(
        `http("${route}"): unknown method "${method}"; use one of ${httpMethods.join(", ")} or *`,
      );
    }
  }
  return { methods: methods as HttpMethod[], path };
}
