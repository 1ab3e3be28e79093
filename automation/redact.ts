// Engine output can carry secret values (a failing script's log lines, a
// diagnostic quoting an input). Everything the service logs or stores from the
// engine passes through a Redactor first.

/** Generated secrets are hex (see TemplateSystem); 32+ hex digits are treated as secret. */
const longHex = /\b[0-9a-f]{32,}\b/gi;

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Known secret values (e.g. a resource's credentials), redacted wherever they appear. */
  add(values: Iterable<string>): this {
    // Very short values would redact ordinary words; nothing generated is that short.
    for (const value of values) if (value.length >= 6) this.secrets.add(value);
    return this;
  }

  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) result = result.replaceAll(secret, "[redacted]");
    return result.replace(longHex, "[redacted]");
  }
}
