/**
 * The vendors' own API hosts. A base URL elsewhere is a self-hosted or
 * third-party server: its requests are built for compatibility, and its
 * calls are priced at 0 unless the study says otherwise.
 */
import type { Vendor } from "./types.ts";

export type RemoteVendor = Exclude<Vendor, "simulated">;

const OFFICIAL_HOSTS: Record<RemoteVendor, string> = {
  anthropic: "api.anthropic.com",
  openai: "api.openai.com",
};

/** The environment variables each vendor reads its key and base URL from. */
export const VENDOR_ENV: Record<RemoteVendor, { key: string; baseURL: string }> = {
  anthropic: { key: "ANTHROPIC_API_KEY", baseURL: "ANTHROPIC_BASE_URL" },
  openai: { key: "OPENAI_API_KEY", baseURL: "OPENAI_BASE_URL" },
};

/** True when `baseURL` is unset or on the vendor's own host. */
export function isOfficialEndpoint(vendor: RemoteVendor, baseURL: string | undefined): boolean {
  if (baseURL === undefined || baseURL.trim() === "") return true;
  try {
    return new URL(baseURL).hostname === OFFICIAL_HOSTS[vendor];
  } catch {
    return false;
  }
}
