import { BlockList, isIP } from "node:net";

// IP allowlists for secret keys, as CIDR blocks (a bare address means /32 or /128).

export type CidrCheck = { ok: true; cidr: string } | { ok: false; message: string };

export function normaliseCidr(value: string): CidrCheck {
  const [address = "", prefix, extra] = value.trim().split("/");
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
  const address = ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const family = isIP(address);
  if (!family) return false;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net = "", bits = "0"] = cidr.split("/");
    const netFamily = isIP(net) === 6 ? "ipv6" : "ipv4";
    list.addSubnet(net, Number(bits), netFamily);
  }
  return list.check(address, family === 6 ? "ipv6" : "ipv4");
}
