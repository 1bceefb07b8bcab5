import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

// Where a webhook may not be sent: the server's own network. Checked when an
// endpoint is saved and again on every delivery, on the addresses the request
// actually connects to (guardedLookup), so a DNS answer that changes after the
// check (rebinding) is caught too.

const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], // "this" network
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata (169.254.169.254)
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 127], // unspecified and loopback
  ["fc00::", 7], // unique local, incl. AWS's fd00:ec2::254 metadata
  ["fe80::", 10],
  ["ff00::", 8],
  ["64:ff9b::", 96], // NAT64 onto IPv4
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return blocked.check(mapped[1], "ipv4");
  return blocked.check(address, "ipv6");
}

export interface UrlPolicy {
  production: boolean;
  allowPrivate: boolean;
}

/** Why this URL may not receive webhooks, or null. Resolves the host (every address). */
export async function refuseUrl(raw: string, policy: UrlPolicy): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute http(s) URL";
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && !policy.production)) {
    return policy.production ? "must be an https URL" : "must be an http or https URL";
  }
  if (url.username || url.password) return "must not carry a user name or password";
  if (policy.allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return `its host ${host} does not resolve`;
  }
  const bad = addresses.find(isPrivateAddress);
  return bad ? `its host resolves to ${bad}, a private, loopback, link-local or metadata address` : null;
}

type LookupCallback = (
  error: Error | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;

/** A dns.lookup for http.request that refuses private addresses at connect time. */
export function guardedLookup(allowPrivate: boolean) {
  return (host: string, options: { all?: boolean }, callback: LookupCallback): void => {
    lookup(host, { all: true, verbatim: true }).then(
      (addresses) => {
        const bad = allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
        const first = addresses[0];
        if (bad || !first) {
          callback(new Error(`refused: ${host} resolves to ${bad?.address ?? "nothing"}`), "", 0);
        } else if (options.all) {
          callback(null, addresses);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: Error) => callback(error, "", 0),
    );
  };
}
