import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { metadataSchema } from "../../server/keys/input";
import { ipAllowed, normaliseCidr } from "../../server/keys/ips";
import { normaliseOrigin, originAllowed } from "../../server/keys/origins";
import {
  effectiveScopes,
  holdsScope,
  isPublishableScope,
  isReadScope,
  normaliseScopes,
  serviceOfScope,
} from "../../server/keys/scopes";
import { createSecretBox } from "../../server/keys/secret-box";
import {
  checkKeyUse,
  checkRequiredServices,
  type InactiveServices,
  type KeyState,
  keyStatus,
  NO_INACTIVE_SERVICES,
} from "../../server/keys/status";
import { EXPECTED_WORKSPACE_SCOPES } from "../helpers/vocabulary";

// The pure rules around a key (DESIGN.md "ApiKey", "Roles and scopes"): which scopes,
// origins and CIDR blocks may be stored, whether a request's Origin / IP matches, the
// order in which a key's state refuses a use, metadata limits, and the secret box.

// The scope vocabulary as the design names it.

describe("normaliseScopes", () => {
  it("refuses more than 100 scopes, and an unknown one naming at most 80 of its characters and every known scope", () => {
    expect(normaliseScopes(Array.from({ length: 101 }, () => "keys:read"))).toEqual({
      ok: false,
      message: "at most 100 scopes",
    });
    const long = `x${"y".repeat(200)}`;
    expect(normaliseScopes(["keys:read", long])).toEqual({
      ok: false,
      message: `unknown scope "${long.slice(0, 80)}": use one of ${EXPECTED_WORKSPACE_SCOPES.join(", ")} or service.<slug>.<action>`,
    });
  });

  it.each(EXPECTED_WORKSPACE_SCOPES)("accepts the known scope %s", (scope) => {
    expect(normaliseScopes([scope])).toEqual({ ok: true, scopes: [scope] });
  });

  it("accepts all known scopes together, in order", () => {
    expect(normaliseScopes(EXPECTED_WORKSPACE_SCOPES)).toEqual({ ok: true, scopes: EXPECTED_WORKSPACE_SCOPES });
  });

  it.each([
    "service.forms.read",
    "service.forms.write",
    "service.forms.delete_all",
    "service.my-app2.read",
    "service.a.b",
    "service.0.read",
    `service.${"a".repeat(40)}.read`,
  ])("accepts the service scope %s", (scope) => {
    expect(normaliseScopes([scope])).toEqual({ ok: true, scopes: [scope] });
  });

  it.each([
    "",
    "keys",
    "keys:",
    ":read",
    "keys:admin",
    "key:read",
    "keys:reads",
    "keys:reed",
    "keys.read",
    "KEYS:READ",
    "Keys:read",
    "keys:Read",
    " keys:read",
    "keys:read ",
    "keys:*",
    "members:*",
    "*:read",
    "**",
    "service..read",
    "service.forms",
    "service.forms.",
    "service.forms.*",
    "service.*.read",
    "service.Forms.read",
    "service.forms.Read",
    "SERVICE.forms.read",
    "service.-forms.read",
    "service.forms-.read",
    "service.for ms.read",
    "service.forms.read.extra",
    "service.forms.9read",
    "services.forms.read",
    "service:forms:read",
    `service.${"a".repeat(41)}.read`,
    `service.forms.${"a".repeat(33)}`,
    "keys:read\u0000",
  ])("rejects %j with a message naming it", (scope) => {
    const result = normaliseScopes(["keys:read", scope]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(scope.slice(0, 20));
  });

  it("removes duplicates and keeps first-seen order", () => {
    expect(
      normaliseScopes([
        "keys:write",
        "keys:read",
        "keys:write",
        "service.forms.read",
        "keys:read",
        "service.forms.read",
      ]),
    ).toEqual({ ok: true, scopes: ["keys:write", "keys:read", "service.forms.read"] });
  });

  it("accepts an empty list", () => {
    expect(normaliseScopes([])).toEqual({ ok: true, scopes: [] });
  });

  it("refuses more than 100 scopes", () => {
    const many = Array.from({ length: 101 }, (_, i) => `service.s${i}.read`);
    expect(normaliseScopes(many).ok).toBe(false);
    expect(normaliseScopes(many.slice(0, 100)).ok).toBe(true);
  });

  it("the output is always duplicate-free and drawn from the input (property)", () => {
    const scope = fc.constantFrom(...EXPECTED_WORKSPACE_SCOPES, "service.forms.read", "service.billing.write");
    fc.assert(
      fc.property(fc.array(scope, { maxLength: 100 }), (scopes) => {
        const result = normaliseScopes(scopes);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(new Set(result.scopes).size).toBe(result.scopes.length);
        expect(new Set(result.scopes)).toEqual(new Set(scopes));
      }),
      { numRuns: 500 },
    );
  });
});

describe("isReadScope", () => {
  it.each(["keys:read", "members:read", "workspace:read", "audit:read", "service.forms.read", "service.my-app.read"])(
    "%s is a read scope",
    (scope) => {
      expect(isReadScope(scope)).toBe(true);
    },
  );

  it.each([
    "keys:write",
    "keys:verify",
    "members:write",
    "workspace:write",
    "webhooks:write",
    "service.forms.write",
    "service.forms.reader",
    "service.forms.unread",
    "service.read.write",
    "service..read",
    "*",
    "",
  ])("%j is not a read scope", (scope) => {
    expect(isReadScope(scope)).toBe(false);
  });
});

describe("isPublishableScope and effectiveScopes", () => {
  it.each(["keys:read", "service.forms.read", "service.my-app.read"])("%s may sit on a publishable key", (scope) => {
    expect(isPublishableScope(scope)).toBe(true);
  });

  it.each(["members:read", "audit:read", "workspace:read", "keys:write", "keys:verify", "service.forms.write", "*"])(
    "%s may not sit on a publishable key",
    (scope) => {
      expect(isPublishableScope(scope)).toBe(false);
    },
  );

  it("a publishable key holds only its allowed scopes; a secret key holds all of its own", () => {
    const scopes = ["keys:read", "members:read", "audit:read", "service.forms.read", "workspace:read"];
    expect(effectiveScopes({ type: "PUBLISHABLE", scopes })).toEqual(["keys:read", "service.forms.read"]);
    expect(effectiveScopes({ type: "SECRET", scopes })).toEqual(scopes);
  });
});

describe("holdsScope", () => {
  it('"*" holds every scope', () => {
    for (const wanted of [...EXPECTED_WORKSPACE_SCOPES, "service.forms.write", "anything"]) {
      expect(holdsScope(["*"], wanted)).toBe(true);
      expect(holdsScope(["keys:read", "*"], wanted)).toBe(true);
    }
  });

  it("otherwise only the exact scope is held", () => {
    expect(holdsScope(["keys:read"], "keys:read")).toBe(true);
    expect(holdsScope(["keys:read"], "keys:write")).toBe(false);
    expect(holdsScope(["keys:read"], "KEYS:READ")).toBe(false);
    expect(holdsScope(["service.forms.read"], "service.forms.write")).toBe(false);
    expect(holdsScope(["service.forms.read"], "service.billing.read")).toBe(false);
    expect(holdsScope([], "keys:read")).toBe(false);
    expect(holdsScope(["keys:*"], "keys:read")).toBe(false);
  });
});

describe("normaliseOrigin", () => {
  it.each([
    ["https://app.example.com", "https://app.example.com"],
    ["http://localhost:3000", "http://localhost:3000"],
    ["https://app.example.com:8443", "https://app.example.com:8443"],
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080"],
    ["http://[::1]:3000", "http://[::1]:3000"],
    ["https://app.example.com/", "https://app.example.com"],
    ["https://app.example.com:8443/", "https://app.example.com:8443"],
    ["HTTPS://App.Example.COM", "https://app.example.com"],
    ["https://*.example.com", "https://*.example.com"],
    ["https://*.example.com/", "https://*.example.com"],
    ["http://*.example.com:3000", "http://*.example.com:3000"],
    ["https://*.Example.COM", "https://*.example.com"],
    ["https://*.example.co.uk", "https://*.example.co.uk"],
    ["https://*.app.example.com", "https://*.app.example.com"],
    ["https://*.someone.github.io", "https://*.someone.github.io"],
    ["https://*.corp.internal", "https://*.corp.internal"],
  ])("accepts %s as %s", (input, origin) => {
    expect(normaliseOrigin(input)).toEqual({ ok: true, origin });
  });

  const PATH = "must be only scheme, host and optional port (no path, query or fragment)";
  const CREDENTIALS = "must not contain credentials";
  const SCHEME = "must start with https:// or http://";
  const NOT_ORIGIN = "is not an origin such as https://app.example.com";
  const STAR = "may only use * as the whole first label, as in https://*.example.com";
  const suffix = (parent: string) =>
    `needs a registrable domain after *. (${parent} is a public suffix), as in https://*.example.com`;

  it.each([
    ["https://app.example.com/path", PATH],
    ["https://app.example.com//", PATH],
    ["https://app.example.com/app/", PATH],
    ["https://app.example.com?x=1", PATH],
    ["https://app.example.com/?x=1", PATH],
    ["https://app.example.com?", PATH],
    ["https://app.example.com#frag", PATH],
    ["https://app.example.com/#", PATH],
    ["https://user:pass@app.example.com", CREDENTIALS],
    ["https://user@app.example.com", CREDENTIALS],
    ["https://:pass@app.example.com", CREDENTIALS],
    ["https://@app.example.com", PATH],
    ["ftp://app.example.com", SCHEME],
    ["ws://app.example.com", SCHEME],
    ["file:///etc/passwd", SCHEME],
    ["javascript:alert(1)", SCHEME],
    ["data:text/html,hi", SCHEME],
    ["ftp://*.example.com", SCHEME],
    ["app.example.com", NOT_ORIGIN],
    ["//app.example.com", NOT_ORIGIN],
    ["https:/app.example.com", PATH],
    ["https:app.example.com", PATH],
    ["https://", NOT_ORIGIN],
    ["*.example.com", STAR],
    ["*", STAR],
    ["https://*", STAR],
    ["https://*.com", suffix("com")],
    ["https://*.co.uk", suffix("co.uk")],
    ["https://*.com.au", suffix("com.au")],
    ["https://*.github.io", suffix("github.io")],
    ["https://*.herokuapp.com", suffix("herokuapp.com")],
    ["http://*.localhost:3000", suffix("localhost")],
    ["https://*.example.com/path", PATH],
    ["https://a.*.example.com", STAR],
    ["https://*.*.example.com", STAR],
    ["https://*example.com", STAR],
    ["https://ex*ample.com", STAR],
    ["*://app.example.com", STAR],
    ["https://app.example.com:99999", NOT_ORIGIN],
    ["not an origin", NOT_ORIGIN],
    ["", NOT_ORIGIN],
    [" ", NOT_ORIGIN],
    ["https://app.example.com\u0000", PATH],
    [`https://app.example.com/${"a".repeat(60)}`, PATH],
  ])("rejects %j: %s", (input, why) => {
    expect(normaliseOrigin(input)).toEqual({ ok: false, message: `"${input}" ${why}` });
  });

  it("refuses anything longer than 253 characters, quoting only its first 100", () => {
    const longest = `https://${"a".repeat(241)}.com`;
    expect(longest).toHaveLength(253);
    expect(normaliseOrigin(longest)).toEqual({ ok: true, origin: longest });
    const tooLong = `https://${"a".repeat(242)}.com`;
    expect(normaliseOrigin(tooLong)).toEqual({ ok: false, message: `"${tooLong.slice(0, 100)}" is too long` });
    const path = `https://app.example.com/${"a".repeat(200)}`;
    expect(normaliseOrigin(path)).toEqual({ ok: false, message: `"${path.slice(0, 100)}" ${PATH}` });
  });

  it("rejects any 300-character string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary-ascii", minLength: 300, maxLength: 300 }), (tail) => {
        expect(normaliseOrigin(tail).ok).toBe(false);
        expect(normaliseOrigin(`https://${tail}`.slice(0, 300)).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
    expect(normaliseOrigin(`https://${"a.".repeat(146)}com`).ok).toBe(false);
  });

  it("never throws and anything accepted is a bare scheme://host[:port] (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.webUrl(), fc.string({ maxLength: 80 })), (input) => {
        const result = normaliseOrigin(input);
        if (result.ok) {
          expect(result.origin).toMatch(/^https?:\/\/[^/?#@\s]+$/);
          expect(normaliseOrigin(result.origin)).toEqual(result);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("originAllowed", () => {
  const exact = ["https://app.example.com", "http://localhost:3000"];
  const wildcard = ["https://*.example.com"];

  it("matches an exact origin, ignoring the case of scheme and host", () => {
    expect(originAllowed(exact, "https://app.example.com")).toBe(true);
    expect(originAllowed(exact, "https://APP.Example.com")).toBe(true);
    expect(originAllowed(exact, "HTTPS://app.example.com")).toBe(true);
    expect(originAllowed(exact, "http://localhost:3000")).toBe(true);
  });

  it("does not match a different host, scheme or port", () => {
    expect(originAllowed(exact, "https://app.example.org")).toBe(false);
    expect(originAllowed(exact, "https://evil.app.example.com")).toBe(false);
    expect(originAllowed(exact, "https://app.example.com.evil.com")).toBe(false);
    expect(originAllowed(exact, "http://app.example.com")).toBe(false);
    expect(originAllowed(exact, "https://app.example.com:8443")).toBe(false);
    expect(originAllowed(exact, "http://localhost:3001")).toBe(false);
    expect(originAllowed(exact, "http://localhost")).toBe(false);
    expect(originAllowed(exact, "https://app.example.com@evil.com")).toBe(false);
  });

  it("a wildcard matches subdomains at any depth", () => {
    expect(originAllowed(wildcard, "https://sub.example.com")).toBe(true);
    expect(originAllowed(wildcard, "https://a.b.example.com")).toBe(true);
    expect(originAllowed(wildcard, "https://SUB.EXAMPLE.COM")).toBe(true);
  });

  it("a wildcard does not match the bare domain, look-alikes, another scheme or port", () => {
    expect(originAllowed(wildcard, "https://example.com")).toBe(false);
    expect(originAllowed(wildcard, "https://evil-example.com")).toBe(false);
    expect(originAllowed(wildcard, "https://evilexample.com")).toBe(false);
    expect(originAllowed(wildcard, "https://sub.example.com.evil.com")).toBe(false);
    expect(originAllowed(wildcard, "https://sub.example.co")).toBe(false);
    expect(originAllowed(wildcard, "http://sub.example.com")).toBe(false);
    expect(originAllowed(wildcard, "https://sub.example.com:8443")).toBe(false);
    expect(originAllowed(wildcard, "https://.example.com")).toBe(false);
  });

  it("a null, empty, 'null' or garbage origin is never allowed", () => {
    for (const list of [exact, wildcard, [...exact, ...wildcard]]) {
      expect(originAllowed(list, null)).toBe(false);
      expect(originAllowed(list, "")).toBe(false);
      expect(originAllowed(list, "null")).toBe(false);
      expect(originAllowed(list, "not a url")).toBe(false);
      expect(originAllowed(list, "*.example.com")).toBe(false);
    }
  });

  it("an empty allowlist allows nothing", () => {
    expect(originAllowed([], "https://app.example.com")).toBe(false);
  });

  it("any listed origin suffices", () => {
    expect(originAllowed([...exact, ...wildcard], "https://x.example.com")).toBe(true);
    expect(originAllowed([...exact, ...wildcard], "http://localhost:3000")).toBe(true);
  });

  it("a wildcard allows every generated subdomain and never the parent or a look-alike (property)", () => {
    const label = fc.stringMatching(/^[a-z0-9]{1,10}(?:-[a-z0-9]{1,10})?$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 4 }), label, (subs, lookalike) => {
        expect(originAllowed(wildcard, `https://${subs.join(".")}.example.com`)).toBe(true);
        expect(originAllowed(wildcard, `http://${subs.join(".")}.example.com`)).toBe(false);
        expect(originAllowed(wildcard, `https://${lookalike}example.com`)).toBe(false);
        expect(originAllowed(wildcard, `https://${subs.join(".")}.example.com.${lookalike}`)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe("normaliseCidr", () => {
  it.each([
    ["203.0.113.0/24", "203.0.113.0/24"],
    ["203.0.113.7", "203.0.113.7/32"],
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["1.2.3.4/32", "1.2.3.4/32"],
    [" 1.2.3.4 ", "1.2.3.4/32"],
    ["2001:db8::/64", "2001:db8::/64"],
    ["2001:DB8::/64", "2001:db8::/64"],
    ["2001:db8::1", "2001:db8::1/128"],
    ["::1", "::1/128"],
    ["::/0", "::/0"],
    ["2001:db8::/128", "2001:db8::/128"],
  ])("accepts %s as %s", (input, cidr) => {
    expect(normaliseCidr(input)).toEqual({ ok: true, cidr });
  });

  it.each([
    "",
    " ",
    "/24",
    "1.2.3.4/",
    "1.2.3.4/33",
    "1.2.3.4/100",
    "1.2.3.4/-1",
    "1.2.3.4/+8",
    "1.2.3.4/8.0",
    "1.2.3.4/0x10",
    "1.2.3.4/ 8",
    "1.2.3.4/8/9",
    "1.2.3.4//8",
    "2001:db8::/129",
    "2001:db8::/1000",
    "300.1.1.1",
    "1.2.3",
    "1.2.3.4.5",
    "01.2.3.4",
    "1.2.3.4a",
    "localhost",
    "example.com/24",
    "2001:db8:::1",
    "*",
    "1.2.3.*",
  ])("rejects %j", (input) => {
    expect(normaliseCidr(input)).toEqual({
      ok: false,
      message: `"${input}" is not an IP address or CIDR block such as 203.0.113.0/24`,
    });
  });

  it("quotes at most 60 characters of what it refuses", () => {
    const long = `${"1".repeat(100)}/24`;
    expect(normaliseCidr(long)).toEqual({
      ok: false,
      message: `"${"1".repeat(60)}" is not an IP address or CIDR block such as 203.0.113.0/24`,
    });
  });
});

describe("ipAllowed", () => {
  it("checks IPv4 /24 membership", () => {
    const cidrs = ["203.0.113.0/24"];
    expect(ipAllowed(cidrs, "203.0.113.0")).toBe(true);
    expect(ipAllowed(cidrs, "203.0.113.7")).toBe(true);
    expect(ipAllowed(cidrs, "203.0.113.255")).toBe(true);
    expect(ipAllowed(cidrs, "203.0.112.255")).toBe(false);
    expect(ipAllowed(cidrs, "203.0.114.0")).toBe(false);
    expect(ipAllowed(cidrs, "10.0.0.1")).toBe(false);
  });

  it("a bare address (normalised to /32) allows only itself", () => {
    const only = normaliseCidr("198.51.100.10");
    expect(only.ok).toBe(true);
    if (!only.ok) return;
    expect(ipAllowed([only.cidr], "198.51.100.10")).toBe(true);
    expect(ipAllowed([only.cidr], "198.51.100.11")).toBe(false);
    expect(ipAllowed([only.cidr], "198.51.100.9")).toBe(false);
  });

  it("checks IPv6 /64 membership", () => {
    const cidrs = ["2001:db8:abcd:12::/64"];
    expect(ipAllowed(cidrs, "2001:db8:abcd:12::1")).toBe(true);
    expect(ipAllowed(cidrs, "2001:db8:abcd:12:ffff:ffff:ffff:ffff")).toBe(true);
    expect(ipAllowed(cidrs, "2001:DB8:ABCD:12::BEEF")).toBe(true);
    expect(ipAllowed(cidrs, "2001:db8:abcd:13::1")).toBe(false);
    expect(ipAllowed(cidrs, "2001:db8:abcd:11:ffff:ffff:ffff:ffff")).toBe(false);
    expect(ipAllowed(cidrs, "::1")).toBe(false);
  });

  it("an IPv6 bare address (normalised to /128) allows only itself", () => {
    const only = normaliseCidr("2001:db8::1");
    expect(only.ok).toBe(true);
    if (!only.ok) return;
    expect(ipAllowed([only.cidr], "2001:db8::1")).toBe(true);
    expect(ipAllowed([only.cidr], "2001:db8::2")).toBe(false);
  });

  it("treats ::ffff:-mapped IPv4 addresses as IPv4", () => {
    const cidrs = ["10.0.0.0/24"];
    expect(ipAllowed(cidrs, "::ffff:10.0.0.7")).toBe(true);
    expect(ipAllowed(cidrs, "::ffff:10.0.1.7")).toBe(false);
    expect(ipAllowed(["10.0.0.7/32"], "::ffff:10.0.0.7")).toBe(true);
    // A mapped address whose tail is not dotted IPv4 is still an IPv6 address.
    expect(ipAllowed(["2001:db8::/32"], "::ffff:abcd:1234")).toBe(false);
    expect(ipAllowed(["::ffff:0:0/96"], "::ffff:abcd:1234")).toBe(true);
  });

  it("any listed block suffices; an empty list allows nothing", () => {
    const cidrs = ["10.0.0.0/8", "2001:db8::/32", "192.168.1.1/32"];
    expect(ipAllowed(cidrs, "10.200.3.4")).toBe(true);
    expect(ipAllowed(cidrs, "2001:db8:1::9")).toBe(true);
    expect(ipAllowed(cidrs, "192.168.1.1")).toBe(true);
    expect(ipAllowed(cidrs, "192.168.1.2")).toBe(false);
    expect(ipAllowed([], "10.0.0.1")).toBe(false);
  });

  it("a null, empty or malformed ip is never allowed", () => {
    for (const cidrs of [["0.0.0.0/0"], ["::/0"], ["10.0.0.0/8"]]) {
      expect(ipAllowed(cidrs, null)).toBe(false);
      expect(ipAllowed(cidrs, "")).toBe(false);
      expect(ipAllowed(cidrs, "not-an-ip")).toBe(false);
      expect(ipAllowed(cidrs, "10.0.0.256")).toBe(false);
      expect(ipAllowed(cidrs, "10.0.0.1/8")).toBe(false);
    }
  });

  it("membership in a.b.c.0/24 is exactly 'first three octets equal' (property)", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(fc.tuple(octet, octet, octet), fc.tuple(octet, octet, octet, octet), ([a, b, c], ip) => {
        const net = normaliseCidr(`${a}.${b}.${c}.0/24`);
        expect(net.ok).toBe(true);
        if (!net.ok) return;
        const inside = ip[0] === a && ip[1] === b && ip[2] === c;
        expect(ipAllowed([net.cidr], ip.join("."))).toBe(inside);
        expect(ipAllowed([net.cidr], `${a}.${b}.${c}.${ip[3]}`)).toBe(true);
        expect(ipAllowed([net.cidr], `::ffff:${a}.${b}.${c}.${ip[3]}`)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("membership in an IPv6 /64 is exactly 'first four groups equal' (property)", () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    const groups = (n: number) => fc.array(group, { minLength: n, maxLength: n });
    fc.assert(
      fc.property(groups(4), groups(4), groups(4), (net, other, host) => {
        const cidr = normaliseCidr(`${net.join(":")}::/64`);
        expect(cidr.ok).toBe(true);
        if (!cidr.ok) return;
        expect(ipAllowed([cidr.cidr], [...net, ...host].join(":"))).toBe(true);
        const same = other.every((g, i) => Number.parseInt(g, 16) === Number.parseInt(net[i] as string, 16));
        expect(ipAllowed([cidr.cidr], [...other, ...host].join(":"))).toBe(same);
      }),
      { numRuns: 500 },
    );
  });
});

describe("keyStatus", () => {
  const now = new Date("2025-06-01T12:00:00.000Z");
  const before = new Date(now.getTime() - 1);
  const after = new Date(now.getTime() + 1);
  const base = { revokedAt: null, expiresAt: null, graceUntil: null };

  it("is ACTIVE with no revocation, expiry or roll", () => {
    expect(keyStatus(base, now)).toBe("ACTIVE");
    expect(keyStatus({ ...base, expiresAt: after }, now)).toBe("ACTIVE");
  });

  it("is EXPIRED at and after expiresAt", () => {
    expect(keyStatus({ ...base, expiresAt: now }, now)).toBe("EXPIRED");
    expect(keyStatus({ ...base, expiresAt: before }, now)).toBe("EXPIRED");
  });

  it("is ROLLING before graceUntil and EXPIRED at or after it", () => {
    expect(keyStatus({ ...base, graceUntil: after }, now)).toBe("ROLLING");
    expect(keyStatus({ ...base, graceUntil: now }, now)).toBe("EXPIRED");
    expect(keyStatus({ ...base, graceUntil: before }, now)).toBe("EXPIRED");
  });

  it("an expiry inside the roll grace still expires the key", () => {
    expect(keyStatus({ ...base, expiresAt: before, graceUntil: after }, now)).toBe("EXPIRED");
    expect(keyStatus({ ...base, expiresAt: after, graceUntil: after }, now)).toBe("ROLLING");
  });

  it("REVOKED beats everything", () => {
    expect(keyStatus({ ...base, revokedAt: before }, now)).toBe("REVOKED");
    expect(keyStatus({ revokedAt: before, expiresAt: before, graceUntil: before }, now)).toBe("REVOKED");
    expect(keyStatus({ revokedAt: before, expiresAt: null, graceUntil: after }, now)).toBe("REVOKED");
  });
});

describe("checkKeyUse", () => {
  const now = new Date("2025-06-01T12:00:00.000Z");
  const past = new Date(now.getTime() - 60_000);
  const future = new Date(now.getTime() + 60_000);

  const secret: KeyState = {
    type: "SECRET",
    revokedAt: null,
    expiresAt: null,
    graceUntil: null,
    allowedOrigins: [],
    allowedIps: ["203.0.113.0/24"],
    serviceId: null,
  };
  const publishable: KeyState = {
    type: "PUBLISHABLE",
    revokedAt: null,
    expiresAt: null,
    graceUntil: null,
    allowedOrigins: ["https://app.example.com"],
    allowedIps: [],
    serviceId: null,
  };
  const formsId = "5f0c7a52-0000-4000-8000-000000000001";
  const formsOff: InactiveServices = { byId: new Map([[formsId, "forms"]]), slugs: new Set(["forms"]) };
  const goodUse = {
    now,
    keysEnabled: true,
    deployed: true,
    inactiveServices: NO_INACTIVE_SERVICES,
    origin: "https://app.example.com",
    ip: "203.0.113.9",
  };

  it("allows a healthy key used from an allowed origin / IP", () => {
    expect(checkKeyUse(secret, goodUse)).toBeNull();
    expect(checkKeyUse(publishable, goodUse)).toBeNull();
  });

  it("revoked beats not deployed beats disabled beats service inactive beats expired beats origin / IP", () => {
    const badUse = {
      now,
      keysEnabled: false,
      deployed: false,
      inactiveServices: formsOff,
      origin: "https://evil.com",
      ip: "10.0.0.1",
    };
    for (const unbound of [secret, publishable]) {
      const key = { ...unbound, serviceId: formsId };
      expect(checkKeyUse({ ...key, revokedAt: past, expiresAt: past }, badUse)?.code).toBe("invalid_api_key");
      expect(checkKeyUse({ ...key, expiresAt: past }, badUse)?.code).toBe("key_not_deployed");
      const deployed = { ...badUse, deployed: true };
      expect(checkKeyUse({ ...key, expiresAt: past }, deployed)?.code).toBe("keys_disabled");
      const enabled = { ...deployed, keysEnabled: true };
      expect(checkKeyUse({ ...key, expiresAt: past }, enabled)?.code).toBe("service_inactive");
      const serviceOn = { ...enabled, inactiveServices: NO_INACTIVE_SERVICES };
      expect(checkKeyUse({ ...key, expiresAt: past }, serviceOn)?.code).toBe("key_expired");
      expect(checkKeyUse({ ...key, graceUntil: past }, serviceOn)?.code).toBe("key_expired");
    }
    const enabled = { ...badUse, deployed: true, keysEnabled: true };
    expect(checkKeyUse(secret, enabled)?.code).toBe("ip_not_allowed");
    expect(checkKeyUse(publishable, enabled)?.code).toBe("origin_not_allowed");
  });

  it("a key bound to a switched-off service is refused, naming the service; other keys are not", () => {
    const bound = { ...secret, serviceId: formsId };
    expect(checkKeyUse(bound, { ...goodUse, inactiveServices: formsOff })).toEqual({
      code: "service_inactive",
      message: "The forms service is inactive: keys bound to it do not work until it is turned back on.",
    });
    expect(checkKeyUse(bound, goodUse)).toBeNull();
    expect(checkKeyUse(secret, { ...goodUse, inactiveServices: formsOff })).toBeNull();
    const otherService = { ...secret, serviceId: "5f0c7a52-0000-4000-8000-000000000002" };
    expect(checkKeyUse(otherService, { ...goodUse, inactiveServices: formsOff })).toBeNull();
  });

  it("follows the documented order for every combination (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("SECRET" as const, "PUBLISHABLE" as const),
        fc.record({
          revoked: fc.boolean(),
          deployed: fc.boolean(),
          enabled: fc.boolean(),
          bound: fc.boolean(),
          serviceOn: fc.boolean(),
          expiry: fc.constantFrom("none", "past", "future"),
          grace: fc.constantFrom("none", "past", "future"),
          originOk: fc.boolean(),
          ipOk: fc.boolean(),
        }),
        (type, s) => {
          const at = (when: string) => (when === "past" ? past : when === "future" ? future : null);
          const key: KeyState = {
            type,
            revokedAt: s.revoked ? past : null,
            expiresAt: at(s.expiry),
            graceUntil: at(s.grace),
            allowedOrigins: ["https://*.example.com"],
            allowedIps: ["2001:db8::/32"],
            serviceId: s.bound ? formsId : null,
          };
          const use = {
            now,
            keysEnabled: s.enabled,
            inactiveServices: s.serviceOn ? NO_INACTIVE_SERVICES : formsOff,
            deployed: s.deployed,
            origin: s.originOk ? "https://a.example.com" : "https://example.org",
            ip: s.ipOk ? "2001:db8::5" : "2001:db9::5",
          };
          const expected = s.revoked
            ? "invalid_api_key"
            : !s.deployed
              ? "key_not_deployed"
              : !s.enabled
                ? "keys_disabled"
                : s.bound && !s.serviceOn
                  ? "service_inactive"
                  : s.expiry === "past" || s.grace === "past"
                    ? "key_expired"
                    : type === "PUBLISHABLE" && !s.originOk
                      ? "origin_not_allowed"
                      : type === "SECRET" && !s.ipOk
                        ? "ip_not_allowed"
                        : null;
          const result = checkKeyUse(key, use);
          expect(result?.code ?? null).toBe(expected);
          if (result) expect(result.message.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a rolled key works until graceUntil and is expired at and after it", () => {
    const rolled = { ...secret, graceUntil: future };
    expect(keyStatus(rolled, now)).toBe("ROLLING");
    expect(checkKeyUse(rolled, goodUse)).toBeNull();
    expect(checkKeyUse(rolled, { ...goodUse, now: future })?.code).toBe("key_expired");
    expect(checkKeyUse(rolled, { ...goodUse, now: new Date(future.getTime() + 1) })?.code).toBe("key_expired");
  });

  it("a key is expired exactly at expiresAt", () => {
    const key = { ...secret, expiresAt: future };
    expect(checkKeyUse(key, { ...goodUse, now: new Date(future.getTime() - 1) })).toBeNull();
    expect(checkKeyUse(key, { ...goodUse, now: future })?.code).toBe("key_expired");
  });

  it("a publishable key without an Origin header is refused with origin_not_allowed", () => {
    expect(checkKeyUse(publishable, { ...goodUse, origin: null })?.code).toBe("origin_not_allowed");
    expect(checkKeyUse(publishable, { ...goodUse, origin: "" })?.code).toBe("origin_not_allowed");
    expect(checkKeyUse(publishable, { ...goodUse, origin: "null" })?.code).toBe("origin_not_allowed");
  });

  it("a publishable key with no allowed origins is refused from every origin", () => {
    const none = { ...publishable, allowedOrigins: [] };
    expect(checkKeyUse(none, goodUse)?.code).toBe("origin_not_allowed");
    expect(checkKeyUse(none, { ...goodUse, origin: null })?.code).toBe("origin_not_allowed");
  });

  it("a secret key with an empty allowedIps allows any IP, even none", () => {
    const open = { ...secret, allowedIps: [] };
    for (const ip of ["203.0.113.9", "10.0.0.1", "::1", "::ffff:1.2.3.4", null, "garbage"]) {
      expect(checkKeyUse(open, { ...goodUse, ip })).toBeNull();
    }
  });

  it("a secret key with an IP allowlist refuses a missing or outside IP", () => {
    expect(checkKeyUse(secret, { ...goodUse, ip: null })?.code).toBe("ip_not_allowed");
    expect(checkKeyUse(secret, { ...goodUse, ip: "203.0.114.1" })?.code).toBe("ip_not_allowed");
    expect(checkKeyUse(secret, { ...goodUse, ip: "::ffff:203.0.113.1" })).toBeNull();
  });

  it("a secret key does not need an Origin header", () => {
    expect(checkKeyUse(secret, { ...goodUse, origin: null })).toBeNull();
  });
});

describe("checkRequiredServices", () => {
  const off: InactiveServices = { byId: new Map([["id-forms", "forms"]]), slugs: new Set(["forms"]) };

  it("refuses a requirement of any scope of a switched-off service, naming the service", () => {
    for (const scope of ["service.forms.read", "service.forms.write", "service.forms.delete_all"]) {
      expect(checkRequiredServices(["keys:read", scope], off)).toEqual({
        code: "service_inactive",
        message: "The forms service is inactive: its scopes grant nothing until it is turned back on.",
      });
    }
  });

  it("lets through scopes of other services, look-alikes and workspace scopes", () => {
    const others = ["service.forms-2.read", "service.form.read", "service.billing.read", "keys:read", "forms", "*"];
    expect(checkRequiredServices(others, off)).toBeNull();
    expect(checkRequiredServices([], off)).toBeNull();
    expect(checkRequiredServices(["service.forms.read"], NO_INACTIVE_SERVICES)).toBeNull();
  });
});

describe("serviceOfScope", () => {
  it.each([
    ["service.forms.read", "forms"],
    ["service.my-app2.delete_all", "my-app2"],
    ["service.a.b", "a"],
    ["keys:read", null],
    ["service.forms", null],
    ["service.Forms.read", null],
    ["*", null],
  ])("%s names %s", (scope, service) => {
    expect(serviceOfScope(scope)).toBe(service);
  });
});

describe("metadataSchema", () => {
  const accepts = (value: unknown) => metadataSchema.safeParse(value).success;
  /** k nested objects around a leaf: nest(0, leaf) = leaf, nest(1, leaf) = { a: leaf }. */
  const nest = (k: number, leaf: unknown): unknown => (k === 0 ? leaf : { a: nest(k - 1, leaf) });
  const nestArrays = (k: number, leaf: unknown): unknown => (k === 0 ? leaf : [nestArrays(k - 1, leaf)]);

  it("accepts objects with nested objects, arrays and scalars", () => {
    expect(accepts({})).toBe(true);
    expect(accepts({ plan: "pro", seats: 5, trial: false, note: null })).toBe(true);
    expect(accepts({ customer: { id: "cus_1", tags: ["a", "b"], limits: { daily: 10 } } })).toBe(true);
    expect(accepts({ emoji: "😀 ünïcödé", ключ: "значение" })).toBe(true);
    expect(metadataSchema.safeParse({ a: { b: [1, { c: "d" }] } }).data).toEqual({ a: { b: [1, { c: "d" }] } });
  });

  it("accepts arbitrary small JSON objects without NUL or lone surrogates (property)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 5 }), (obj) => {
        const json = JSON.stringify(obj);
        // JSON.stringify escapes NUL as \u0000 and lone surrogates as \udXXX.
        fc.pre(Buffer.byteLength(json) <= 4096 && !/\\u0000|\\ud[89a-f]/i.test(json));
        expect(accepts(obj)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ["an empty array", []],
    ["an array of objects", [{ a: 1 }]],
    ["a string", "metadata"],
    ["a JSON string of an object", '{"a":1}'],
    ["a number", 42],
    ["a boolean", true],
    ["null", null],
    ["undefined", undefined],
  ])("rejects %s at the top level", (_, value) => {
    expect(accepts(value)).toBe(false);
  });

  it("accepts exactly 4096 bytes of JSON and rejects 4097", () => {
    // JSON.stringify({ a: "x…" }) is 8 bytes plus the string.
    expect(Buffer.byteLength(JSON.stringify({ a: "x".repeat(4088) }))).toBe(4096);
    expect(accepts({ a: "x".repeat(4088) })).toBe(true);
    expect(accepts({ a: "x".repeat(4089) })).toBe(false);
  });

  it("counts bytes, not characters", () => {
    const value = { a: "é".repeat(2100) }; // 2,108 characters, 4,208 bytes
    expect(JSON.stringify(value).length).toBeLessThan(4096);
    expect(accepts(value)).toBe(false);
    expect(accepts({ a: "é".repeat(2044) })).toBe(true); // 8 + 4088 bytes
  });

  it("rejects large metadata spread over many keys or deep inside", () => {
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`key${i}`, i]));
    expect(accepts(many)).toBe(false);
    expect(accepts({ a: { b: ["y".repeat(5000)] } })).toBe(false);
  });

  it("rejects a NUL character in any key or value, at any depth", () => {
    expect(accepts({ "a\u0000b": 1 })).toBe(false);
    expect(accepts({ a: "x\u0000y" })).toBe(false);
    expect(accepts({ a: "\u0000" })).toBe(false);
    expect(accepts({ a: { b: { c: "\u0000" } } })).toBe(false);
    expect(accepts({ a: { "\u0000": true } })).toBe(false);
    expect(accepts({ a: ["ok", "\u0000"] })).toBe(false);
    expect(accepts({ a: [{ "k\u0000": 1 }] })).toBe(false);
  });

  it("rejects lone surrogates in any key or value, but accepts surrogate pairs", () => {
    expect(accepts({ a: "\ud800" })).toBe(false);
    expect(accepts({ a: "x\udc00y" })).toBe(false);
    expect(accepts({ a: "\ude00\ud83d" })).toBe(false); // a pair in the wrong order
    expect(accepts({ "\ud800": 1 })).toBe(false);
    expect(accepts({ a: { b: ["\ud800"] } })).toBe(false);
    expect(accepts({ a: "\ud83d\ude00" })).toBe(true);
  });

  it("accepts 8 levels of nesting and rejects anything deeper", () => {
    expect(accepts(nest(8, "leaf"))).toBe(true);
    expect(accepts(nest(9, "leaf"))).toBe(false);
    expect(accepts(nest(20, 1))).toBe(false);
    expect(accepts({ a: nestArrays(7, "leaf") })).toBe(true);
    expect(accepts({ a: nestArrays(8, "leaf") })).toBe(false);
    expect(accepts({ a: nestArrays(30, "leaf") })).toBe(false);
    expect(accepts({ a: { b: [{ c: [{ d: [{ e: [{ f: 1 }] }] }] }] } })).toBe(false);
  });

  it("refuses metadata nested 100,000 deep without a stack overflow (depth is checked before the size)", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(accepts(deep)).toBe(false);
  });
});

describe("createSecretBox", () => {
  const key = randomBytes(32);
  const box = createSecretBox(key);
  const other = createSecretBox(randomBytes(32));
  const plaintextArb = fc.string({ unit: "grapheme", maxLength: 200 });

  it("refuses a master key that is not 32 bytes", () => {
    expect(() => createSecretBox(Buffer.alloc(16))).toThrow();
    expect(() => createSecretBox(Buffer.alloc(31))).toThrow();
    expect(() => createSecretBox(Buffer.alloc(33))).toThrow();
  });

  it("seal then open round-trips any string (property)", () => {
    fc.assert(
      fc.property(plaintextArb, (plaintext) => {
        const sealed = box.seal(plaintext);
        // The sealing key's id, then the ciphertext.
        expect(sealed).toMatch(/^[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+$/);
        expect(box.open(sealed)).toBe(plaintext);
        // Another box on the same key opens it too.
        expect(createSecretBox(Buffer.from(key)).open(sealed)).toBe(plaintext);
      }),
      { numRuns: 500 },
    );
  });

  it("round-trips a real API key and never contains it in the clear", () => {
    const apiKey = "sk_live_abcdefghijklmnopqrstuvwxyzABCDEF123456";
    const sealed = box.seal(apiKey);
    expect(sealed).not.toContain(apiKey);
    expect(sealed).not.toContain("sk_live_");
    expect(box.open(sealed)).toBe(apiKey);
  });

  it("sealing the same text twice gives different output (fresh IV)", () => {
    const a = box.seal("same text");
    const b = box.seal("same text");
    expect(a).not.toBe(b);
    expect(box.open(a)).toBe("same text");
    expect(box.open(b)).toBe("same text");
  });

  it("open with another key returns null (property)", () => {
    fc.assert(
      fc.property(plaintextArb, (plaintext) => {
        expect(other.open(box.seal(plaintext))).toBeNull();
        expect(box.open(other.seal(plaintext))).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it("open of a string with any one bit flipped returns null (property)", () => {
    fc.assert(
      fc.property(plaintextArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (plaintext, at, bit) => {
        const raw = Buffer.from(box.seal(plaintext), "base64url");
        const index = at % raw.length;
        raw[index] = (raw[index] as number) ^ (1 << bit);
        expect(box.open(raw.toString("base64url"))).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });

  it("open of a sealed non-empty string cut short by any number of bytes returns null (property)", () => {
    // The empty plaintext has its own test below.
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 }), fc.nat(), (plaintext, cut) => {
        const raw = Buffer.from(box.seal(plaintext), "base64url");
        const keep = cut % raw.length; // 0 … length-1 bytes kept
        expect(box.open(raw.subarray(0, keep).toString("base64url"))).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });

  it("open of a sealed empty string cut short returns null (the GCM tag must be 16 bytes)", () => {
    const [id, body] = box.seal("").split(".") as [string, string];
    const raw = Buffer.from(body, "base64url");
    expect(raw.length).toBe(12 + 16);
    for (let keep = 0; keep < raw.length; keep++) {
      expect(box.open(`${id}.${raw.subarray(0, keep).toString("base64url")}`), `kept ${keep} bytes`).toBeNull();
      // Without its key id (a value from before ids) it is refused alike.
      expect(box.open(raw.subarray(0, keep).toString("base64url")), `kept ${keep} bytes`).toBeNull();
    }
  });

  it("open of bytes appended to a sealed string returns null", () => {
    const [id, body] = box.seal("hello").split(".") as [string, string];
    const raw = Buffer.from(body, "base64url");
    expect(box.open(`${id}.${Buffer.concat([raw, Buffer.from([0])]).toString("base64url")}`)).toBeNull();
  });

  it("open of garbage returns null and never throws", () => {
    for (const junk of ["", "x", "!!!!", "not base64 at all", "A".repeat(40), "A".repeat(10_000)]) {
      expect(box.open(junk)).toBeNull();
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (junk) => {
        expect(box.open(junk)).toBeNull();
      }),
      { numRuns: 500 },
    );
  });
});
