// Volume reconciler (I/O): a Cinder volume as a PVC (blank) or a CDI DataVolume (from an image, a snapshot
// or another volume), the StorageClass of its volume type, growth of the claim when the volume is
// extended, and Cinder's status. Deletion waits while a server (or a container) declares the volume
// (VolumeIsBusy) and while snapshots of it exist, unless the volume is annotated to cascade.
import {
  ConditionType,
  Finalizer,
  LABELS,
  MANAGED_BY,
  Reason,
  containerKind,
  imageKind,
  openstackName,
  serverKind,
  snapshotKind,
  volumeKind,
  type Container,
  type Image,
  type Server,
  type Snapshot,
  type Volume,
} from "../../api/index.js";
import {
  Builtin,
  Controller,
  Upstream,
  applyChild,
  ensureFinalizer,
  isForbidden,
  isInvalid,
  keyOf,
  objectKey,
  ownerKeysFor,
  removeFinalizer,
  setCondition,
  watchOf,
  writeStatusIfChanged,
  type KubeObject,
  type ReconcileContext,
  type ReconcileOutcome,
  type EventingControllerDeps,
  WrittenObjects,
} from "../../kube/index.js";
import { podNameOf } from "../container/desired.js";
import { containerPods, containerVolumeAttachments, containersDeclaring } from "../container/volumes.js";
import { failureOf } from "../image/status.js";
import { resolveImageRef } from "../image/visibility.js";
import { vmNameOf } from "../server/names.js";
import { quantityBytes, type VmiObject, type VmObject } from "../server/observe.js";
import { attachProgress, volumeAttachments, volumesOfServer } from "./attach.js";
import { serversDeclaring } from "./claimants.js";
import { DEFAULT_COMPUTE_SETTINGS, type ComputeSettings } from "../server/settings.js";
import {
  VolumeAnnotation,
  claimResizeFailure,
  claimResizeRequest,
  desiredVolumeChildren,
  volumeClaimName,
  wholeGiB,
  type ClaimObject,
  type DataVolumeObject,
} from "./desired.js";
import { inheritedBootable, resolveVolumeSource, type SourceLookups, type SourceResolution } from "./resolve.js";
import { DEFAULT_STORAGE_SETTINGS, volumeTypeOf, type StorageSettings } from "./settings.js";
import { volumeVerdict } from "./status.js";

export const VOLUME_CONTROLLER = "volume";

export interface VolumeControllerDeps extends EventingControllerDeps {
  storage?: StorageSettings;
  /** For the access modes of single-attach volumes (the same as servers' disks, so they can migrate). */
  compute?: ComputeSettings;
}

const Index = {
  claim: "volume:claim",
  imageRef: "volume:image-ref",
  sourceSnapshot: "volume:source-snapshot",
  sourceVolume: "volume:source-volume",
  snapshotOf: "snapshot:volume",
  vmiClaims: "volume:vmi-claims",
} as const;

function hasSource(volume: Volume): boolean {
  const source = volume.spec.source;
  return source !== undefined && (source.imageRef !== undefined || source.snapshotRef !== undefined || source.volumeRef !== undefined);
}

