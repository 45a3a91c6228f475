import { api, describe, query } from "../api.js";
import { bytes, fill, h, routeParams, setRouteParams, time } from "../dom.js";
import type { View } from "./view.js";
import { appSelect } from "./workflows.js";

interface BlobInfo {
  key: string;
  size: number;
  etag: string;
  contentType: string;
  metadata: Record<string, string>;
  lastModified: number;
}

/** Browse blobs by prefix ("folders" split at /), see an object's metadata, download it. */
export const blobsView: View = async (root, context) => {
  const initial = routeParams();
  const app = appSelect(context.apps, initial.get("app") ?? "", false);
  const prefix = h("input", {
    type: "search",
    placeholder: "prefix",
    value: initial.get("prefix") ?? "",
    "data-testid": "prefix",
  });
  const crumbs = h("p", { class: "crumbs" });
  const list = h("div");
  const pager = h("div", { class: "pager" });
  const detail = h("div");
  let cursors: string[] = [];
  let cursor: string | undefined;

  const go = (value: string) => {
    prefix.value = value;
    cursors = [];
    cursor = undefined;
    fill(detail);
    void draw().catch((error: unknown) => context.notice(describe(error), "error"));
  };

  let drawing = 0;
  const draw = async () => {
    // Only the latest listing is shown, whatever order the answers arrive in.
    const mine = ++drawing;
    setRouteParams({ app: app.value, prefix: prefix.value || undefined });
    const parts = prefix.value.split("/").filter((part, i, all) => part !== "" || i < all.length - 1);
    fill(
      crumbs,
      h("button", { class: "link", onclick: () => go("") }, "(root)"),
      parts.map((part, i) => [
        " / ",
        h("button", { class: "link", onclick: () => go(`${parts.slice(0, i + 1).join("/")}/`) }, part),
      ]),
    );
    const page = await api.get<{ objects: BlobInfo[]; prefixes: string[]; cursor?: string }>(
      `/blobs${query({ app: app.value, prefix: prefix.value, delimiter: "/", limit: 50, cursor })}`,
    );
    if (mine !== drawing) return;
    fill(
      list,
      h(
        "table",
        { class: "blobs", "data-testid": "blobs" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["Key", "Size", "Type", "Modified"].map((label) => h("th", null, label)),
          ),
        ),
        h(
          "tbody",
          null,
          page.prefixes.length + page.objects.length === 0
            ? h("tr", null, h("td", { colspan: 4, class: "empty" }, "Nothing under this prefix."))
            : [
                page.prefixes.map((folder) =>
                  h(
                    "tr",
                    { class: "clickable folder", "data-prefix": folder, onclick: () => go(folder) },
                    h("td", null, `📁 ${folder.slice(prefix.value.length)}`),
                    h("td", null, "–"),
                    h("td", null, "prefix"),
                    h("td", null, ""),
                  ),
                ),
                page.objects.map((object) =>
                  h(
                    "tr",
                    { class: "clickable", "data-key": object.key, onclick: () => void open(object.key) },
                    h("td", null, h("code", null, object.key.slice(prefix.value.length))),
                    h("td", null, bytes(object.size)),
                    h("td", null, object.contentType),
                    h("td", null, time(object.lastModified)),
                  ),
                ),
              ],
        ),
      ),
    );
    fill(
      pager,
      cursors.length > 0
        ? h("button", { onclick: () => ((cursor = cursors.pop() || undefined), void draw()) }, "← Previous")
        : null,
      page.cursor !== undefined
        ? h(
            "button",
            { onclick: () => (cursors.push(cursor ?? ""), (cursor = page.cursor), void draw()) },
            "Next page →",
          )
        : null,
    );
  };

  const open = async (key: string) => {
    try {
      // The info comes with a presigned URL (valid 5 minutes): the download never needs the admin token.
      const info = await api.get<BlobInfo & { url: string }>(`/blobs${query({ app: app.value, key })}`);
      fill(
        detail,
        h(
          "div",
          { class: "inspect", "data-testid": "blob" },
          h("h3", null, info.key),
          h(
            "dl",
            null,
            h("dt", null, "Size"),
            h("dd", null, `${bytes(info.size)} (${info.size} bytes)`),
            h("dt", null, "Content type"),
            h("dd", null, info.contentType),
            h("dt", null, "ETag"),
            h("dd", null, h("code", null, info.etag)),
            h("dt", null, "Modified"),
            h("dd", null, time(info.lastModified)),
            h("dt", null, "Metadata"),
            h(
              "dd",
              { "data-testid": "blob-metadata" },
              Object.keys(info.metadata).length === 0
                ? "none"
                : Object.entries(info.metadata).map(([k, v]) => h("div", null, h("code", null, k), ": ", v)),
            ),
          ),
          h(
            "a",
            {
              class: "button",
              href: info.url,
              download: info.key.split("/").pop() ?? "blob",
              "data-testid": "download",
            },
            "Download",
          ),
          h("p", { class: "hint" }, "A presigned URL, valid for 5 minutes."),
        ),
      );
    } catch (error) {
      context.notice(describe(error), "error");
    }
  };

  app.addEventListener("change", () => go(""));
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (event: Event) => {
        event.preventDefault();
        go(prefix.value);
      },
    },
    context.apps.length > 1 ? app : null,
    prefix,
    h("button", { type: "submit", "data-testid": "list" }, "List"),
  );
  fill(root, h("h1", null, "Blobs"), form, crumbs, list, pager, detail);
  await draw();
};
