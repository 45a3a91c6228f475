import type { WorkflowContext } from "../workflows/types.js";
import type { Context } from "./context.js";
import { declarationBrand } from "./declarations.js";
import type { FunctionOptions } from "./options.js";

/**
 * The workflow's code. `ctx` is the platform context (tables, cache, queues, ...): read through it
 * freely, but do anything with side effects inside steps.
 */
export type WorkflowHandler<Input = unknown, Output = unknown> = (
  input: Input,
  wf: WorkflowContext,
  ctx: Context,
) => Promise<Output>;

export interface WorkflowDeclaration {
  readonly [declarationBrand]: true;
  readonly kind: "workflow";
  readonly workflow: string;
  readonly handler: WorkflowHandler;
  readonly options: FunctionOptions;
  readonly site: Error;
}

/**
 * A durable workflow: `workflow("checkout", async (order, wf) => { ... })`. Start it with
 * ctx.workflows.start("checkout", input) or POST /_cairn/workflows/checkout.
 */
export function workflow<Input = unknown, Output = unknown>(
  name: string,
  handler: WorkflowHandler<Input, Output>,
  options: FunctionOptions = {},
): WorkflowDeclaration {
  if (typeof name !== "string" || !/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/.test(name)) {
    throw new TypeError(
      `workflow("${String(name)}"): names use letters, digits, _, . and -, starting with a letter`,
    );
  }
  if (typeof handler !== "function")
    throw new TypeError(`workflow("${name}"): the handler must be a function`);
  return {
    [declarationBrand]: true,
    kind: "workflow",
    workflow: name,
    handler: handler as WorkflowHandler,
    options,
    site: new Error("declared here"),
  };
}

const nonRetryable = Symbol.for("cairn.nonRetryable");

/** Thrown from a step: fail it at once, without the retries its policy allows. */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NonRetryableError";
    Object.defineProperty(this, nonRetryable, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && nonRetryable in value;
  }
}

export function isNonRetryable(error: unknown): boolean {
  return typeof error === "object" && error !== null && nonRetryable in error;
}
