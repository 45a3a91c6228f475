import FindMyWay from "find-my-way";
import { httpMethods, type HttpMethod } from "../sdk/declarations.js";
import { CairnError } from "../sdk/errors.js";
import type { FunctionSpec } from "../runtime/app.js";

export interface Match<Target> {
  target: Target;
  params: Record<string, string>;
}

type Method = HttpMethod;

/**
 * Method and path routing for functions. Static segments win over parameters, which win over
 * wildcards, so a function may answer one path under a mounted app's prefix. Two functions on the
 * same method and path shape are a conflict, reported with both declarations.
 */
export class Router<Target extends { spec: FunctionSpec }> {
  private readonly router = FindMyWay({
    ignoreTrailingSlash: false,
    caseSensitive: true,
    maxParamLength: 2048,
  });

  constructor(targets: Target[]) {
    const claimed = new Map<string, Target>();
    const conflicts: string[] = [];
    const routes: Array<[Method, string, Target]> = [];
    const claim = (method: Method, path: string, target: Target, implicit = false) => {
      const key = `${method} ${shape(path)}`;
      const other = claimed.get(key);
      if (other !== undefined) {
        if (implicit) return;
        if (other.spec === target.spec) return;
        conflicts.push(`${method} ${path}: ${describe(target)} conflicts with ${describe(other)}`);
        return;
      }
      claimed.set(key, target);
      routes.push([method, path, target]);
    };
    // Explicit routes first, so an explicit HEAD wins over the one implied by a GET.
    for (const target of targets) {
      const { spec } = target;
      const methods = spec.methods === "*" ? httpMethods : (spec.methods as Method[]);
      const paths = spec.kind === "mount" ? mountPaths(spec.path) : [spec.path];
      for (const method of methods) for (const path of paths) claim(method, path, target);
    }
    for (const target of targets) {
      const { spec } = target;
      if (spec.methods === "*" || !spec.methods.includes("GET") || spec.methods.includes("HEAD")) continue;
      claim("HEAD", spec.path, target, true);
    }
    if (conflicts.length > 0) {
      throw new CairnError("route_conflict", `route conflicts:\n  ${conflicts.join("\n  ")}`);
    }
    for (const [method, path, target] of routes) {
      try {
        this.router.on(method, path, () => {}, target);
      } catch (error) {
        throw new CairnError(
          "route_conflict",
          `${describe(target)}: invalid route ${method} ${path}: ${(error as Error).message}`,
        );
      }
    }
  }

  /** Find the function for a path (without its query string). Null when nothing matches. */
  find(method: string, path: string): Match<Target> | null {
    const found = this.router.find(method as Method, path);
    if (found === null || found.store === null) return null;
    return { target: found.store as Target, params: found.params as Record<string, string> };
  }

  /** Methods that would match this path, for a 405's Allow header. */
  allowed(path: string): string[] {
    return httpMethods.filter((method) => this.router.find(method, path) !== null);
  }
}

function mountPaths(prefix: string): string[] {
  return prefix === "/" ? ["/", "/*"] : [prefix, `${prefix}/*`];
}

/** Parameter names do not tell routes apart: /users/:id and /users/:name are the same route. */
function shape(path: string): string {
  return path.replace(/:[^/]+/g, ":");
}

function describe(target: { spec: FunctionSpec }): string {
  return `${target.spec.app}/${target.spec.name} (${target.spec.site})`;
}
