import { getDomain } from "tldts";

// Allowed origins for publishable keys: exact origins (https://app.example.com,
// http://localhost:3000) or one leading wildcard label (https://*.example.com).
// A wildcard must sit on a registrable domain: *.co.uk or *.github.io would let
// anyone who registers a name there use the key (public suffix list via tldts,
// private suffixes such as github.io included).

// A wildcard origin is parsed with this label standing in for the `*`.
const PLACEHOLDER = "wildcard-placeholder.";

const ORIGIN_SHAPE = /^https?:\/\/(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:\d{1,5})?\/?$/i;

export type OriginCheck = { ok: true; origin: string } | { ok: false; message: string };

export function normaliseOrigin(value: string): OriginCheck {
  const bad = (why: string): OriginCheck => ({ ok: false, message: `"${value.slice(0, 100)}" ${why}` });
  if (value.length > 253) return bad("is too long");
  const wildcard = value.includes("*");
  const probe = wildcard ? value.replace("://*.", `://${PLACEHOLDER}`) : value;
  // Left after replacing a leading "://*.": a * anywhere else.
  if (wildcard && probe.includes("*")) {
    return bad("may only use * as the whole first label, as in https://*.example.com");
  }
  let url: URL;
  try {
    url = new URL(probe);
  } catch {
    return bad("is not an origin such as https://app.example.com");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return bad("must start with https:// or http://");
  if (url.username || url.password) return bad("must not contain credentials");
  // URL() repairs much (https:/x, @x, a trailing NUL), so the written form must be an
  // origin already: the pattern admits no path, query, fragment or credentials.
  if (!ORIGIN_SHAPE.test(value)) {
    return bad("must be only scheme, host and optional port (no path, query or fragment)");
  }
  if (wildcard) {
    const parent = url.hostname.slice(PLACEHOLDER.length);
    if (getDomain(parent, { allowPrivateDomains: true }) === null) {
      return bad(`needs a registrable domain after *. (${parent} is a public suffix), as in https://*.example.com`);
    }
  }
  const origin = `${url.protocol}//${url.host}`;
  return { ok: true, origin: wildcard ? origin.replace(PLACEHOLDER, "*.") : origin };
}

/** Does a browser's Origin header match an allowlist entry? */
export function originAllowed(allowed: readonly string[], origin: string | null): boolean {
  let url: URL;
  try {
    // No Origin header (null) is refused like a garbage one: URL("") throws.
    url = new URL(origin ?? "");
  } catch {
    return false;
  }
  const actual = `${url.protocol}//${url.host}`;
  return allowed.some((entry) => {
    if (!entry.includes("://*.")) return entry === actual;
    const [scheme, rest] = entry.split("://*.") as [string, string];
    return url.protocol === `${scheme}:` && url.host.endsWith(`.${rest}`) && url.host.length > rest.length + 1;
  });
}
