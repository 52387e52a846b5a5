// Snapshot reconciler (I/O): a Cinder snapshot as a CSI VolumeSnapshot of its volume's claim, taken once
// (the source is immutable), and Cinder's status from the VolumeSnapshot's readyToUse and error. The
// VolumeSnapshot goes with the Snapshot (owner reference); the class is the cluster default's.
import { ConditionType, snapshotKind, volumeKind, type Snapshot, type Volume } from "../../api/index.js";
import {
  Controller,
  Upstream,
  applyChild,
  keyOf,
  objectKey,
  ownerKeysFor,
  setCondition,
  watchOf,
  writeStatusIfChanged,
  type ReconcileContext,
  type ReconcileOutcome,
  type EventingControllerDeps,
  WrittenObjects,
} from "../../kube/index.js";
import { quantityBytes } from "../server/observe.js";
import { wholeGiB } from "../volume/desired.js";
import { DEFAULT_STORAGE_SETTINGS, volumeTypeOf, type StorageSettings } from "../volume/settings.js";
import {
  checkSnapshotSource,
  desiredVolumeSnapshot,
  snapshotVerdict,
  volumeSnapshotName,
  type SnapshotSourceCheck,
  type VolumeSnapshotObject,
} from "./desired.js";

export const SNAPSHOT_CONTROLLER = "snapshot";

export interface SnapshotControllerDeps extends EventingControllerDeps {
  /** The volume types, for the VolumeSnapshotClass of each. */
  storage?: StorageSettings;
}

const Index = { volume: "snapshot:volume-ref" } as const;

export function snapshotController(deps: SnapshotControllerDeps): Controller<Snapshot> {
  const { client } = deps;
  const now = deps.now ?? (() => new Date());
  const storage = deps.storage ?? DEFAULT_STORAGE_SETTINGS;
  const snapshots = deps.caches.get<Snapshot>(snapshotKind);
  const volumes = deps.caches.get<Volume>(volumeKind);
  const volumeSnapshots = deps.caches.get<VolumeSnapshotObject>(Upstream.VolumeSnapshot, { labelSelector: "altostack.io/snapshot" });
  const written = new WrittenObjects<Snapshot>();

  snapshots.addIndex(Index.volume, (s) => [objectKey(s.metadata.namespace, s.spec.volumeRef)]);

  const reconcile = async (key: string, ctx: ReconcileContext<Snapshot>): Promise<ReconcileOutcome> => {
    const snapshot = written.current(key, ctx.object);
    // Gone or going: its VolumeSnapshot follows by garbage collection.
    if (snapshot === undefined || snapshot.metadata.deletionTimestamp !== undefined) return undefined;
    const namespace = snapshot.metadata.namespace ?? "";
    const name = volumeSnapshotName(snapshot.metadata.name ?? "");
    const existing = volumeSnapshots.get(objectKey(namespace, name));
    const volume = volumes.get(objectKey(namespace, snapshot.spec.volumeRef));

    // Checked only before the snapshot is taken: afterwards the volume may be attached, grow or go.
    let check: SnapshotSourceCheck | undefined;
    if (existing === undefined) {
      check = checkSnapshotSource(snapshot, volume);
      if (check.kind === "ok") {
        ctx.log.info({ volumeSnapshot: name, claim: check.claimName }, "taking the volume snapshot");
        // The class of the volume's type when the snapshot is taken (a VolumeSnapshot's class never changes).
        const snapshotClass = volumeTypeOf(storage, volume?.spec.volumeType)?.snapshotClass;
        await applyChild(client, Upstream.VolumeSnapshot, desiredVolumeSnapshot(snapshot, check.claimName, snapshotClass), snapshot, ctx.fieldManager);
      }
    }

    const verdict = snapshotVerdict(
      check,
      existing === undefined ? undefined : { readyToUse: existing.status?.readyToUse, error: existing.status?.error?.message },
    );
    if (verdict.status === "error" && snapshot.status?.status !== "error") deps.events.warning(snapshot, verdict.ready.reason, verdict.ready.message);
    const restoreGiB = wholeGiB(quantityBytes(existing?.status?.restoreSize));
    const status: NonNullable<Snapshot["status"]> = {
      ...snapshot.status,
      observedGeneration: snapshot.metadata.generation,
      status: verdict.status,
      // Cinder shows the source volume's size; the restore size once the storage reports it.
      size: restoreGiB ?? snapshot.status?.size ?? volume?.status?.size ?? volume?.spec.size,
      volumeSnapshotName: existing === undefined && check?.kind !== "ok" ? snapshot.status?.volumeSnapshotName : name,
      conditions: setCondition(
        snapshot.status?.conditions,
        { type: ConditionType.Ready, ...verdict.ready, observedGeneration: snapshot.metadata.generation },
        now(),
      ),
    };
    written.remember(snapshot, await writeStatusIfChanged(client, snapshotKind, snapshot, status, ctx.fieldManager));
    return undefined;
  };

  return new Controller<Snapshot>({
    name: SNAPSHOT_CONTROLLER,
    cache: snapshots,
    watches: [
      watchOf(volumeSnapshots, ownerKeysFor(snapshotKind)),
      // A volume becoming available lets snapshots waiting for it be taken.
      watchOf(volumes, (v) => snapshots.byIndex(Index.volume, keyOf(v)).map(keyOf)),
    ],
    reconcile,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
