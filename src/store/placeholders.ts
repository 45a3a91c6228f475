/** `?` placeholders to PostgreSQL's `$1, $2, ...`, outside string literals. Cached per SQL text. */
const cache = new Map<string, string>();

export function numbered(sql: string): string {
  let out = cache.get(sql);
  if (out !== undefined) return out;
  let n = 0;
  let inString = false;
  out = "";
  for (const char of sql) {
    if (char === "'") inString = !inString;
    out += char === "?" && !inString ? `$${++n}` : char;
  }
  if (cache.size > 2000) cache.clear();
  cache.set(sql, out);
  return out;
}
