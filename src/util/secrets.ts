/**
 * API keys must never reach a file or a log. Every line silicon prints or
 * stores that could carry text from a vendor or an SDK passes through
 * `redactSecrets`, which replaces the value of any secret-looking environment
 * variable with a placeholder.
 */

const SECRET_NAME = /(API_KEY|_TOKEN|_SECRET|PASSWORD)$/i;
/** Shorter values are too likely to occur by chance in ordinary text. */
const MIN_SECRET_LENGTH = 8;

export const REDACTED = "[redacted]";

/** Values of environment variables whose names look secret, longest first. */
export function secretValues(env: NodeJS.ProcessEnv = process.env): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= MIN_SECRET_LENGTH && SECRET_NAME.test(name)) values.add(value);
  }
  return [...values].sort((a, b) => b.length - a.length);
}

/** `scheme://user:password@` in a URL: credentials whatever the environment holds. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** A URL with its user name and password (if any) replaced: safe to print. */
export function redactUrlCredentials(text: string): string {
  // Most texts hold no URL at all (every answer does not): no regex scan for them.
  return text.includes("://") ? text.replace(URL_CREDENTIALS, `$1${REDACTED}@`) : text;
}

/** Replaces every secret value (see `secretValues`) in `text`, and credentials inside URLs. */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return secretRedactor(env)(text);
}

/**
 * `redactSecrets` for many texts at once (the fields of one response): the
 * environment is read for secret values once, not once per text. `extra`
 * values (the key in use) are replaced after those.
 */
export function secretRedactor(env: NodeJS.ProcessEnv = process.env, extra: readonly string[] = []): (text: string) => string {
  const values = [...secretValues(env), ...extra.filter((value) => value.length > 0)];
  return (text) => {
    let out = redactUrlCredentials(text);
    for (const value of values) {
      if (out.includes(value)) out = out.split(value).join(REDACTED);
    }
    return out;
  };
}
