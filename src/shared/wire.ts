/**
 * Compact string forms of the two messages every HTTP invocation sends: the request to the
 * instance and the response back. One string is much cheaper to post between threads than an
 * object with many small strings. Fields are separated by NUL, which cannot occur in a method,
 * URL, request id or header (the HTTP parser refuses it); bodies with other bytes than text, and
 * route parameters that decode to a NUL, use the object forms instead.
 */
const SEP = "\0";

export interface HttpRequestFields {
  i: number;
  r: string;
  m: string;
  u: string;
  h: string[];
  p: Record<string, string>;
}

/** "q" i r m u paramCount (k v)* (name value)* */
export function encodeRequest(
  i: number,
  requestId: string,
  method: string,
  url: string,
  headers: string[],
  params: Record<string, string>,
): string | undefined {
  let out = `q${i}${SEP}${requestId}${SEP}${method}${SEP}${url}`;
  let count = 0;
  let pairs = "";
  for (const key in params) {
    const value = params[key]!;
    if (value.includes(SEP) || key.includes(SEP)) return undefined;
    pairs += `${SEP}${key}${SEP}${value}`;
    count++;
  }
  out += `${SEP}${count}${pairs}`;
  for (let n = 0; n < headers.length; n++) out += SEP + headers[n]!;
  return out;
}

export function decodeRequest(text: string): HttpRequestFields {
  const parts = text.split(SEP);
  const p: Record<string, string> = {};
  const count = Number(parts[4]);
  let at = 5;
  for (let n = 0; n < count; n++, at += 2) p[parts[at]!] = parts[at + 1]!;
  return {
    i: Number(parts[0]!.slice(1)),
    r: parts[1]!,
    m: parts[2]!,
    u: parts[3]!,
    h: at === 5 ? parts.slice(5) : parts.slice(at),
    p,
  };
}

/** "s" i status headerCount (name value)* body — the body last, so it may hold NUL itself. */
export function encodeResponse(i: number, status: number, headers: string[], body: string): string {
  let out = `s${i}${SEP}${status}${SEP}${headers.length}`;
  for (let n = 0; n < headers.length; n++) out += SEP + headers[n]!;
  return out + SEP + body;
}

export interface ResponseFields {
  i: number;
  s: number;
  h: string[];
  b: string;
}

export function decodeResponse(text: string): ResponseFields {
  let start = 1;
  let end = text.indexOf(SEP, start);
  const i = Number(text.slice(start, end));
  start = end + 1;
  end = text.indexOf(SEP, start);
  const s = Number(text.slice(start, end));
  start = end + 1;
  end = text.indexOf(SEP, start);
  const count = Number(text.slice(start, end));
  const h: string[] = new Array<string>(count);
  for (let n = 0; n < count; n++) {
    start = end + 1;
    end = text.indexOf(SEP, start);
    h[n] = text.slice(start, end);
  }
  return { i, s, h, b: text.slice(end + 1) };
}
