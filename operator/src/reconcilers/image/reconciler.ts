// Image reconciler (I/O): the image's data as a CDI DataVolume (imported over HTTP, uploaded, or copied
// from a snapshot of a server's root disk), the DataSource servers clone from, the clone grant for other
// projects as visibility and members allow, and Glance's status. A protected image is not deleted.
import {
  ConditionType,
  Finalizer,
  imageKind,
  openstackName,
  projectOfNamespace,
  serverKind,
  volumeKind,
  type Image,
  type Server,
  type Volume,
} from "../../api/index.js";
import {
  Builtin,
  Controller,
  Upstream,
  applyChild,
  ensureFinalizer,
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
import { imageCloneRbacName, imageSnapshotName, imageVolumeName } from "../server/names.js";
import { DEFAULT_COMPUTE_SETTINGS, type ComputeSettings } from "../server/settings.js";
import {
  copiesDisk,
  desiredImageChildren,
  volumeSizeGiB,
  type DataSourceObject,
  type DataVolumeObject,
  type VolumeSnapshotObject,
} from "./desired.js";
import { failureOf, imageVerdict, type ImageSourceKind } from "./status.js";
import { serverRootDisk, volumeDisk } from "./source-disk.js";
import { uploadedDataFields, uploadRecordOf, uploadStreamingFor } from "./upload-record.js";

export const IMAGE_CONTROLLER = "image";

export interface ImageControllerDeps extends EventingControllerDeps {
  settings?: ComputeSettings;
}

const Index = { serverRef: "image:server-ref", volumeRef: "image:volume-ref" } as const;
const GIB = 1024 ** 3;

function sourceKind(image: Image): ImageSourceKind {
  const { source } = image.spec;
  if (source.http !== undefined) return "http";
  if (source.upload !== undefined) return "upload";
  if (source.serverRef !== undefined) return "serverRef";
  return "volumeRef";
}

export function imageController(deps: ImageControllerDeps): Controller<Image> {
  const { client } = deps;
  const settings = deps.settings ?? DEFAULT_COMPUTE_SETTINGS;
  const now = deps.now ?? (() => new Date());
  const images = deps.caches.get<Image>(imageKind);
  const dataVolumes = deps.caches.get<DataVolumeObject>(Upstream.DataVolume, { labelSelector: "altostack.io/image" });
  const dataSources = deps.caches.get<DataSourceObject>(Upstream.DataSource, { labelSelector: "altostack.io/image" });
  const snapshots = deps.caches.get<VolumeSnapshotObject>(Upstream.VolumeSnapshot, { labelSelector: "altostack.io/image" });
  const servers = deps.caches.get<Server>(serverKind);
  const volumes = deps.caches.get<Volume>(volumeKind);
  const grants = deps.caches.get(Builtin.RoleBinding, { labelSelector: "altostack.io/image" });
  const written = new WrittenObjects<Image>();

  images.addIndex(Index.serverRef, (i) =>
    i.spec.source.serverRef === undefined ? [] : [objectKey(i.metadata.namespace, i.spec.source.serverRef)],
  );
  images.addIndex(Index.volumeRef, (i) =>
    i.spec.source.volumeRef === undefined ? [] : [objectKey(i.metadata.namespace, i.spec.source.volumeRef)],
  );

  const reconcile = async (key: string, ctx: ReconcileContext<Image>): Promise<ReconcileOutcome> => {
    const cached = written.current(key, ctx.object);
    if (cached === undefined) return undefined; // its DataVolume, DataSource and grants go with it
    const namespace = cached.metadata.namespace ?? "";
    const volume = imageVolumeName(cached.metadata.name ?? "");
    const dv = dataVolumes.get(objectKey(namespace, volume));
    const deleting = cached.metadata.deletionTimestamp !== undefined;
    const protectedImage = cached.spec.protected === true;

    if (deleting && !protectedImage) {
      await removeFinalizer(client, imageKind, cached, Finalizer.image);
      return undefined;
    }
    const image = deleting ? cached : await ensureFinalizer(client, imageKind, cached, Finalizer.image);
    written.remember(cached, image);

    // A snapshot image copies its server's root disk, an image from a volume the volume's PVC.
    const { serverRef, volumeRef } = image.spec.source;
    const lookup =
      serverRef !== undefined
        ? serverRootDisk(serverRef, servers.get(objectKey(namespace, serverRef)))
        : volumeRef !== undefined
          ? volumeDisk(volumeRef, volumes.get(objectKey(namespace, volumeRef)))
          : undefined;
    const sourceDisk = lookup !== undefined && "disk" in lookup ? lookup.disk : undefined;
    const sourceProblem = lookup !== undefined && "problem" in lookup ? lookup.problem : undefined;
    const sourceGone = lookup !== undefined && "gone" in lookup && lookup.gone;

    const sizeGiB = volumeSizeGiB(image, settings.imageSizeGiB, sourceDisk);
    const children = desiredImageChildren({
      image,
      sizeGiB,
      storage: { accessModes: settings.diskAccessModes, storageClassName: settings.storageClassName },
      sourceDisk,
      imported: dv?.status?.phase === "Succeeded",
    });

    if (!deleting) {
      // The DataVolume is created once: its source is immutable, as the image's is.
      if (children.dataVolume !== undefined && dv === undefined) {
        if (children.snapshot !== undefined) await applyChild(client, Upstream.VolumeSnapshot, children.snapshot, image, ctx.fieldManager);
        ctx.log.info({ dataVolume: volume, source: sourceKind(image) }, "creating the image's DataVolume");
        await applyChild(client, Upstream.DataVolume, children.dataVolume, image, ctx.fieldManager);
      }
      await applyChild(client, Upstream.DataSource, children.dataSource, image, ctx.fieldManager);
      await reconcileCloneGrant(image, children, ctx);
      // The snapshot is only a way to the data: once the image is active it goes.
      const snapshotName = imageSnapshotName(image.metadata.name ?? "");
      if (children.snapshot === undefined && snapshots.get(objectKey(namespace, snapshotName)) !== undefined) {
        await client.delete(Upstream.VolumeSnapshot, snapshotName, namespace);
      }
    }

    const uploadRecord = image.spec.source.upload === undefined ? undefined : uploadRecordOf(image.metadata.annotations);
    const streamingMs = image.spec.source.upload === undefined ? 0 : uploadStreamingFor(image.metadata.annotations, now());
    const verdict = imageVerdict({
      source: sourceKind(image),
      uploadRecorded: uploadRecord !== undefined,
      uploadStreaming: streamingMs > 0,
      dataVolume:
        dv === undefined ? undefined : { phase: dv.status?.phase, progress: dv.status?.progress, failure: failureOf(dv.status?.conditions) },
      sourceProblem,
      sourceGone,
      deleting,
      protectedImage,
      previous: image.status?.status,
    });
    if (verdict.status === "killed" && image.status?.status !== "killed") deps.events.warning(image, "ImportFailed", verdict.ready.message);
    const active = verdict.status === "active";
    // The PVC an upload goes into, named only while CDI accepts it (the image API waits for it).
    const uploadClaim = image.spec.source.upload !== undefined && dv?.status?.phase === "UploadReady" ? (dv.status.claimName ?? volume) : undefined;
    const status: NonNullable<Image["status"]> = {
      ...image.status,
      ...(image.spec.source.upload !== undefined
        ? uploadedDataFields(uploadRecord, active, image.status ?? {})
        : // A copied disk's data is its whole raw volume (no checksum: the bytes are never read here).
          copiesDisk(image) && active
          ? { size: sizeGiB * GIB }
          : {}),
      uploadClaim,
      observedGeneration: image.metadata.generation,
      status: verdict.status,
      progress: dv?.status?.progress,
      virtualSize: active ? sizeGiB * GIB : image.status?.virtualSize,
      dataSource: { name: volume, namespace },
      dataVolume: children.dataVolume === undefined && dv === undefined ? undefined : volume,
      owner: projectOfNamespace(namespace),
      conditions: setCondition(
        image.status?.conditions,
        { type: ConditionType.Ready, ...verdict.ready, observedGeneration: image.metadata.generation },
        now(),
      ),
    };
    written.remember(image, await writeStatusIfChanged(client, imageKind, image, status, ctx.fieldManager));
    ctx.log.debug({ image: openstackName(image), status: verdict.status, key }, "image reconciled");
    // No watch fires when a streaming mark goes stale (an image API that died mid-upload): look again then,
    // so the image falls back to queued. A live upload renews the mark, and that write wakes us anyway.
    if (streamingMs > 0 && dv?.status?.phase === "UploadReady") return { requeueAfterMs: streamingMs + 1000 };
    return undefined;
  };

  /** The Role/RoleBinding that let other projects clone the image: there exactly when visibility allows it. */
  async function reconcileCloneGrant(image: Image, children: ReturnType<typeof desiredImageChildren>, ctx: ReconcileContext<Image>): Promise<void> {
    const namespace = image.metadata.namespace ?? "";
    const name = imageCloneRbacName(image.metadata.name ?? "");
    if (children.role !== undefined && children.roleBinding !== undefined) {
      await applyChild(client, Builtin.Role, children.role, image, ctx.fieldManager);
      await applyChild(client, Builtin.RoleBinding, children.roleBinding, image, ctx.fieldManager);
      return;
    }
    // Made private again: the grant must go.
    if (grants.get(objectKey(namespace, name)) === undefined) return;
    ctx.log.info({ grant: name }, "image no longer shared: removing its clone grant");
    await client.delete(Builtin.RoleBinding, name, namespace);
    await client.delete(Builtin.Role, name, namespace);
  }

  const byServer = (server: KubeObject): string[] => images.byIndex(Index.serverRef, keyOf(server)).map(keyOf);
  const byVolume = (volume: KubeObject): string[] => images.byIndex(Index.volumeRef, keyOf(volume)).map(keyOf);

  return new Controller<Image>({
    name: IMAGE_CONTROLLER,
    cache: images,
    watches: [
      watchOf(dataVolumes, ownerKeysFor(imageKind)),
      watchOf(dataSources, ownerKeysFor(imageKind)),
      watchOf(snapshots, ownerKeysFor(imageKind)),
      watchOf(servers, byServer),
      watchOf(volumes, byVolume),
      watchOf(grants, ownerKeysFor(imageKind)),
    ],
    reconcile,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
