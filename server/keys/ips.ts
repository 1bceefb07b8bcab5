import { BlockList, isIP } from "node:net";

// IP allowlists for secret keys, as CIDR blocks (a bare address means /32 or /128).

export type CidrCheck = { ok: true; cidr: string } | { ok: false; message: string };

export function normaliseCidr(value: string): CidrCheck {
  // split() always gives at least one part.
  const [address, prefix, extra] = value.trim().split("/") as [string, string?, string?];
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const bad = {
    ok: false as const,
    message: `"${value.slice(0, 60)}" is not an IP address or CIDR block such as 203.0.113.0/24`,
  };
  if (!family || extra !== undefined) return bad;
  if (prefix === undefined) return { ok: true, cidr: `${address.toLowerCase()}/${max}` };
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return bad;
  return { ok: true, cidr: `${address.toLowerCase()}/${Number(prefix)}` };
}

export function ipAllowed(cidrs: readonly string[], ip: string | null): boolean {
  if (!ip) return false;
  const family = isIP(ip);
  if (!family) return false;
  // BlockList matches an IPv4-mapped IPv6 address (::ffff:10.0.0.7, what a dual-stack
  // socket reports) against IPv4 blocks itself.
  const list = new BlockList();
  for (const cidr of cidrs) {
    // Stored blocks are normalised (normaliseCidr): always address/bits.
    const [net, bits] = cidr.split("/") as [string, string];
    list.addSubnet(net, Number(bits), isIP(net) === 6 ? "ipv6" : "ipv4");
  }
  return list.check(ip, family === 6 ? "ipv6" : "ipv4");
}
