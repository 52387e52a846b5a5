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

/** Node names per zone (Nova's detailed zone list, for admins). */
export function hostsByZone(store: FacadeStore): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const node of store.all(Builtin.Node)) {
    const zone = node.metadata.labels?.[ZONE_LABEL] ?? DEFAULT_ZONE;
    hosts.set(zone, [...(hosts.get(zone) ?? []), node.metadata.name ?? ""]);
  }
  return hosts;
}
