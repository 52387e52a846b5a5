// What the simulated controllers share: one WatchCache per watched type (with the indexes their
// mappings need), the phase timeline, the pod address pool, and write helpers that skip no-op writes.
import {
  Builtin,
  Upstream,
  apiVersionOf,
  isAlreadyExists,
  isNotFound,
  keyOf,
  objectKey,
  statusChanged,
  WatchCache,
  Controller,
  type Clock,
  type ControllerOptions,
  type Reconciler,
  type KubeClient,
  type KubeObject,
  type Logger,
  type ResourceType,
} from "../kube/index.js";
import { PodAddressPool } from "./addresses.js";
import { AssumedPlacements, type PlacedWorkload } from "./scheduling.js";
import type { SimulatorConfig } from "./config.js";
import { cloneSourceKey, cloneSourceOf } from "./datavolume-state.js";
import { parseNetworkSelections } from "./multus.js";
import { snapshotKeyOf } from "./snapshot-state.js";
import { PhaseTimeline } from "./timeline.js";
import {
  Annotation,
  type DS,
  type DV,
  type Migration,
  type NAD,
  type Node,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Pod,
  type Snapshot,
  type SnapshotClass,
  type SnapshotContent,
  type StorageClass,
  type VM,
  type VMI,
} from "./types.js";
import { claimNameOf, isFinalPhase } from "./vm-state.js";
import { claimsOfPod, claimsOfVmi } from "./volume-state.js";

export const Index = {
  /** `namespace/claim` of every PVC (or DataVolume) an object's volumes name. */
  claims: "claims",
  /** `namespace/vmi` a migration is for. */
  vmi: "vmi",
  /** cloneSourceKey of what a DataVolume clones from. */
  cloneSource: "cloneSource",
  /** `pvc:ns/name` / `snapshot:ns/name` a DataSource points at. */
  dataSourceSource: "dataSourceSource",
  /** `namespace/snapshot` a content is bound to. */
  snapshot: "snapshot",
  /** `namespace/nad` of every network a pod's Multus annotation selects. */
  networks: "networks",
} as const;

export interface SimCaches {
  nodes: WatchCache<Node>;
  pods: WatchCache<Pod>;
  claims: WatchCache<PersistentVolumeClaim>;
  volumes: WatchCache<PersistentVolume>;
  storageClasses: WatchCache<StorageClass>;
  vms: WatchCache<VM>;
  vmis: WatchCache<VMI>;
  migrations: WatchCache<Migration>;
  dataVolumes: WatchCache<DV>;
  dataSources: WatchCache<DS>;
  snapshots: WatchCache<Snapshot>;
  snapshotContents: WatchCache<SnapshotContent>;
  snapshotClasses: WatchCache<SnapshotClass>;
  nads: WatchCache<NAD>;
}

