// Pure: which values a port needs — its MAC and one address per fixed IP — as slots for the arbiter, with
// Neutron's rules: explicit fixedIPs name a subnet and/or an address; without fixedIPs a port gets one
// address from the first IPv4 subnet that has room, its SLAAC address on every auto-addressed IPv6 subnet,
// and one address from the first stateful IPv6 subnet. `fixedIPs: []` means no addresses at all.
import { Reason, type Port, type Subnet } from "../../api/index.js";
import { createHash } from "node:crypto";
import {
  candidateMac,
  canonicalIp,
  cidrContains,
  eui64Address,
  formatCidr,
  formatIp,
  isMac,
  parseIp,
  rangeSize,
  usableRange,
} from "../ipam/addresses.js";
import type { SlotCandidate, SlotRequest } from "../ipam/arbiter.js";
import type { Verdict } from "../network/status.js";
import type { SubnetView } from "../subnet/evaluate.js";

export const MAC_POOL = "mac";
/** How many generated MACs a port tries before giving up (each collision is a 1 in 16M event). */
const MAC_ATTEMPTS = 16;

export function macSlot(port: Port): SlotRequest {
  const uid = port.metadata.uid ?? "";
  const requested = port.spec.macAddress;
  const current = port.status?.macAddress;
  return {
    key: "mac",
    type: "mac",
    pools: [MAC_POOL],
    current: current !== undefined && isMac(current) ? { pool: MAC_POOL, value: current } : undefined,
    requested: requested === undefined ? undefined : { pool: MAC_POOL, value: requested },
    candidates: function* (taken) {
      for (let attempt = 0; attempt < MAC_ATTEMPTS; attempt++) {
        const candidate = { pool: MAC_POOL, value: candidateMac(uid, attempt) };
        if (!taken(candidate)) yield candidate;
      }
    },
  };
}

/** A subnet of the port's network as the planner sees it. */
export interface PlannerSubnet {
  subnet: Subnet;
  /** Undefined while no new address may come from the subnet (invalid, or being deleted). */
  view: SubnetView | undefined;
}

export interface AddressPlan {
  slots: SlotRequest[];
  /** Why some requested address cannot even be tried; the port is not Ready while there are any. */
  problems: Verdict[];
  /** The subnet behind each slot's pools, by subnet uid, for messages and status. */
  subnetsByUid: Map<string, SubnetView>;
}

const autoAddressed = (view: SubnetView): boolean =>
  view.cidr.version === 6 && (view.ipv6AddressMode === "slaac" || view.ipv6AddressMode === "dhcpv6-stateless");

