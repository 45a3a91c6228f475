import { http } from "cairn";
import { problem, readJson } from "./_lib/http.js";
import { blobKeyOf, readStatus, setStatus } from "./_lib/status.js";

/** A file name as the client knows it: 1 to 255 characters, no control characters. */
const validName = (name: unknown): name is string =>
  typeof name === "string" && name.length > 0 && name.length <= 255 && !/\p{Cc}/u.test(name);

/** `type/subtype` with optional parameters, in printable ASCII (what a presigned URL can bind). */
const validContentType = (type: unknown): type is string =>
  typeof type === "string" && type.length <= 256 && /^[\w.+-]+\/[\w.+-]+(\s*;[\x20-\x7e]*)?$/.test(type);

/**
 * POST /files { name, contentType? } → 201 { fileId, uploadUrl }. The client PUTs the bytes to
 * `uploadUrl` (a presigned URL, valid 15 minutes, bound to `contentType` when given); the upload's
 * `blob.created` event starts processing.
 */
export const createFile = http("POST /files", async (request, ctx) => {
  const body = await readJson(request);
  if (!validName(body?.name)) return problem(400, "invalid_name", "name: 1 to 255 characters");
  const contentType = body?.contentType;
  if (contentType !== undefined && !validContentType(contentType))
    return problem(400, "invalid_content_type", 'contentType: a media type such as "image/png"');

  const fileId = crypto.randomUUID();
  const key = blobKeyOf(fileId);
  await ctx.tables.files.put(
    {
      fileId,
      name: body.name,
      key,
      createdAt: Date.now(),
      ...(contentType !== undefined && { declaredType: contentType }),
    },
    { ifNotExists: true },
  );
  await setStatus(ctx, { fileId, status: "awaiting_upload", metadata: null });
  const uploadUrl = await ctx.blobs.presign(key, {
    method: "PUT",
    expiresIn: "15m",
    maxSize: Number(ctx.env.MAX_UPLOAD_BYTES),
    ...(contentType !== undefined && { contentType }),
  });
  return Response.json({ fileId, uploadUrl }, { status: 201, headers: { location: `/files/${fileId}` } });
});

/** GET /files/:fileId → { fileId, status, metadata, error? }: from the cache, else the tables. */
export const getFile = http("GET /files/:fileId", async (_request, ctx) => {
  const view = await readStatus(ctx, ctx.params.fileId);
  if (view === undefined) return problem(404, "not_found", `no file ${ctx.params.fileId}`);
  return Response.json(view);
});
