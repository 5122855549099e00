/**
 * A dry run sends nothing, so it needs no API key: the providers are still
 * built (the plan needs their capabilities), with a stand-in key that never
 * leaves the process, and the user is told which key a real run will need.
 */
import { isOfficialEndpoint, VENDOR_ENV, type RemoteVendor } from "../providers/endpoints.ts";

/** Not a credential: what a provider is built with when a dry run has no key. */
export const STAND_IN_KEY = "silicon-dry-run-sends-nothing";

/**
 * `env` with a stand-in for `model`'s missing API key, and a note saying a
 * real run needs it (`keyVariable` names an endpoint's own api_key_env).
 * A self-hosted OpenAI-compatible server may need no key: no note then.
 */
export function dryRunEnv(
  env: NodeJS.ProcessEnv,
  model: string,
  where: { baseURL?: string | undefined; keyVariable?: string | undefined },
  log: (line: string) => void,
): NodeJS.ProcessEnv {
  const vendor = model.slice(0, model.indexOf(":"));
  if (!(vendor in VENDOR_ENV)) return env;
  const names = VENDOR_ENV[vendor as RemoteVendor];
  if ((env[names.key] ?? "").trim() !== "") return env;
  const baseURL = where.baseURL ?? env[names.baseURL];
  if (vendor === "anthropic" || isOfficialEndpoint(vendor as RemoteVendor, baseURL)) {
    log(`note: ${where.keyVariable ?? names.key} is not set: this dry run sends nothing, but generating for ${model} will need it`);
  }
  return { ...env, [names.key]: STAND_IN_KEY };
}
