// CDI: the DataVolume controller (PVC, phases, progress, conditions; clones wait for their source) and
// the DataSource controller (Ready when what it points at is populated). No importer pods run and no
// bytes move; the PVC is provisioned by the simulated CSI driver like any other.
import { Builtin, Upstream, keyOf, objectKey, ownerKeysFor, watchOf, type Controller } from "../kube/index.js";
import {
  cloneSourceKey,
  cloneSourceOf,
  dataSourceVerdict,
  dataVolumeStatus,
  dataVolumeVerdicts,
  desiredClaim,
  DvPhase,
  injectedFailure,
  nextDataVolumeStep,
  sourceKindOf,
  type CloneSource,
  type PvcState,
} from "./datavolume-state.js";
import { applyStatus, createIfAbsent, Index, PhaseClock, simController, type SimContext } from "./runtime.js";
import { Annotation, Manager, type DS, type DV } from "./types.js";
import { toConditions, type UpstreamCondition } from "./upstream-conditions.js";

interface SourceState {
  /** Why the clone cannot start yet; undefined when it can. */
  problem: string | undefined;
  /** The source's size, for a target that does not name one. */
  size: string | undefined;
}

export function dataVolumeController(ctx: SimContext): Controller<DV> {
  const { caches, client } = ctx;
  const phases = new PhaseClock(ctx.clock);

  function claimSource(namespace: string, name: string): SourceState {
    const claim = caches.claims.get(objectKey(namespace, name));
    if (claim === undefined) return { problem: `source PVC ${namespace}/${name} not found`, size: undefined };
    const size = claim.status?.capacity?.storage ?? claim.spec?.resources?.requests?.storage;
    if (claim.status?.phase !== "Bound") return { problem: `source PVC ${namespace}/${name} is not bound`, size };
    const populating = caches.dataVolumes.get(objectKey(namespace, name));
    if (populating !== undefined && populating.status?.phase !== DvPhase.Succeeded) {
      return { problem: `source DataVolume ${namespace}/${name} is not populated yet (phase ${populating.status?.phase ?? "Pending"})`, size };
    }
    return { problem: undefined, size };
  }

  function snapshotSource(namespace: string, name: string): SourceState {
    const snapshot = caches.snapshots.get(objectKey(namespace, name));
    if (snapshot === undefined) return { problem: `source VolumeSnapshot ${namespace}/${name} not found`, size: undefined };
    const size = snapshot.status?.restoreSize;
    return snapshot.status?.readyToUse === true
      ? { problem: undefined, size }
      : { problem: `source VolumeSnapshot ${namespace}/${name} is not ready to use`, size };
  }

  function sourceState(source: CloneSource | undefined): SourceState {
    if (source === undefined) return { problem: undefined, size: undefined };
    switch (source.kind) {
      case "pvc":
        return claimSource(source.namespace, source.name);
      case "snapshot":
        return snapshotSource(source.namespace, source.name);
      case "dataSource": {
        const ds = caches.dataSources.get(objectKey(source.namespace, source.name));
        if (ds === undefined) return { problem: `DataSource ${source.namespace}/${source.name} not found`, size: undefined };
        const { pvc, snapshot } = ds.spec.source;
        if (pvc !== undefined) return claimSource(pvc.namespace || source.namespace, pvc.name);
        if (snapshot !== undefined) return snapshotSource(snapshot.namespace || source.namespace, snapshot.name);
        return { problem: `DataSource ${source.namespace}/${source.name} has no source`, size: undefined };
      }
    }
  }

  const cloners = (kind: CloneSource["kind"]) => (obj: { metadata: { namespace?: string; name?: string } }) =>
    caches.dataVolumes
      .byIndex(Index.cloneSource, cloneSourceKey({ kind, namespace: obj.metadata.namespace ?? "", name: obj.metadata.name ?? "" }))
      .map(keyOf);
  /** DataVolumes cloning from a DataSource that points at this PVC/snapshot. */
  const viaDataSource = (prefix: "pvc" | "snapshot") => (obj: { metadata: { namespace?: string; name?: string } }) =>
    caches.dataSources
      .byIndex(Index.dataSourceSource, `${prefix}:${objectKey(obj.metadata.namespace, obj.metadata.name ?? "")}`)
      .flatMap((ds) => cloners("dataSource")(ds));

  return simController<DV>(ctx, {
    name: "sim-cdi-datavolume",
    cache: caches.dataVolumes,
    watches: [
      watchOf(caches.claims, (claim) => [...ownerKeysFor(Upstream.DataVolume)(claim), ...cloners("pvc")(claim), ...viaDataSource("pvc")(claim)]),
      // A source DataVolume finishing lets its cloners go.
      watchOf(caches.dataVolumes, (dv) => [...cloners("pvc")(dv), ...viaDataSource("pvc")(dv)]),
      watchOf(caches.dataSources, cloners("dataSource")),
      watchOf(caches.snapshots, (s) => [...cloners("snapshot")(s), ...viaDataSource("snapshot")(s)]),
    ],
    reconcile: async (key, rc) => {
      const dv = rc.object;
      if (dv === undefined) {
        phases.forget(key);
        return undefined;
      }
      if (dv.metadata.deletionTimestamp !== undefined) return undefined; // its PVC goes with it
      const kind = sourceKindOf(dv.spec);
      const source = sourceState(cloneSourceOf(dv));
      // A PVC just created shows up through the watch; until then the DataVolume reports it missing.
      const claim = ctx.caches.claims.get(key);
      if (claim === undefined) {
        const desired = desiredClaim(dv, source.size);
        if ("error" in desired) {
          rc.log.warn({ error: desired.error }, "cannot create the DataVolume's PVC");
        } else {
          rc.log.info("creating the DataVolume's PVC");
          await createIfAbsent(client, Builtin.PersistentVolumeClaim, desired, Manager.cdi);
        }
      }
      const pvc: PvcState = claim === undefined ? "missing" : claim.status?.phase === "Bound" ? "bound" : "pending";
      const failure = kind === "import" || kind === "clone" ? injectedFailure(dv, ctx.config.failures) : undefined;
      const phase = dv.status?.phase ?? "";
      const step = nextDataVolumeStep({
        kind,
        phase,
        pvc,
        sourceProblem: kind === "clone" ? source.problem : undefined,
        failure,
        enteredAt: phases.since(dv, phase),
        now: ctx.clock.now(),
        delays: ctx.config.delays,
        progressUpdates: ctx.config.progressUpdates,
        uploadComplete: kind === "upload" && claim?.metadata.annotations?.[Annotation.cdiPodPhase] === DvPhase.Succeeded,
      });
      if (step.phase !== phase) {
        phases.moved(dv, step.phase);
        rc.log.info({ from: phase || "(new)", to: step.phase, ...(step.phase === DvPhase.Failed ? { failure } : {}) }, "DataVolume phase");
      }
      const verdicts = dataVolumeVerdicts({
        phase: step.phase,
        kind,
        claimName: dv.metadata.name ?? "",
        pvc,
        failure,
        sourceProblem: kind === "clone" && step.phase === DvPhase.Pending ? source.problem : undefined,
      });
      const status = dataVolumeStatus(dv, step, verdicts, claim !== undefined, ctx.clock.now());
      await applyStatus(client, Upstream.DataVolume, dv, status, Manager.cdi);
      return step.waitMs === undefined ? undefined : { requeueAfterMs: step.waitMs };
    },
  });
}

