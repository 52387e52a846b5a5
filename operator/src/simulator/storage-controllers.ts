// Storage: the CSI external-provisioner and PV binder (a PV per claim of our classes, bound both ways),
// the external-resizer (online expansion), the PVC/PV protection controllers, reclaim (Delete), and
// the snapshot-controller with csi-snapshotter. No data exists anywhere; sizes are bookkeeping.
import {
  Builtin,
  Upstream,
  isAlreadyExists,
  keyOf,
  objectKey,
  removeFinalizer,
  watchOf,
  type Controller,
} from "../kube/index.js";
import { applyStatus, createIfAbsent, Index, keysWhere, PhaseClock, simController, type SimContext } from "./runtime.js";
import { classFor, contentNameFor, contentStatus, desiredContent, snapshotErrorStatus, snapshotKeyOf, snapshotStatus, sourceProblem } from "./snapshot-state.js";
import {
  Annotation,
  Finalizer,
  Manager,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Snapshot,
} from "./types.js";
import {
  boundClaimStatus,
  claimInUse,
  claimKeyOf,
  claimsOfPod,
  claimsOfVmi,
  defaultClassName,
  desiredVolume,
  expansionTarget,
  provisionedByUs,
  volumeAction,
  volumeNameFor,
} from "./volume-state.js";
import { afterDelay } from "./timeline.js";

export function claimController(ctx: SimContext): Controller<PersistentVolumeClaim> {
  const { caches, client, config } = ctx;
  const driver = config.storage.driver;
  const phases = new PhaseClock(ctx.clock);
  const claimKeys = (namespace: string | undefined, names: readonly string[]): string[] => names.map((n) => objectKey(namespace, n));
  /** Our cache may not show a PV we created a moment ago; the apiserver then says it exists. */
  async function createOrGet(pv: PersistentVolume): Promise<PersistentVolume> {
    try {
      return await client.create(Builtin.PersistentVolume, pv, { fieldManager: Manager.provisioner });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await client.get<PersistentVolume>(Builtin.PersistentVolume, pv.metadata.name ?? "");
      if (existing === undefined) throw e;
      return existing;
    }
  }
  return simController<PersistentVolumeClaim>(ctx, {
    name: "sim-csi-claims",
    cache: caches.claims,
    watches: [
      watchOf(caches.volumes, (pv) => {
        const key = claimKeyOf(pv);
        return key === undefined ? [] : [key];
      }),
      watchOf(caches.storageClasses, () => keysWhere(caches.claims, (c) => c.status?.phase !== "Bound")),
      // Users finishing lets a claim being deleted go (pvc-protection).
      watchOf(caches.pods, (pod) => claimKeys(pod.metadata.namespace, claimsOfPod(pod))),
      watchOf(caches.vmis, (vmi) => claimKeys(vmi.metadata.namespace, claimsOfVmi(vmi))),
    ],
    reconcile: async (key, rc) => {
      const claim = rc.object;
      if (claim === undefined) {
        phases.forget(key);
        return undefined;
      }
      const name = claim.metadata.name ?? "";
      const namespace = claim.metadata.namespace ?? "";

      if (claim.metadata.deletionTimestamp !== undefined) {
        if (!(claim.metadata.finalizers ?? []).includes(Finalizer.pvcProtection)) return undefined;
        if (claimInUse(name, caches.pods.list(namespace), caches.vmis.list(namespace))) {
          rc.log.debug("claim still in use; keeping pvc-protection");
          return undefined;
        }
        await removeFinalizer(client, Builtin.PersistentVolumeClaim, claim, Finalizer.pvcProtection);
        return undefined;
      }

      const className = claim.spec?.storageClassName;
      if ((className === undefined || className === null) && (claim.spec?.volumeName ?? "") === "") {
        // Retroactive default class, as the PV controller assigns it to claims created before one existed.
        const fallback = defaultClassName(caches.storageClasses.list(), driver);
        if (fallback !== undefined) {
          await client.patch(Builtin.PersistentVolumeClaim, name, namespace, { spec: { storageClassName: fallback } }, "merge", {
            fieldManager: Manager.pvBinder,
          });
        }
        return undefined;
      }
      const classes = new Map(caches.storageClasses.list().map((sc) => [sc.metadata.name ?? "", sc]));
      if (!provisionedByUs(claim, classes, driver)) return undefined; // static binding or another provisioner
      const sc = classes.get(className ?? "");
      if (sc === undefined) return undefined;

      if (claim.status?.phase === "Bound") {
        const target = expansionTarget(claim, sc);
        if (target === undefined) return undefined;
        const wait = afterDelay("resized", phases.since(claim, `resize:${target}`), config.delays.volumeResize, ctx.clock.now());
        if (wait.kind === "wait") return { requeueAfterMs: wait.waitMs };
        const volumeName = claim.spec?.volumeName ?? "";
        rc.log.info({ size: target }, "expanding volume online");
        await client.patch(Builtin.PersistentVolume, volumeName, undefined, { spec: { capacity: { storage: target } } }, "merge", {
          fieldManager: Manager.resizer,
        });
        await applyStatus(
          client,
          Builtin.PersistentVolumeClaim,
          claim,
          { ...claim.status, capacity: { storage: target }, allocatedResources: { storage: target } },
          Manager.resizer,
        );
        return undefined;
      }

      const wait = afterDelay("bind", phases.since(claim, "Pending"), config.delays.volumeBind, ctx.clock.now());
      if (wait.kind === "wait") return { requeueAfterMs: wait.waitMs };
      let pv = caches.volumes.get(volumeNameFor(claim));
      if (pv === undefined) {
        rc.log.info({ volume: volumeNameFor(claim), size: claim.spec?.resources?.requests?.storage }, "provisioning volume");
        pv = await createOrGet(desiredVolume(claim, sc, driver));
      }
      if (pv.status?.phase !== "Bound") {
        await applyStatus(client, Builtin.PersistentVolume, pv, { phase: "Bound" }, Manager.pvBinder);
      }
      if (claim.spec?.volumeName !== pv.metadata.name) {
        await client.patch(
          Builtin.PersistentVolumeClaim,
          name,
          namespace,
          {
            metadata: {
              annotations: {
                [Annotation.pvcBindCompleted]: "yes",
                [Annotation.pvcBoundByController]: "yes",
                [Annotation.pvcStorageProvisioner]: driver,
                [Annotation.pvcBetaStorageProvisioner]: driver,
              },
            },
            spec: { volumeName: pv.metadata.name },
          },
          "merge",
          { fieldManager: Manager.pvBinder },
        );
      }
      await applyStatus(client, Builtin.PersistentVolumeClaim, claim, boundClaimStatus(claim, pv), Manager.pvBinder);
      return undefined;
    },
  });
}

