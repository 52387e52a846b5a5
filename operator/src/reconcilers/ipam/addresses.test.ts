import { describe, expect, it } from "vitest";
import {
  candidateMac,
  canonicalIp,
  cidrsOverlap,
  defaultPools,
  eui64Address,
  formatCidr,
  formatIp,
  freeAddresses,
  ipHex,
  netmask,
  parseCidr,
  parseIp,
  rangeSize,
} from "./addresses.js";

const cidr = (text: string) => {
  const c = parseCidr(text);
  if (c === undefined) throw new Error(`bad test CIDR ${text}`);
  return c;
};
const show = (c: ReturnType<typeof cidr>, ranges: { start: bigint; end: bigint }[]) =>
  ranges.map((r) => `${formatIp(c.version, r.start)}-${formatIp(c.version, r.end)}`);

describe("IP parsing and canonical form", () => {
  it.each([
    ["10.0.0.5", "10.0.0.5"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // the first of two equal zero runs is compressed
    ["2001:db8::ffff:0:0", "2001:db8::ffff:0:0"],
    ["::", "::"],
    ["::1", "::1"],
    ["fe80::", "fe80::"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group is not compressed
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
  ])("%s → %s", (input, expected) => {
    expect(canonicalIp(input)).toBe(expected);
  });

  it.each(["10.0.0", "10.0.0.256", "01.2.3.4", "1:2:3:4:5:6:7:8:9", "1::2::3", "fe80::1%eth0", "hello", ""])(
    "rejects %s",
    (input) => {
      expect(parseIp(input)).toBeUndefined();
    },
  );

  it("gives fixed-width hex for object names", () => {
    expect(ipHex(parseIp("10.0.0.5") ?? { version: 4, value: 0n })).toBe("0a000005");
    expect(ipHex(parseIp("fd00::1") ?? { version: 6, value: 0n })).toBe("fd000000000000000000000000000001");
  });
});

describe("CIDRs", () => {
  it("masks host bits and knows the last address", () => {
    const c = cidr("10.1.2.3/24");
    expect(formatCidr(c)).toBe("10.1.2.0/24");
    expect(formatIp(4, c.last)).toBe("10.1.2.255");
  });

  it.each([
    ["10.0.0.0/24", "10.0.0.128/25", true],
    ["10.0.0.0/24", "10.0.1.0/24", false],
    ["fd00::/64", "fd00::/48", true],
    ["10.0.0.0/8", "fd00::/8", false],
  ])("%s overlaps %s: %s", (a, b, expected) => {
    expect(cidrsOverlap(cidr(a), cidr(b))).toBe(expected);
  });

  it.each([
    [4, 24, "255.255.255.0"],
    [4, 0, "0.0.0.0"],
    [4, 32, "255.255.255.255"],
    [6, 64, "ffff:ffff:ffff:ffff::"],
    [6, 0, "::"],
  ] as const)("netmask v%d /%d = %s", (version, prefix, expected) => {
    expect(netmask(version, prefix)).toBe(expected);
  });
});

describe("Neutron's default allocation pools", () => {
  it.each([
    ["gateway first", "10.0.0.0/24", "10.0.0.1", ["10.0.0.2-10.0.0.254"]],
    ["gateway in the middle", "10.0.0.0/24", "10.0.0.100", ["10.0.0.1-10.0.0.99", "10.0.0.101-10.0.0.254"]],
    ["gateway last", "10.0.0.0/29", "10.0.0.6", ["10.0.0.1-10.0.0.5"]],
    ["no gateway", "10.0.0.0/29", undefined, ["10.0.0.1-10.0.0.6"]],
    ["/31 has no network or broadcast address", "10.0.0.0/31", undefined, ["10.0.0.0-10.0.0.1"]],
    ["IPv6 keeps the last address", "fd00::/126", "fd00::1", ["fd00::2-fd00::3"]],
  ])("%s", (_name, text, gateway, expected) => {
    const c = cidr(text);
    const gw = gateway === undefined ? undefined : parseIp(gateway)?.value;
    expect(show(c, defaultPools(c, gw))).toEqual(expected);
  });

  it("counts /64 pools without enumerating them", () => {
    const c = cidr("fd00::/64");
    expect(rangeSize(defaultPools(c, c.network + 1n))).toBe((1n << 64n) - 2n);
  });

  it("iterates free addresses lazily, skipping taken ones", () => {
    const c = cidr("fd00::/64");
    const it = freeAddresses(6, defaultPools(c, c.network + 1n), new Set(["fd00::2", "fd00::3"]));
    expect([it.next().value, it.next().value]).toEqual(["fd00::4", "fd00::5"]);
  });
});

describe("MAC addresses", () => {
  it("generates OpenStack-prefixed, deterministic, spread candidates", () => {
    const a = candidateMac("uid-a", 0);
    expect(a).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    expect(candidateMac("uid-a", 0)).toBe(a);
    expect(candidateMac("uid-a", 1)).not.toBe(a);
    expect(candidateMac("uid-b", 0)).not.toBe(a);
  });

  it("derives SLAAC addresses with modified EUI-64 (RFC 4291 appendix A)", () => {
    expect(formatIp(6, eui64Address(cidr("2001:db8::/64"), "fa:16:3e:00:00:01"))).toBe("2001:db8::f816:3eff:fe00:1");
    expect(formatIp(6, eui64Address(cidr("fd00:1:2:3::/64"), "00:00:5e:00:53:01"))).toBe("fd00:1:2:3:200:5eff:fe00:5301");
  });
});
