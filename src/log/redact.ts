/** Replaces every occurrence of a secret value with a placeholder, so secrets never reach the logs. */
export class Redactor {
  private pattern: RegExp | undefined;

  constructor(secrets: Iterable<string>) {
    // Very short values would blank out ordinary words; they are not secrets worth the noise.
    const values = [...new Set(secrets)].filter((value) => value.length >= 4);
    values.sort((a, b) => b.length - a.length);
    if (values.length > 0) this.pattern = new RegExp(values.map(escape).join("|"), "g");
  }

  text(value: string): string {
    if (this.pattern === undefined) return value;
    return value.replace(this.pattern, "[redacted]");
  }

  fields(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    if (fields === undefined || this.pattern === undefined) return fields;
    const text = JSON.stringify(fields);
    if (!this.pattern.test(text)) return fields;
    this.pattern.lastIndex = 0;
    return JSON.parse(this.text(text)) as Record<string, unknown>;
  }
}

function escape(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
