import { describe, expect, it } from "vitest";
import { guardedLookup, isPrivateAddress, refuseUrl } from "../../server/webhooks/ssrf";
import { MAX_ATTEMPTS, retryDelayMs } from "../../server/webhooks/worker";

// The SSRF guard's address list and the retry schedule, as rules on their own.

describe("isPrivateAddress", () => {
  it.each([
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.255",
    "0.0.0.0",
    "::1",
    "::",
    "fe80::1",
    "fd00:ec2::254",
    "fc00::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::7f00:1",
    "not an address",
  ])("refuses %s", (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(["203.0.113.10", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])(
    "allows the public address %s",
    (address) => {
      expect(isPrivateAddress(address)).toBe(false);
    },
  );
});

describe("refuseUrl", () => {
  const dev = { production: false, allowPrivate: false };
  it("refuses a name that resolves to loopback (localhost), unless private addresses are allowed", async () => {
    expect(await refuseUrl("http://localhost/", dev)).toMatch(/127\.0\.0\.1|::1/);
    expect(await refuseUrl("http://localhost/", { ...dev, allowPrivate: true })).toBeNull();
  });

  it("refuses http in production even when private addresses are allowed", async () => {
    expect(await refuseUrl("http://203.0.113.10/", { production: true, allowPrivate: true })).toMatch(/https/);
    expect(await refuseUrl("https://203.0.113.10/", { production: true, allowPrivate: false })).toBeNull();
  });
});

describe("guardedLookup (checked again when the connection is made)", () => {
  it("fails a lookup that answers a loopback address, as a rebinding DNS server would", async () => {
    const lookup = guardedLookup(false);
    const error = await new Promise<Error | null>((resolve) => lookup("localhost", { all: true }, (e) => resolve(e)));
    expect(error?.message).toMatch(/refused/);
    const allowed = await new Promise<Error | null>((resolve) =>
      guardedLookup(true)("localhost", { all: true }, (e) => resolve(e)),
    );
    expect(allowed).toBeNull();
  });
});

describe("retryDelayMs", () => {
  it("grows fourfold from 30 s, capped at 12 h, with ±20 % jitter", () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(30_000);
    expect(retryDelayMs(2, () => 0.5)).toBe(120_000);
    expect(retryDelayMs(1, () => 0)).toBe(24_000);
    expect(retryDelayMs(1, () => 1)).toBe(36_000);
    expect(retryDelayMs(20, () => 0.5)).toBe(12 * 3600_000);
  });

  it("spreads the attempts over about a day", () => {
    let total = 0;
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) total += retryDelayMs(attempt, () => 0.5);
    expect(total / 3600_000).toBeGreaterThan(20);
    expect(total / 3600_000).toBeLessThan(28);
  });
});