export function dataSourceController(ctx: SimContext): Controller<DS> {
  const { caches, client } = ctx;
  const pointingAt = (prefix: "pvc" | "snapshot") => (obj: { metadata: { namespace?: string; name?: string } }) =>
    caches.dataSources.byIndex(Index.dataSourceSource, `${prefix}:${objectKey(obj.metadata.namespace, obj.metadata.name ?? "")}`).map(keyOf);
  return simController<DS>(ctx, {
    name: "sim-cdi-datasource",
    cache: caches.dataSources,
    watches: [
      watchOf(caches.dataVolumes, pointingAt("pvc")),
      watchOf(caches.claims, pointingAt("pvc")),
      watchOf(caches.snapshots, pointingAt("snapshot")),
    ],
    reconcile: async (_key, rc) => {
      const ds = rc.object;
      if (ds === undefined || ds.metadata.deletionTimestamp !== undefined) return undefined;
      const verdict = dataSourceVerdict(ds, {
        dataVolume: (ns, name) => caches.dataVolumes.get(objectKey(ns, name)),
        claim: (ns, name) => caches.claims.get(objectKey(ns, name)),
        snapshotReady: (ns, name) => {
          const snapshot = caches.snapshots.get(objectKey(ns, name));
          return snapshot === undefined ? undefined : snapshot.status?.readyToUse === true;
        },
      });
      const previous = (ds.status?.conditions ?? []) as UpstreamCondition[];
      const conditions = toConditions(previous, [verdict], ctx.clock.now(), "heartbeat").map((c) => ({
        type: c.type,
        status: c.status,
        ...(c.reason === undefined ? {} : { reason: c.reason }),
        ...(c.message === undefined ? {} : { message: c.message }),
        lastHeartbeatTime: c.lastHeartbeatTime ?? undefined,
        lastTransitionTime: c.lastTransitionTime ?? undefined,
      }));
      await applyStatus(client, Upstream.DataSource, ds, { conditions, source: ds.spec.source }, Manager.cdi, {
        owned: ["conditions", "source"],
        subresource: false,
      });
      return undefined;
    },
  });
}