export function createCaches(client: KubeClient, log: Logger): SimCaches {
  const cache = <T extends KubeObject>(rt: ResourceType): WatchCache<T> =>
    new WatchCache<T>({ client, resourceType: rt, logger: log, backoff: { initialMs: 200, maxMs: 5_000 } });
  const caches: SimCaches = {
    nodes: cache(Builtin.Node),
    pods: cache(Builtin.Pod),
    claims: cache(Builtin.PersistentVolumeClaim),
    volumes: cache(Builtin.PersistentVolume),
    storageClasses: cache(Builtin.StorageClass),
    vms: cache(Upstream.VirtualMachine),
    vmis: cache(Upstream.VirtualMachineInstance),
    migrations: cache(Upstream.VirtualMachineInstanceMigration),
    dataVolumes: cache(Upstream.DataVolume),
    dataSources: cache(Upstream.DataSource),
    snapshots: cache(Upstream.VolumeSnapshot),
    snapshotContents: cache(Upstream.VolumeSnapshotContent),
    snapshotClasses: cache(Upstream.VolumeSnapshotClass),
    nads: cache(Upstream.NetworkAttachmentDefinition),
  };
  const inNamespace = (obj: KubeObject, names: readonly string[]): string[] =>
    names.map((n) => objectKey(obj.metadata.namespace, n));
  caches.vms.addIndex(Index.claims, (vm) =>
    inNamespace(vm, (vm.spec.template.spec?.volumes ?? []).map(claimNameOf).filter((n): n is string => n !== undefined)),
  );
  caches.vmis.addIndex(Index.claims, (vmi) => inNamespace(vmi, claimsOfVmi(vmi)));
  caches.pods.addIndex(Index.claims, (pod) => inNamespace(pod, claimsOfPod(pod)));
  caches.pods.addIndex(Index.networks, (pod) => {
    const parsed = parseNetworkSelections(pod.metadata.annotations?.[Annotation.multusNetworks], pod.metadata.namespace ?? "");
    return parsed.ok ? parsed.selections.map((s) => objectKey(s.namespace, s.name)) : [];
  });
  caches.migrations.addIndex(Index.vmi, (m) => (m.spec.vmiName === undefined ? [] : inNamespace(m, [m.spec.vmiName])));
  caches.dataVolumes.addIndex(Index.cloneSource, (dv) => {
    const source = cloneSourceOf(dv);
    return source === undefined ? [] : [cloneSourceKey(source)];
  });
  caches.dataSources.addIndex(Index.dataSourceSource, (ds) => {
    const ns = ds.metadata.namespace ?? "";
    const { pvc, snapshot } = ds.spec.source;
    if (pvc !== undefined) return [`pvc:${pvc.namespace || ns}/${pvc.name}`];
    if (snapshot !== undefined) return [`snapshot:${snapshot.namespace || ns}/${snapshot.name}`];
    return [];
  });
  caches.snapshots.addIndex(Index.claims, (s) => {
    const claim = s.spec.source.persistentVolumeClaimName;
    return claim === undefined ? [] : inNamespace(s, [claim]);
  });
  caches.snapshotContents.addIndex(Index.snapshot, (c) => {
    const key = snapshotKeyOf(c);
    return key === undefined ? [] : [key];
  });
  return caches;
}

type CacheHandle = Pick<WatchCache<KubeObject>, "stop" | "hasSynced" | "resourceType">;

/** Every cache, for the start check and shutdown. */
export function allCaches(caches: SimCaches): CacheHandle[] {
  const byName: Record<keyof SimCaches, CacheHandle> = caches;
  return Object.values(byName);
}

export async function stopCaches(caches: SimCaches): Promise<void> {
  await Promise.all(allCaches(caches).map((c) => c.stop()));
}

export interface SimContext {
  client: KubeClient;
  log: Logger;
  config: SimulatorConfig;
  clock: Clock;
  caches: SimCaches;
  addresses: PodAddressPool;
  /** Scheduling decisions not yet in the caches (shared by the VMI, migration and pod schedulers). */
  placements: AssumedPlacements;
}

export function createContext(opts: { client: KubeClient; log: Logger; config: SimulatorConfig; clock: Clock }): SimContext {
  const caches = createCaches(opts.client, opts.log);
  // Addresses objects already report, so a restarted simulator never hands one out twice.
  const observed = function* (): Generator<string> {
    for (const pod of caches.pods.list()) if (pod.status?.podIP !== undefined) yield pod.status.podIP;
    for (const vmi of caches.vmis.list()) {
      for (const iface of vmi.status?.interfaces ?? []) if (iface.podInterfaceName !== undefined && iface.ipAddress !== undefined) yield iface.ipAddress;
    }
  };
  return { ...opts, caches, addresses: new PodAddressPool(observed), placements: new AssumedPlacements() };
}

/** Placement keys: VMIs and pods may share a name. */
export const placementKey = {
  vmi: (key: string): string => `vmi:${key}`,
  pod: (key: string): string => `pod:${key}`,
} as const;

/** Every VMI and pod occupying a node (reported or assumed), for inter-pod affinity and load. */
export function placedWorkloads(ctx: Pick<SimContext, "caches" | "placements">): PlacedWorkload[] {
  const placed: PlacedWorkload[] = [];
  for (const vmi of ctx.caches.vmis.list()) {
    if (isFinalPhase(vmi.status?.phase)) continue;
    const uid = vmi.metadata.uid ?? "";
    const nodeName = ctx.placements.nodeOf(placementKey.vmi(keyOf(vmi)), uid, vmi.status?.nodeName);
    if (nodeName === undefined) continue;
    placed.push({ uid, namespace: vmi.metadata.namespace ?? "", labels: vmi.metadata.labels ?? {}, nodeName, affinity: vmi.spec.affinity });
  }
  for (const pod of ctx.caches.pods.list()) {
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
    const uid = pod.metadata.uid ?? "";
    const nodeName = ctx.placements.nodeOf(placementKey.pod(keyOf(pod)), uid, pod.spec?.nodeName);
    if (nodeName === undefined) continue;
    placed.push({ uid, namespace: pod.metadata.namespace ?? "", labels: pod.metadata.labels ?? {}, nodeName, affinity: pod.spec?.affinity });
  }
  return placed;
}

