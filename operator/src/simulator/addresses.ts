// Fake but consistent network identities: per-node pod CIDRs carved from the cluster CIDR, unique pod
// IPs within them, node addresses, and stable MAC addresses for interfaces that do not name one.
import { createHash } from "node:crypto";

export function ipv4ToNumber(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

export function parseCidr(cidr: string): { base: number; prefix: number } {
  const [ip, prefixText] = cidr.split("/");
  const prefix = Number(prefixText);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`not a CIDR: ${cidr}`);
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(ipv4ToNumber(ip) / size) * size, prefix };
}

/** How many /24 node ranges fit in the cluster CIDR. */
export function nodeCidrCapacity(clusterCidr: string): number {
  return 2 ** Math.max(0, 24 - parseCidr(clusterCidr).prefix);
}

/** The `index`-th /24 of the cluster CIDR (index 0 is the first node's), as node IPAM hands them out. */
export function nodePodCidr(clusterCidr: string, index: number): string {
  const { base } = parseCidr(clusterCidr);
  if (index < 0 || index >= nodeCidrCapacity(clusterCidr)) {
    throw new Error(`cluster CIDR ${clusterCidr} has no room for node range #${index}`);
  }
  return `${numberToIpv4(base + index * 256)}/24`;
}

/** The node's own address (InternalIP), in a range apart from the pod network. */
export function nodeInternalIp(index: number): string {
  return `172.18.${Math.floor(index / 200)}.${(index % 200) + 10}`;
}

/**
 * The lowest free address of a /24 (or any) range, skipping the network address, the gateway (.1)
 * and the broadcast address; undefined when the range is full.
 */
export function nextFreeAddress(cidr: string, used: ReadonlySet<string>): string | undefined {
  const { base, prefix } = parseCidr(cidr);
  const size = 2 ** (32 - prefix);
  for (let offset = 2; offset < size - 1; offset++) {
    const candidate = numberToIpv4(base + offset);
    if (!used.has(candidate)) return candidate;
  }
  return undefined;
}

/** A locally administered unicast MAC derived from `seed`: stable across restarts, unique in practice. */
export function generatedMac(seed: string): string {
  const digest = createHash("sha256").update(seed).digest();
  const bytes = [0x02, ...digest.subarray(0, 5)];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** A short stable hex id (container IDs, volume handles). */
export function stableId(seed: string, length = 32): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/**
 * Pod IPs in use, per owner (a Pod, or a VMI standing in for its virt-launcher pod). Owners that
 * already report an address adopt it; new ones get the lowest free address of their node's range,
 * avoiding addresses that objects in the caches report (`observed`), so a restarted simulator never
 * hands out an address twice.
 */
export class PodAddressPool {
  private readonly byOwner = new Map<string, { cidr: string; ip: string }>();

  constructor(private readonly observed: () => Iterable<string>) {}

  adopt(owner: string, cidr: string, ip: string): void {
    this.byOwner.set(owner, { cidr, ip });
  }

  /** The owner's address in `cidr`, allocating one if it has none there yet. */
  acquire(owner: string, cidr: string): string | undefined {
    const current = this.byOwner.get(owner);
    if (current?.cidr === cidr) return current.ip;
    const used = new Set<string>(this.observed());
    for (const [other, entry] of this.byOwner) if (other !== owner) used.add(entry.ip);
    const ip = nextFreeAddress(cidr, used);
    if (ip !== undefined) this.byOwner.set(owner, { cidr, ip });
    return ip;
  }

  release(owner: string): void {
    this.byOwner.delete(owner);
  }
}
