// Pure: a Subnet's effective gateway and allocation pools, and what Neutron would reject about it that CEL
// cannot see (CEL already checks CIDR syntax, family, and that pools and gateway lie inside the CIDR):
// pools that run backwards or overlap, a gateway inside a pool, and a CIDR overlapping an older subnet of
// the same network.
import { Reason, type Subnet } from "../../api/index.js";
import {
  cidrsOverlap,
  defaultGateway,
  defaultPools,
  formatCidr,
  formatIp,
  parseCidr,
  parseIp,
  rangeContains,
  rangeSize,
  rangesOverlap,
  usableRange,
  type Cidr,
  type Range,
} from "../ipam/addresses.js";
import { byAge } from "../network/sources.js";

/** A subnet as IPAM uses it. */
export interface SubnetView {
  name: string;
  uid: string;
  cidr: Cidr;
  gateway: bigint | undefined;
  pools: Range[];
  ipv6AddressMode: Subnet["spec"]["ipv6AddressMode"];
}

export type SubnetEvaluation =
  | { ok: true; view: SubnetView; total: bigint }
  | { ok: false; reason: string; message: string };

const invalid = (reason: string, message: string): SubnetEvaluation => ({ ok: false, reason, message });

/** `siblings`: the other subnets of the same network. */
export function evaluateSubnet(subnet: Subnet, siblings: readonly Subnet[]): SubnetEvaluation {
  const spec = subnet.spec;
  const cidr = parseCidr(spec.cidr);
  if (cidr === undefined) return invalid(Reason.InvalidSpec, `cidr ${spec.cidr} is not a CIDR`);
  const show = (v: bigint): string => formatIp(cidr.version, v);

  let gateway: bigint | undefined;
  if (spec.noGateway !== true) {
    const ip = spec.gatewayIP === undefined ? undefined : parseIp(spec.gatewayIP);
    if (spec.gatewayIP !== undefined && (ip === undefined || ip.version !== cidr.version)) {
      return invalid(Reason.InvalidSpec, `gatewayIP ${spec.gatewayIP} is not an IPv${cidr.version} address`);
    }
    gateway = ip?.value ?? defaultGateway(cidr);
  }

  let pools: Range[];
  if (spec.allocationPools === undefined || spec.allocationPools.length === 0) {
    pools = defaultPools(cidr, gateway);
  } else {
    pools = [];
    const usable = usableRange(cidr);
    for (const pool of spec.allocationPools) {
      const start = parseIp(pool.start);
      const end = parseIp(pool.end);
      const text = `${pool.start}-${pool.end}`;
      if (start?.version !== cidr.version || end?.version !== cidr.version) {
        return invalid(Reason.InvalidAllocationPool, `allocation pool ${text} is not made of IPv${cidr.version} addresses`);
      }
      if (start.value > end.value) {
        return invalid(Reason.InvalidAllocationPool, `allocation pool ${text} starts after it ends; swap start and end`);
      }
      if (usable === undefined || start.value < usable.start || end.value > usable.end) {
        return invalid(
          Reason.InvalidAllocationPool,
          `allocation pool ${text} includes the network or broadcast address of ${formatCidr(cidr)}; start and end inside it`,
        );
      }
      const range = { start: start.value, end: end.value };
      const clash = pools.find((other) => rangesOverlap(other, range));
      if (clash !== undefined) {
        return invalid(
          Reason.InvalidAllocationPool,
          `allocation pools ${show(clash.start)}-${show(clash.end)} and ${text} overlap; make them disjoint`,
        );
      }
      pools.push(range);
    }
    if (gateway !== undefined && rangeContains(pools, gateway)) {
      return invalid(
        Reason.GatewayConflictWithAllocationPools,
        `gatewayIP ${show(gateway)} is inside an allocation pool; move the gateway out of the pools or shrink them`,
      );
    }
  }

  // Neutron keeps subnets of one network disjoint; of two overlapping ones, the older stays valid.
  for (const other of [...siblings].sort(byAge)) {
    if (other.metadata.uid === subnet.metadata.uid || byAge(other, subnet) > 0) continue;
    const otherCidr = parseCidr(other.spec.cidr);
    if (otherCidr !== undefined && cidrsOverlap(cidr, otherCidr)) {
      return invalid(
        Reason.OverlappingSubnet,
        `cidr ${formatCidr(cidr)} overlaps subnet ${other.metadata.name ?? ""} (${formatCidr(otherCidr)}) on network ` +
          `${spec.networkRef}; subnets of one network must not overlap, pick another cidr`,
      );
    }
  }

  return {
    ok: true,
    view: {
      name: subnet.metadata.name ?? "",
      uid: subnet.metadata.uid ?? "",
      cidr,
      gateway,
      pools,
      ipv6AddressMode: spec.ipv6AddressMode,
    },
    total: rangeSize(pools),
  };
}

export function poolsText(view: SubnetView): { start: string; end: string }[] {
  return view.pools.map((p) => ({ start: formatIp(view.cidr.version, p.start), end: formatIp(view.cidr.version, p.end) }));
}

/** Subnets IPAM may allocate from: not being deleted, and Ready for their current generation. */
export function usableSubnet(subnet: Subnet): boolean {
  if (subnet.metadata.deletionTimestamp !== undefined) return false;
  const ready = subnet.status?.conditions?.find((c) => c.type === "Ready");
  return ready?.status === "True" && ready.observedGeneration === subnet.metadata.generation;
}
