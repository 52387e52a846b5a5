// Availability zones, as Nova and Cinder list them: the nodes' topology zones ("nova" when nodes carry none).
import { Builtin } from "../../kube/index.js";
import type { FacadeStore } from "./store.js";

export const ZONE_LABEL = "topology.kubernetes.io/zone";
export const DEFAULT_ZONE = "nova";

export function availabilityZones(store: FacadeStore): string[] {
  const found = new Set<string>();
  for (const node of store.all(Builtin.Node)) {
    const zone = node.metadata.labels?.[ZONE_LABEL];
    if (zone !== undefined && zone !== "") found.add(zone);
  }
  return found.size === 0 ? [DEFAULT_ZONE] : [...found].sort();
}

/**
 * The zone a server is in, as Nova reports it (`OS-EXT-AZ:availability_zone`): its host's zone once placed,
 * else the zone it asked for, else the default.
 */
export function serverZone(store: Pick<FacadeStore, "get">, host: string | undefined, requested: string | undefined): string {
  const hostZone = host === undefined ? undefined : store.get(Builtin.Node, host)?.metadata.labels?.[ZONE_LABEL];
  if (hostZone !== undefined && hostZone !== "") return hostZone;
  return requested ?? DEFAULT_ZONE;
}

/** Node names per zone (Nova's detailed zone list, for admins). */
export function hostsByZone(store: FacadeStore): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const node of store.all(Builtin.Node)) {
    const zone = node.metadata.labels?.[ZONE_LABEL] ?? DEFAULT_ZONE;
    hosts.set(zone, [...(hosts.get(zone) ?? []), node.metadata.name ?? ""]);
  }
  return hosts;
}
