import { api, describe } from "../api.js";
import { h } from "../dom.js";

/** The login page: the admin token is posted once and becomes an HttpOnly session cookie. */
export function loginView(mode: "token" | "open" | "disabled", done: () => void): HTMLElement {
  if (mode === "disabled") {
    return h(
      "div",
      { class: "login" },
      h("h1", null, "Cairn console"),
      h(
        "p",
        null,
        "The console is disabled on this node: start it with CAIRN_ADMIN_TOKEN set (or use cairn dev on your machine).",
      ),
    );
  }
  const input = h("input", {
    type: "password",
    name: "token",
    id: "token",
    autocomplete: "current-password",
    required: true,
    placeholder: "CAIRN_ADMIN_TOKEN",
    "data-testid": "token",
  });
  const error = h("p", { class: "error", role: "alert", "data-testid": "login-error" });
  const form = h(
    "form",
    {
      class: "login",
      onsubmit: (event: Event) => {
        event.preventDefault();
        error.textContent = "";
        api.post("/console/login", { token: input.value }).then(
          () => {
            input.value = "";
            done();
          },
          (failure: unknown) => {
            error.textContent = describe(failure);
            input.select();
          },
        );
      },
    },
    h("h1", null, h("img", { src: "/_cairn/console/favicon.svg", alt: "" }), "Cairn console"),
    h("label", { for: "token" }, "Admin token"),
    input,
    h("button", { type: "submit", "data-testid": "login" }, "Log in"),
    error,
    h(
      "p",
      { class: "hint" },
      "The token stays on this page: the node answers with a session cookie for 12 hours.",
    ),
  );
  setTimeout(() => input.focus(), 0);
  return form;
}
