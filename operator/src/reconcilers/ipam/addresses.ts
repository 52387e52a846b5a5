// Pure address arithmetic for IPAM: IPv4 and IPv6 as bigints, CIDRs, Neutron's default gateway and
// allocation pools, pool iteration, netmasks, EUI-64 (SLAAC) addresses and OpenStack MAC addresses.
import { createHash } from "node:crypto";

export type IpVersion = 4 | 6;

export interface Ip {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  prefix: number;
  /** The network address (host bits zero). */
  network: bigint;
  /** The last address of the range. */
  last: bigint;
}

export interface Range {
  start: bigint;
  end: bigint;
}

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256n + BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  if (text.includes("%")) return undefined; // zones are not addresses of a subnet
  let head = text;
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] | undefined => (s === "" ? [] : s.split(":"));
  const left = groups(halves[0] ?? "");
  const right = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (left === undefined || right === undefined) return undefined;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  let value = 0n;
  for (const group of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

export function parseIp(text: string): Ip | undefined {
  if (text.includes(":")) {
    const value = parseIpv6(text);
    return value === undefined ? undefined : { version: 6, value };
  }
  const value = parseIpv4(text);
  return value === undefined ? undefined : { version: 4, value };
}

/** Canonical text: dotted quad, or RFC 5952 (lower case, longest zero run of 2+ groups compressed). */
export function formatIp(version: IpVersion, value: bigint): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** The canonical form of an address, or undefined when it is not one. */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip.version, ip.value);
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined || !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const bits = BITS[ip.version];
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const network = (ip.value >> hostBits) << hostBits;
  return { version: ip.version, prefix, network, last: network + (1n << hostBits) - 1n };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.version, cidr.network)}/${cidr.prefix}`;
}

export function cidrContains(cidr: Cidr, ip: Ip): boolean {
  return ip.version === cidr.version && ip.value >= cidr.network && ip.value <= cidr.last;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.network <= b.last && b.network <= a.last;
}

export function rangesOverlap(a: Range, b: Range): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** The netmask as OpenStack's network_data.json writes it: dotted for IPv4, an address for IPv6. */
export function netmask(version: IpVersion, prefix: number): string {
  const bits = BigInt(BITS[version]);
  const all = (1n << bits) - 1n;
  const mask = prefix === 0 ? 0n : (all << (bits - BigInt(prefix))) & all;
  return formatIp(version, mask);
}

/** Fixed-width hex of an address (8 or 32 digits): sortable and usable in object names. */
export function ipHex(ip: Ip): string {
  return ip.value.toString(16).padStart(BITS[ip.version] / 4, "0");
}

/** Neutron's default gateway: the first host address. */
export function defaultGateway(cidr: Cidr): bigint {
  return cidr.network + 1n;
}

/** Addresses Neutron never hands out: the network address, and for IPv4 the broadcast address. */
export function usableRange(cidr: Cidr): Range | undefined {
  const size = cidr.last - cidr.network + 1n;
  if (cidr.version === 4 && size <= 2n) return { start: cidr.network, end: cidr.last }; // /31, /32: all usable
  const start = cidr.network + 1n;
  const end = cidr.version === 4 ? cidr.last - 1n : cidr.last;
  return start <= end ? { start, end } : undefined;
}

/** Neutron's default allocation pools: the usable range minus the gateway (split around it if needed). */
export function defaultPools(cidr: Cidr, gateway: bigint | undefined): Range[] {
  const usable = usableRange(cidr);
  if (usable === undefined) return [];
  if (gateway === undefined || gateway < usable.start || gateway > usable.end) return [usable];
  const pools: Range[] = [];
  if (gateway > usable.start) pools.push({ start: usable.start, end: gateway - 1n });
  if (gateway < usable.end) pools.push({ start: gateway + 1n, end: usable.end });
  return pools;
}

export function rangeSize(ranges: readonly Range[]): bigint {
  return ranges.reduce((sum, r) => sum + (r.end - r.start + 1n), 0n);
}

export function rangeContains(ranges: readonly Range[], value: bigint): boolean {
  return ranges.some((r) => value >= r.start && value <= r.end);
}

/** Pool addresses in order, skipping `taken` (canonical text); lazy, so /64 pools cost nothing. */
export function* freeAddresses(version: IpVersion, pools: readonly Range[], taken: ReadonlySet<string>): Generator<string> {
  for (const pool of pools) {
    for (let value = pool.start; value <= pool.end; value++) {
      const text = formatIp(version, value);
      if (!taken.has(text)) yield text;
    }
  }
}

// ---- MAC addresses ----

/** OpenStack's base MAC prefix for generated port addresses. */
export const OPENSTACK_MAC_PREFIX = "fa:16:3e";
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

export function isMac(text: string): boolean {
  return MAC.test(text);
}

export function macHex(mac: string): string {
  return mac.replaceAll(":", "");
}

/**
 * The `attempt`-th candidate MAC for a holder: OpenStack's prefix and three bytes from a hash of the holder
 * and the attempt. Deterministic, so competing writers for the same port propose the same addresses in the
 * same order, and different ports spread over the 16M space.
 */
export function candidateMac(holderUid: string, attempt: number): string {
  const digest = createHash("sha256").update(`${holderUid}/${attempt}`).digest();
  const tail = [...digest.subarray(0, 3)].map((b) => b.toString(16).padStart(2, "0"));
  return `${OPENSTACK_MAC_PREFIX}:${tail.join(":")}`;
}

/** The SLAAC address of a MAC in a /64: modified EUI-64 (RFC 4291), as Neutron computes it. */
export function eui64Address(cidr: Cidr, mac: string): bigint {
  const bytes = mac.split(":").map((b) => parseInt(b, 16));
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0] = bytes;
  const eui = [b0 ^ 0x02, b1, b2, 0xff, 0xfe, b3, b4, b5];
  const interfaceId = eui.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  return cidr.network | interfaceId;
}