export function volumeController(ctx: SimContext): Controller<PersistentVolume> {
  const { caches, client } = ctx;
  return simController<PersistentVolume>(ctx, {
    name: "sim-csi-volumes",
    cache: caches.volumes,
    watches: [watchOf(caches.claims, (claim) => [claim.spec?.volumeName ?? volumeNameFor(claim)].filter((n) => n !== ""))],
    reconcile: async (_key, rc) => {
      const pv = rc.object;
      if (pv === undefined) return undefined;
      const claimKey = claimKeyOf(pv);
      const claim = claimKey === undefined ? undefined : caches.claims.get(claimKey);
      const action = volumeAction(pv, claim, ctx.config.storage.driver);
      switch (action.kind) {
        case "release":
          rc.log.info("claim gone; volume released");
          await applyStatus(client, Builtin.PersistentVolume, pv, { phase: "Released" }, Manager.pvBinder);
          break;
        case "delete":
          rc.log.info("reclaim policy Delete: deleting volume");
          await client.delete(Builtin.PersistentVolume, pv.metadata.name ?? "", undefined);
          break;
        case "removeProtection":
          await removeFinalizer(client, Builtin.PersistentVolume, pv, Finalizer.pvProtection);
          break;
        case "none":
          break;
      }
      return undefined;
    },
  });
}