export function volumeController(deps: VolumeControllerDeps): Controller<Volume> {
  const { client } = deps;
  const storageSettings = deps.storage ?? DEFAULT_STORAGE_SETTINGS;
  const compute = deps.compute ?? DEFAULT_COMPUTE_SETTINGS;
  const now = deps.now ?? (() => new Date());
  const volumes = deps.caches.get<Volume>(volumeKind);
  // All claims: CDI does not label the PVC it makes for a DataVolume with the DataVolume's labels.
  const claims = deps.caches.get<ClaimObject>(Builtin.PersistentVolumeClaim);
  const dataVolumes = deps.caches.get<DataVolumeObject>(Upstream.DataVolume, { labelSelector: "altostack.io/volume" });
  const images = deps.caches.get<Image>(imageKind);
  const snapshots = deps.caches.get<Snapshot>(snapshotKind);
  const servers = deps.caches.get<Server>(serverKind);
  // Containers mount volumes too: they hold them like servers (in-use, deletion waits).
  const containers = deps.caches.get<Container>(containerKind);
  const pods = containerPods(deps.caches);
  const declaringContainers = containersDeclaring(containers);
  // The same caches the server controller reads (same selectors, so shared).
  const vms = deps.caches.get<VmObject>(Upstream.VirtualMachine, { labelSelector: `${LABELS.managedBy}=${MANAGED_BY}` });
  const vmis = deps.caches.get<VmiObject>(Upstream.VirtualMachineInstance, { labelSelector: "altostack.io/server" });
  const written = new WrittenObjects<Volume>();

  volumes.addIndex(Index.claim, (v) => [objectKey(v.metadata.namespace, volumeClaimName(v.metadata.name ?? ""))]);
  volumes.addIndex(Index.imageRef, (v) => {
    const ref = v.spec.source?.imageRef;
    if (ref === undefined) return [];
    const target = resolveImageRef(ref, v.metadata.namespace ?? "");
    return [objectKey(target.namespace, target.name)];
  });
  volumes.addIndex(Index.sourceSnapshot, (v) =>
    v.spec.source?.snapshotRef === undefined ? [] : [objectKey(v.metadata.namespace, v.spec.source.snapshotRef)],
  );
  volumes.addIndex(Index.sourceVolume, (v) => (v.spec.source?.volumeRef === undefined ? [] : [objectKey(v.metadata.namespace, v.spec.source.volumeRef)]));
  const declaringServers = serversDeclaring(servers);
  snapshots.addIndex(Index.snapshotOf, (s) => [objectKey(s.metadata.namespace, s.spec.volumeRef)]);
  vmis.addIndex(Index.vmiClaims, (vmi) =>
    (vmi.spec.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim === undefined ? [] : [objectKey(vmi.metadata.namespace, v.persistentVolumeClaim.claimName)])),
  );

  const reconcile = async (key: string, ctx: ReconcileContext<Volume>): Promise<ReconcileOutcome> => {
    const cached = written.current(key, ctx.object);
    if (cached === undefined) return undefined; // its claim or DataVolume goes with it (owner reference)
    const namespace = cached.metadata.namespace ?? "";
    const claimName = volumeClaimName(cached.metadata.name ?? "");
    const deleting = cached.metadata.deletionTimestamp !== undefined;
    const attachedTo = declaringServers(key).map((s) => s.metadata.name ?? "");
    const dependents = snapshots.byIndex(Index.snapshotOf, key);

    let deletionBlocked: { reason: string; message: string } | undefined;
    if (deleting) {
      if (!(cached.metadata.finalizers ?? []).includes(Finalizer.volume)) return undefined;
      const mountedBy = declaringContainers(key).map((c) => c.metadata.name ?? "");
      deletionBlocked =
        mountedBy.length > 0
          ? {
              reason: Reason.VolumeIsBusy,
              message: `volume is mounted by container(s) ${mountedBy.join(", ")}; it is deleted once no container lists it in spec.volumes`,
            }
          : await deletionBlocker(cached, attachedTo, dependents, ctx);
      if (deletionBlocked === undefined) {
        ctx.log.info("volume deleted; its storage goes with it");
        await removeFinalizer(client, volumeKind, cached, Finalizer.volume);
        return undefined;
      }
    }
    const volume = deleting ? cached : await ensureFinalizer(client, volumeKind, cached, Finalizer.volume);
    written.remember(cached, volume);

    const claim = claims.get(objectKey(namespace, claimName));
    const dv = dataVolumes.get(objectKey(namespace, claimName));
    const type = volumeTypeOf(storageSettings, volume.spec.volumeType);
    const lookups: SourceLookups = {
      image: (ns, name) => images.get(objectKey(ns, name)),
      snapshot: (name) => snapshots.get(objectKey(namespace, name)),
      volume: (name) => volumes.get(objectKey(namespace, name)),
    };
    // The source is read once, to create the copy: after that it may change or go without affecting the volume.
    const copyPending = hasSource(volume) && dv === undefined && claim === undefined;
    const resolution: SourceResolution | undefined =
      type === undefined
        ? { kind: "fault", reason: Reason.InvalidSpec, message: `Volume type ${volume.spec.volumeType ?? ""} could not be found.` }
        : !hasSource(volume)
          ? { kind: "ok", source: { kind: "blank" } }
          : copyPending
            ? resolveVolumeSource(volume, lookups)
            : undefined;

    /** The apiserver refused to grow the claim (e.g. its StorageClass does not allow expansion). */
    let resizeRefused: string | undefined;
    const growing = async (write: () => Promise<unknown>): Promise<void> => {
      try {
        await write();
      } catch (err) {
        if (!(isForbidden(err) || isInvalid(err)) || claim === undefined) throw err;
        const why = err instanceof Error ? err.message : String(err);
        const capacity = wholeGiB(quantityBytes(claim.status?.capacity?.storage));
        if (capacity !== undefined && capacity < volume.spec.size) {
          resizeRefused = why;
          ctx.log.info({ claim: claimName, err: why }, "the claim cannot grow");
          return;
        }
        // Nothing to grow, yet the existing claim refuses the re-apply: a field that is immutable once the claim
        // exists differs from what this operator would make now (e.g. its disk access modes were reconfigured).
        // The claim keeps working as it is. Throwing here would freeze the volume's status (creating → reserved →
        // in-use, attachments) behind backoff retries that can never succeed.
        ctx.log.warn({ claim: claimName, err: why }, "the volume's claim differs from the desired one in immutable fields; kept as it is");
      }
    };
    if (!deleting && type !== undefined) {
      const storage = { storageClassName: type.storageClass, accessModes: compute.diskAccessModes };
      if (resolution?.kind === "ok") {
        const children = desiredVolumeChildren(volume, resolution.source, storage);
        // A blank volume's claim is applied every time, so a larger size grows it.
        const blankClaim = children.claim;
        if (blankClaim !== undefined) await growing(() => applyChild(client, Builtin.PersistentVolumeClaim, blankClaim, volume, ctx.fieldManager));
        if (children.dataVolume !== undefined) {
          ctx.log.info({ dataVolume: claimName, source: resolution.source.kind }, "creating the volume's DataVolume");
          await applyChild(client, Upstream.DataVolume, children.dataVolume, volume, ctx.fieldManager);
        }
      }
      // A copied volume's claim belongs to CDI: extending it is a patch of its request.
      const grow = hasSource(volume) && claim !== undefined ? claimResizeRequest(volume.spec.size, quantityBytes(claim.spec?.resources?.requests?.storage)) : undefined;
      if (grow !== undefined) {
        ctx.log.info({ claim: claimName, size: grow }, "extending the volume's claim");
        await growing(() =>
          client.patch(Builtin.PersistentVolumeClaim, claimName, namespace, { spec: { resources: { requests: { storage: grow } } } }, "merge", {
            fieldManager: ctx.fieldManager,
          }),
        );
      }
    }

    const serverAttachInput = {
      volume,
      servers: declaringServers(key).map((server) => {
        const vmKey = objectKey(namespace, vmNameOf(server.metadata.name ?? ""));
        return { server, vm: vms.get(vmKey), vmi: vmis.get(vmKey) };
      }),
      now: now().toISOString(),
    };
    // Cinder's attaching/detaching/reserved: how far the servers' guests are with the volume.
    const progress = attachProgress({ ...serverAttachInput, lingeringVmis: lingeringVmis(namespace, volume.status?.claimName) });
    const attachments = [
      ...volumeAttachments(serverAttachInput),
      ...containerVolumeAttachments({
        volume,
        containers: declaringContainers(key).map((container) => ({
          container,
          pod: pods.get(objectKey(namespace, podNameOf(container.metadata.name ?? ""))),
        })),
        now: now().toISOString(),
      }),
    ];
    const verdict = volumeVerdict({
      sizeGiB: volume.spec.size,
      fault: resolution?.kind === "fault" ? { reason: resolution.reason, message: resolution.message } : undefined,
      waiting: resolution?.kind === "waiting" ? resolution.message : undefined,
      claim: claim === undefined ? undefined : { phase: claim.status?.phase, capacityGiB: wholeGiB(quantityBytes(claim.status?.capacity?.storage)) },
      dataVolume:
        dv === undefined ? undefined : { phase: dv.status?.phase, progress: dv.status?.progress, failure: failureOf(dv.status?.conditions) },
      fromImage: volume.spec.source?.imageRef !== undefined,
      attachments: attachments.length,
      attaching: progress.attaching,
      detaching: progress.detaching,
      reserved: progress.reserved,
      resizeFailure: resizeRefused ?? claimResizeFailure(claim),
      deleting,
      deletionBlocked,
    });
    const failed = verdict.status === "error" || verdict.status === "error_extending";
    if (failed && volume.status?.status !== verdict.status) deps.events.warning(volume, verdict.ready.reason, verdict.ready.message);

    const bootable = volume.spec.bootable ?? inheritedBootable(volume, lookups);
    const capacity = wholeGiB(quantityBytes(claim?.status?.capacity?.storage));
    const generation = volume.metadata.generation;
    let conditions = setCondition(volume.status?.conditions, { type: ConditionType.Ready, ...verdict.ready, observedGeneration: generation }, now());
    if (verdict.deletingCondition !== undefined) {
      conditions = setCondition(conditions, { type: ConditionType.Deleting, ...verdict.deletingCondition, observedGeneration: generation }, now());
    }
    const status: NonNullable<Volume["status"]> = {
      ...volume.status,
      observedGeneration: generation,
      status: verdict.status,
      size: capacity ?? volume.status?.size,
      bootable: bootable === undefined ? (volume.status?.bootable ?? "false") : bootable ? "true" : "false",
      claimName: claim === undefined && dv === undefined ? volume.status?.claimName : claimName,
      attachments,
      conditions,
    };
    written.remember(volume, await writeStatusIfChanged(client, volumeKind, volume, status, ctx.fieldManager));
    ctx.log.debug({ volume: openstackName(volume), status: verdict.status }, "volume reconciled");
    return undefined;
  };

  /** Live guests that still have the claim while their VM no longer carries it (being unplugged or shut down). */
  function lingeringVmis(namespace: string, claimName: string | undefined): number {
    if (claimName === undefined) return 0;
    return vmis.byIndex(Index.vmiClaims, objectKey(namespace, claimName)).filter((vmi) => {
      if (vmi.metadata.deletionTimestamp !== undefined || vmi.status?.phase === "Succeeded" || vmi.status?.phase === "Failed") return false;
      const vm = vms.get(objectKey(vmi.metadata.namespace, vmi.metadata.name ?? ""));
      return !(vm?.spec.template.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claimName);
    }).length;
  }

  /** Why a volume being deleted must wait; deletes its snapshots first when asked to cascade. */
  async function deletionBlocker(
    volume: Volume,
    attachedTo: string[],
    dependents: Snapshot[],
    ctx: ReconcileContext<Volume>,
  ): Promise<{ reason: string; message: string } | undefined> {
    if (attachedTo.length > 0) {
      return {
        reason: Reason.VolumeIsBusy,
        message: `volume is attached to server(s) ${attachedTo.join(", ")}; it is deleted once no server lists it in spec.volumes or spec.bootVolume`,
      };
    }
    if (dependents.length === 0) return undefined;
    const names = dependents.map((s) => s.metadata.name ?? "");
    if (volume.metadata.annotations?.[VolumeAnnotation.cascade] !== "true") {
      return {
        reason: Reason.VolumeHasSnapshots,
        message: `volume still has ${dependents.length} dependent snapshot(s) (${names.join(", ")}); delete them, or annotate the volume ${VolumeAnnotation.cascade}=true to delete them with it`,
      };
    }
    for (const snapshot of dependents) {
      if (snapshot.metadata.deletionTimestamp !== undefined) continue;
      ctx.log.info({ snapshot: snapshot.metadata.name }, "cascade: deleting the volume's snapshot");
      await client.delete(snapshotKind, snapshot.metadata.name ?? "", snapshot.metadata.namespace);
    }
    return { reason: Reason.CascadeDeleting, message: `deleting the volume's snapshots first: ${names.join(", ")}` };
  }

  const byIndexed = (index: string) => (obj: KubeObject): string[] => volumes.byIndex(index, keyOf(obj)).map(keyOf);
  /** Volumes whose claims a VM or VMI carries. */
  const carriedBy = (obj: VmObject | VmiObject): string[] => {
    const specVolumes = "template" in obj.spec ? obj.spec.template.spec?.volumes : (obj as VmiObject).spec.volumes;
    return (specVolumes ?? [])
      .flatMap((v) => (v.persistentVolumeClaim === undefined ? [] : [objectKey(obj.metadata.namespace, v.persistentVolumeClaim.claimName)]))
      .flatMap((claimKey) => volumes.byIndex(Index.claim, claimKey).map(keyOf));
  };

  return new Controller<Volume>({
    name: VOLUME_CONTROLLER,
    cache: volumes,
    watches: [
      watchOf(dataVolumes, ownerKeysFor(volumeKind)),
      watchOf(claims, byIndexed(Index.claim)),
      // Sources becoming ready (or failing) move volumes waiting for them.
      watchOf(images, byIndexed(Index.imageRef)),
      watchOf(snapshots, (s) => [...byIndexed(Index.sourceSnapshot)(s), objectKey(s.metadata.namespace, s.spec.volumeRef)]),
      watchOf(volumes, byIndexed(Index.sourceVolume)),
      // Servers declaring or releasing a volume decide whether its deletion may go on.
      watchOf(servers, (s) => volumesOfServer(s).map((name) => objectKey(s.metadata.namespace, name))),
      // Attachments: the VM carrying the claim, the VMI reporting the guest device.
      watchOf(vms, carriedBy),
      watchOf(vmis, carriedBy),
      // Containers declaring a volume, and their Pods carrying its claim.
      watchOf(containers, (c) => (c.spec.volumes ?? []).map((v) => objectKey(c.metadata.namespace, v.volumeRef))),
      watchOf(pods, (p) =>
        (p.spec?.volumes ?? []).flatMap((v) =>
          v.persistentVolumeClaim === undefined ? [] : volumes.byIndex(Index.claim, objectKey(p.metadata.namespace, v.persistentVolumeClaim.claimName)).map(keyOf),
        ),
      ),
    ],
    reconcile,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