/** Keys of every object in `cache` that `pred` accepts (for watches that re-evaluate a whole class of objects). */
export function keysWhere<T extends KubeObject>(cache: WatchCache<T>, pred: (obj: T) => boolean): string[] {
  return cache.list().filter(pred).map(keyOf);
}

function pick(value: unknown, keys: readonly string[] | "all"): unknown {
  if (keys === "all" || typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(keys.filter((k) => record[k] !== undefined).map((k) => [k, record[k]]));
}

/**
 * Server-side applies `desired` as the object's status when it differs from what the object has in
 * the fields `owned` (the ones this component writes; "all" when nobody else writes status).
 * `subresource: false` is for kinds without a status subresource (VMI, DataSource): the apply then
 * carries the UID, so it cannot land on a namesake created since the read.
 */
export async function applyStatus(
  client: Pick<KubeClient, "apply" | "applyStatus">,
  rt: ResourceType,
  obj: KubeObject & { status?: unknown },
  desired: object,
  manager: string,
  opts: { owned?: readonly string[] | "all"; subresource?: boolean } = {},
): Promise<boolean> {
  if (!statusChanged(pick(obj.status, opts.owned ?? "all"), desired)) return false;
  const { name, namespace, uid } = obj.metadata;
  if (name === undefined) throw new Error(`${rt.kind} object has no metadata.name`);
  const metadata = { name, ...(namespace === undefined ? {} : { namespace }) };
  const patch = { apiVersion: apiVersionOf(rt), kind: rt.kind, status: desired };
  if (opts.subresource === false) {
    await client.apply(rt, { ...patch, metadata: { ...metadata, ...(uid === undefined ? {} : { uid }) } }, { fieldManager: manager });
  } else {
    await client.applyStatus(rt, { ...patch, metadata }, { fieldManager: manager });
  }
  return true;
}

/** POST that treats "already exists" as done (the cache will show it shortly). */
export async function createIfAbsent(client: KubeClient, rt: ResourceType, obj: KubeObject, manager: string): Promise<void> {
  try {
    await client.create(rt, obj, { fieldManager: manager });
  } catch (e) {
    if (isAlreadyExists(e)) return;
    throw e;
  }
}

/** A controller with the simulator's logger, clock, worker count and a short retry backoff. */
export function simController<T extends KubeObject>(
  ctx: SimContext,
  opts: Omit<ControllerOptions<T>, "logger" | "workers" | "clock" | "backoff">,
): Controller<T> {
  const reconcile: Reconciler<T> = async (key, rc) => {
    try {
      return await opts.reconcile(key, rc);
    } catch (e) {
      // Acting on a cached copy of something just deleted: its delete event is on the way and brings
      // the key back, so this is no failure (and retrying it would only log errors).
      if (isNotFound(e) && e.details?.name === rc.name) {
        rc.log.debug({ err: e }, "object gone while reconciling");
        return undefined;
      }
      throw e;
    }
  };
  return new Controller<T>({
    ...opts,
    reconcile,
    logger: ctx.log,
    workers: ctx.config.workers,
    clock: ctx.clock,
    backoff: { baseDelayMs: 50, maxDelayMs: 10_000 },
  });
}

/** Per-controller phase clock for objects of one cache: `since(obj, phase)` and `moved(obj, phase)`. */
export class PhaseClock {
  private readonly timeline = new PhaseTimeline();

  constructor(private readonly clock: Clock) {}

  since(obj: KubeObject, phase: string): number {
    return this.timeline.enteredAt(keyOf(obj), obj.metadata.uid ?? "", phase, this.clock.now());
  }

  moved(obj: KubeObject, phase: string): void {
    this.timeline.mark(keyOf(obj), obj.metadata.uid ?? "", phase, this.clock.now());
  }

  forget(key: string): void {
    this.timeline.forget(key);
  }
}