export function snapshotController(ctx: SimContext): Controller<Snapshot> {
  const { caches, client, config } = ctx;
  const phases = new PhaseClock(ctx.clock);
  return simController<Snapshot>(ctx, {
    name: "sim-snapshots",
    cache: caches.snapshots,
    watches: [
      watchOf(caches.snapshotContents, (content) => {
        const key = snapshotKeyOf(content);
        return key === undefined ? [] : [key];
      }),
      watchOf(caches.claims, (claim) => caches.snapshots.byIndex(Index.claims, keyOf(claim)).map(keyOf)),
      watchOf(caches.snapshotClasses, () => keysWhere(caches.snapshots, (s) => s.status?.readyToUse !== true)),
    ],
    reconcile: async (key, rc) => {
      const snapshot = rc.object;
      if (snapshot === undefined) {
        phases.forget(key);
        // Dynamically created contents go with their snapshot when the policy says Delete.
        for (const content of caches.snapshotContents.byIndex(Index.snapshot, key)) {
          if (content.spec.deletionPolicy !== "Delete" || content.metadata.deletionTimestamp !== undefined) continue;
          if (content.spec.driver !== config.storage.driver) continue;
          rc.log.info({ content: content.metadata.name }, "snapshot gone; deleting its content");
          await client.delete(Upstream.VolumeSnapshotContent, content.metadata.name ?? "", undefined);
        }
        return undefined;
      }
      if (snapshot.metadata.deletionTimestamp !== undefined) return undefined;
      const claimName = snapshot.spec.source.persistentVolumeClaimName;
      if (claimName === undefined) return undefined; // pre-provisioned contents are not simulated
      const namespace = snapshot.metadata.namespace ?? "";
      const snapshotClass = classFor(snapshot, caches.snapshotClasses.list());
      if (snapshotClass === undefined) {
        await applyStatus(client, Upstream.VolumeSnapshot, snapshot, snapshotErrorStatus(snapshot, "Failed to get snapshot class with error: no default VolumeSnapshotClass found", ctx.clock.now()), Manager.snapshotController);
        return undefined;
      }
      if (snapshotClass.driver !== config.storage.driver) return undefined;
      if ((snapshot.spec.volumeSnapshotClassName ?? "") === "") {
        // The snapshot-controller records the default class it chose.
        await client.patch(Upstream.VolumeSnapshot, snapshot.metadata.name ?? "", namespace, { spec: { volumeSnapshotClassName: snapshotClass.metadata.name } }, "merge", {
          fieldManager: Manager.snapshotController,
        });
        return undefined;
      }

      const claim = caches.claims.get(objectKey(namespace, claimName));
      const pv = claim?.spec?.volumeName === undefined ? undefined : caches.volumes.get(claim.spec.volumeName);
      const content = caches.snapshotContents.get(contentNameFor(snapshot));
      if (content === undefined) {
        const problem = sourceProblem(snapshot, claim, pv);
        if (problem !== undefined || pv === undefined) {
          await applyStatus(client, Upstream.VolumeSnapshot, snapshot, snapshotErrorStatus(snapshot, problem ?? "source volume not found", ctx.clock.now()), Manager.snapshotController);
          return undefined;
        }
        rc.log.info({ content: contentNameFor(snapshot) }, "creating snapshot content");
        await createIfAbsent(client, Upstream.VolumeSnapshotContent, desiredContent(snapshot, pv, snapshotClass), Manager.snapshotController);
        return undefined;
      }
      if (content.status?.readyToUse !== true) {
        const wait = afterDelay("ready", phases.since(snapshot, "Creating"), config.delays.snapshotReady, ctx.clock.now());
        if (wait.kind === "wait") return { requeueAfterMs: wait.waitMs };
        const source = pv ?? caches.volumes.list().find((v) => v.spec?.csi?.volumeHandle === content.spec.source.volumeHandle);
        if (source === undefined) return undefined;
        await applyStatus(client, Upstream.VolumeSnapshotContent, content, contentStatus(content, source, ctx.clock.now()), Manager.csiSnapshotter);
        return undefined;
      }
      const status = snapshotStatus(content);
      if (snapshot.status?.readyToUse !== true) rc.log.info({ restoreSize: status.restoreSize }, "snapshot ready to use");
      await applyStatus(client, Upstream.VolumeSnapshot, snapshot, status, Manager.snapshotController);
      return undefined;
    },
  });
}
