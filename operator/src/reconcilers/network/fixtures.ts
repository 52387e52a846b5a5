// Test fixtures for the networking reconcilers (not used at runtime): objects with sensible defaults, varied
// by the fields a test cares about.
import {
  API_VERSION,
  type Network,
  type Port,
  type SecurityGroup,
  type Server,
  type Subnet,
} from "../../api/index.js";
import type { ObjectMeta } from "../../api/index.js";

const meta = (name: string, namespace: string, uid: string, extra: Partial<ObjectMeta> = {}): ObjectMeta => ({
  name,
  namespace,
  uid,
  generation: 1,
  resourceVersion: "1",
  creationTimestamp: "2026-01-01T00:00:00Z",
  ...extra,
});

export const NS = "project-demo";

export function network(name = "private", over: { spec?: Network["spec"]; status?: Network["status"]; meta?: Partial<ObjectMeta> } = {}): Network {
  return {
    apiVersion: API_VERSION,
    kind: "Network",
    metadata: meta(name, NS, `net-${name}-uid`, over.meta),
    spec: over.spec ?? {},
    ...(over.status === undefined ? {} : { status: over.status }),
  };
}

export function subnet(
  name: string,
  spec: Partial<Subnet["spec"]> & { cidr: string },
  over: { status?: Subnet["status"]; meta?: Partial<ObjectMeta> } = {},
): Subnet {
  return {
    apiVersion: API_VERSION,
    kind: "Subnet",
    metadata: meta(name, NS, `${name}-uid`, over.meta),
    spec: { networkRef: "private", ipVersion: spec.cidr.includes(":") ? 6 : 4, ...spec },
    ...(over.status === undefined ? {} : { status: over.status }),
  };
}

export function port(name: string, spec: Partial<Port["spec"]> = {}, over: { status?: Port["status"]; meta?: Partial<ObjectMeta> } = {}): Port {
  return {
    apiVersion: API_VERSION,
    kind: "Port",
    metadata: meta(name, NS, `${name}-uid`, over.meta),
    spec: { networkRef: "private", ...spec },
    ...(over.status === undefined ? {} : { status: over.status }),
  };
}

export function securityGroup(name: string, spec: SecurityGroup["spec"] = {}): SecurityGroup {
  return { apiVersion: API_VERSION, kind: "SecurityGroup", metadata: meta(name, NS, `${name}-uid`), spec };
}

export function server(name: string, spec: Partial<Server["spec"]> = {}): Server {
  return {
    apiVersion: API_VERSION,
    kind: "Server",
    metadata: meta(name, NS, `${name}-uid`),
    spec: { flavorRef: "m1.small", imageRef: "cirros", ...spec },
  };
}

/** A Ready condition as the reconcilers write it. */
export const readyCondition = (generation = 1, status: "True" | "False" = "True", reason = "Reconciled", message = "ok") => ({
  type: "Ready",
  status,
  reason,
  message,
  lastTransitionTime: "2026-01-01T00:00:00Z",
  observedGeneration: generation,
});

/** A read-only stand-in for a WatchCache: get by key, list by namespace, byIndex through the given functions. */
export function memoryCache<T extends { metadata: ObjectMeta }>(objects: readonly T[], indexes: Record<string, (obj: T) => readonly (string | undefined)[]> = {}) {
  const keyOf = (o: T) => (o.metadata.namespace === undefined ? (o.metadata.name ?? "") : `${o.metadata.namespace}/${o.metadata.name ?? ""}`);
  return {
    get: (key: string) => objects.find((o) => keyOf(o) === key),
    list: (namespace?: string) => objects.filter((o) => namespace === undefined || o.metadata.namespace === namespace),
    byIndex: (index: string, value: string) => {
      const fn = indexes[index];
      if (fn === undefined) throw new Error(`no index ${index} in the test cache`);
      return objects.filter((o) => fn(o).includes(value));
    },
  };
}
