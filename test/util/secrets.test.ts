import { describe, expect, it } from "vitest";
import { REDACTED, redactSecrets, redactUrlCredentials, secretRedactor } from "../../src/util/secrets.ts";
import { redact } from "../../src/providers/errors.ts";

const env = { OPENAI_API_KEY: "sk-live-0123456789", HF_TOKEN: "hf_abcdefghijkl", SHORT_TOKEN: "abc", PATH: "/usr/bin:/bin-0123456789" };
const texts = [
  "echo sk-live-0123456789 and hf_abcdefghijkl",
  "a key inside a longer one: sk-live-0123456789-extra",
  "url https://user:pass@example.com/v1 and postgres://u@h/db",
  "no secret here, abc and /usr/bin:/bin-0123456789",
  "the key in use: key-in-use-999",
  "",
];

/** What a response's fields were redacted with before the redactor was made once per call. */
function slowRedact(text: string, secrets: readonly string[]): string {
  let out = text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, `$1${REDACTED}@`);
  const values = Object.entries(env)
    .filter(([name, value]) => value.length >= 8 && /(API_KEY|_TOKEN|_SECRET|PASSWORD)$/i.test(name))
    .map(([, value]) => value)
    .sort((a, b) => b.length - a.length);
  for (const value of values) out = out.split(value).join(REDACTED);
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join(REDACTED);
  return out;
}

describe("redacting many texts with one redactor", () => {
  it("gives what redacting each on its own gives", () => {
    const once = secretRedactor(env, ["key-in-use-999", ""]);
    for (const text of texts) {
      expect(once(text)).toBe(slowRedact(text, ["key-in-use-999"]));
      expect(redactSecrets(text, env)).toBe(slowRedact(text, []));
      expect(redact(text, { env, secrets: ["key-in-use-999"] })).toBe(slowRedact(text, ["key-in-use-999"]));
    }
  });

  it("leaves a text without a URL as it is, and hides credentials in one", () => {
    expect(redactUrlCredentials("plain {\"answer\": 3}")).toBe("plain {\"answer\": 3}");
    expect(redactUrlCredentials("see https://me:pw@host/x")).toBe(`see https://${REDACTED}@host/x`);
  });
});