/** `subnets`: every subnet of the port's network, oldest first. `mac`: the port's MAC (for SLAAC addresses). */
export function planAddresses(port: Port, subnets: readonly PlannerSubnet[], mac: string): AddressPlan {
  const slots: SlotRequest[] = [];
  const problems: Verdict[] = [];
  const usable = subnets.flatMap((s) => (s.view === undefined ? [] : [s.view]));
  const subnetsByUid = new Map(usable.map((v) => [v.uid, v]));
  const remainingCurrent = [...(port.status?.fixedIPs ?? [])];
  /** The status entry this slot had, consumed so that two slots never claim the same one. */
  const currentFor = (pools: readonly string[], requested?: SlotCandidate): SlotCandidate | undefined => {
    const index = remainingCurrent.findIndex(
      (f) =>
        f.subnetId !== undefined &&
        pools.includes(f.subnetId) &&
        (requested === undefined || canonicalIp(f.ipAddress) === requested.value),
    );
    if (index < 0) return undefined;
    const [entry] = remainingCurrent.splice(index, 1);
    return entry?.subnetId === undefined ? undefined : { pool: entry.subnetId, value: canonicalIp(entry.ipAddress) ?? "" };
  };
  const seed = port.metadata.uid ?? port.metadata.name ?? "";
  const poolSlot = (key: string, views: readonly SubnetView[]): SlotRequest => {
    const pools = views.map((v) => v.uid);
    return { key, type: "ip", pools, current: currentFor(pools), candidates: (taken) => poolCandidates(views, seed, taken) };
  };
  const fixedSlot = (key: string, view: SubnetView, value: string): SlotRequest => {
    const requested = { pool: view.uid, value };
    return { key, type: "ip", pools: [view.uid], requested, current: currentFor([view.uid], requested) };
  };

  const explicit = port.spec.fixedIPs;
  if (explicit === undefined) {
    const v4 = usable.filter((v) => v.cidr.version === 4);
    if (v4.length > 0) slots.push(poolSlot("auto:v4", v4));
    for (const view of usable.filter(autoAddressed)) {
      slots.push(fixedSlot(`auto:v6:${view.uid}`, view, formatIp(6, eui64Address(view.cidr, mac))));
    }
    const stateful = usable.filter((v) => v.cidr.version === 6 && !autoAddressed(v));
    if (stateful.length > 0) slots.push(poolSlot("auto:v6", stateful));
    return { slots: [...slots, ...keepSlots(remainingCurrent, subnets)], problems, subnetsByUid };
  }

  explicit.forEach((fixed, i) => {
    const key = `fixed:${i}`;
    const named = fixed.subnetRef === undefined ? undefined : subnets.find((s) => s.subnet.metadata.name === fixed.subnetRef);
    if (fixed.subnetRef !== undefined && named === undefined) {
      problems.push({
        status: "False",
        reason: Reason.DependencyNotFound,
        message: `subnet ${fixed.subnetRef} is not a subnet of network ${port.spec.networkRef}`,
      });
      return;
    }
    if (named !== undefined && named.view === undefined) {
      problems.push({
        status: "False",
        reason: Reason.DependencyNotReady,
        message: `subnet ${fixed.subnetRef ?? ""} is not ready; see its Ready condition`,
      });
      return;
    }
    if (fixed.ipAddress === undefined) {
      const view = named?.view;
      if (view === undefined) return; // CEL requires subnetRef or ipAddress
      slots.push(autoAddressed(view) ? fixedSlot(key, view, formatIp(6, eui64Address(view.cidr, mac))) : poolSlot(key, [view]));
      return;
    }
    const ip = parseIp(fixed.ipAddress);
    const view = named?.view ?? usable.find((v) => ip !== undefined && cidrContains(v.cidr, ip));
    if (ip === undefined || view === undefined) {
      problems.push({
        status: "False",
        reason: Reason.InvalidSpec,
        message: `ipAddress ${fixed.ipAddress} is in no ready subnet of network ${port.spec.networkRef}`,
      });
      return;
    }
    const range = usableRange(view.cidr);
    const inside = cidrContains(view.cidr, ip) && range !== undefined && ip.value >= range.start && ip.value <= range.end;
    if (!inside || ip.value === view.gateway) {
      problems.push({
        status: "False",
        reason: Reason.InvalidSpec,
        message: inside
          ? `ipAddress ${fixed.ipAddress} is the gateway of subnet ${view.name}; pick another address`
          : `ipAddress ${fixed.ipAddress} is not a usable address of subnet ${view.name} (${formatCidr(view.cidr)})`,
      });
      return;
    }
    slots.push(fixedSlot(key, view, formatIp(ip.version, ip.value)));
  });
  return { slots: [...slots, ...keepSlots(remainingCurrent, subnets)], problems, subnetsByUid };
}

/**
 * Addresses the port has on subnets that still exist but give out nothing new (being deleted: Neutron
 * refuses to pull addresses from under ports; invalid after an edit): kept as they are, never released.
 * Addresses on subnets that are gone, or that the spec no longer asks for, are not kept.
 */
function keepSlots(remaining: readonly { subnetId?: string | undefined; ipAddress: string }[], subnets: readonly PlannerSubnet[]): SlotRequest[] {
  return remaining.flatMap((entry, i) => {
    const frozen = subnets.find((s) => s.view === undefined && s.subnet.metadata.uid === entry.subnetId);
    const value = canonicalIp(entry.ipAddress);
    if (frozen === undefined || entry.subnetId === undefined || value === undefined) return [];
    const candidate = { pool: entry.subnetId, value };
    return [{ key: `keep:${i}`, type: "ip" as const, pools: [entry.subnetId], requested: candidate, current: candidate, keepOnly: true }];
  });
}

/**
 * Free addresses of the subnets' pools, subnet by subnet. Within a subnet the walk starts at a point derived
 * from the port (and wraps around): different ports spread over the pool instead of all racing for the
 * lowest free address (Neutron also picks at random among free addresses), while two reconciles of the same
 * port — two replicas during a leader change — propose the same address and so end up agreeing on it.
 */
function* poolCandidates(views: readonly SubnetView[], seed: string, taken: (c: SlotCandidate) => boolean): Generator<SlotCandidate> {
  for (const view of views) {
    const size = rangeSize(view.pools);
    if (size === 0n) continue;
    const start = BigInt(`0x${createHash("sha256").update(`${seed}/${view.uid}`).digest("hex").slice(0, 16)}`) % size;
    for (let i = 0n; i < size; i++) {
      const candidate = { pool: view.uid, value: formatIp(view.cidr.version, nthAddress(view.pools, (start + i) % size)) };
      if (!taken(candidate)) yield candidate;
    }
  }
}

/** The n-th address (0-based) of a list of ranges. */
function nthAddress(pools: readonly { start: bigint; end: bigint }[], n: bigint): bigint {
  let rest = n;
  for (const pool of pools) {
    const size = pool.end - pool.start + 1n;
    if (rest < size) return pool.start + rest;
    rest -= size;
  }
  throw new Error(`address #${n} is beyond the pools`);
}
