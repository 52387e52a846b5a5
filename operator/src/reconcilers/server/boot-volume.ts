// Pure: booting from a volume (Nova's volume-backed servers). The root disk is a Cinder volume's claim —
// one the user names (`bootVolume.volumeRef`) or one the server makes from an image
// (`bootVolume.imageRef`) — instead of a DataVolume the VM clones for itself. Nova's checks and messages
// for the volume, the Volume a server creates, and the image metadata the VM is shaped by.
import {
  LABELS,
  MANAGED_BY,
  Reason,
  projectOfNamespace,
  serverKind,
  volumeKind,
  type FlavorSnapshot,
  type ImageSnapshot,
  type Server,
  type Volume,
} from "../../api/index.js";
import { bootVolumeOf, singleAttachHolder, volumeBusyMessage, type VolumeClaimant } from "../volume/attach.js";
import { labelValue } from "./names.js";
import type { Resolution } from "./resolve.js";
import { ServerLabel } from "./vm.js";

/** On a Volume a server created for its root disk: the server's uid (so a same-named volume of anyone else is never taken). */
export const BootVolumeAnnotation = { server: "altostack.io/boot-volume-of" } as const;

/**
 * The Volume a server makes from `bootVolume.imageRef`. Nova sizes it by `volume_size`; without one, the
 * flavor's disk or the image's minimum, whichever is bigger. Owned by the server only when it goes with it
 * (deleteOnTermination); otherwise it is left behind, as Nova leaves it.
 */
export function desiredBootVolume(server: Server, name: string, image: ImageSnapshot, flavor: FlavorSnapshot): Volume {
  const boot = server.spec.bootVolume;
  const namespace = server.metadata.namespace ?? "";
  const size = boot?.size ?? Math.max(flavor.disk, image.minDisk ?? 0, image.sizeGiB ?? 0, 1);
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [ServerLabel.server]: labelValue(server.metadata.name ?? ""),
  };
  const project = projectOfNamespace(namespace);
  if (project !== undefined) labels[LABELS.project] = labelValue(project);
  const owned = boot?.deleteOnTermination === true;
  return {
    apiVersion: volumeKind.apiVersion,
    kind: volumeKind.kind,
    metadata: {
      name,
      namespace,
      labels,
      annotations: { [BootVolumeAnnotation.server]: server.metadata.uid ?? "" },
      ...(owned
        ? {
            ownerReferences: [
              { apiVersion: serverKind.apiVersion, kind: serverKind.kind, name: server.metadata.name ?? "", uid: server.metadata.uid ?? "", blockOwnerDeletion: false },
            ],
          }
        : {}),
    },
    spec: {
      size,
      source: { imageRef: image.ref },
      bootable: true,
      ...(boot?.volumeType === undefined ? {} : { volumeType: boot.volumeType }),
    },
  };
}

/** Statuses a volume shows once this server declares it (no other server holding it). */
const OURS_WHILE_DECLARED: ReadonlySet<string> = new Set(["reserved", "attaching", "in-use"]);

export interface BootVolumeInput {
  server: Server;
  /** The boot volume's name (bootVolumeOf). */
  name: string;
  volume: Volume | undefined;
  /**
   * Every server (this one included) and container that declares the volume: one of them holds it when it
   * is not multiattach (singleAttachHolder, the rule attachments follow too).
   */
  claimants: readonly VolumeClaimant[];
}

/** The boot volume's claim once it can be booted from; Nova's faults when it cannot; waiting while it is made. */
export function checkBootVolume(input: BootVolumeInput): Resolution<{ claimName: string }> {
  const { server, name, volume } = input;
  const fromImage = server.spec.bootVolume?.imageRef !== undefined;
  const fault = (message: string, reason: string = Reason.InvalidSpec) => ({ kind: "fault" as const, fault: { code: 400, reason, message } });
  if (volume === undefined || volume.metadata.deletionTimestamp !== undefined) {
    if (fromImage) return { kind: "waiting", message: `creating the boot volume ${name}` };
    return fault(`Block Device Mapping is Invalid: failed to get volume ${name}.`, Reason.DependencyNotFound);
  }
  if (fromImage && volume.metadata.annotations?.[BootVolumeAnnotation.server] !== server.metadata.uid) {
    return fault(
      `Volume ${name} already exists and was not created for this server; delete it, or boot from it with bootVolume.volumeRef.`,
    );
  }
  const status = volume.status?.status;
  if (status === undefined || status === "creating" || status === "downloading") {
    return { kind: "waiting", message: `waiting for the boot volume ${name} to become available (${status ?? "creating"})` };
  }
  if (status === "error") {
    const why = volume.status?.conditions?.find((c) => c.type === "Ready")?.message;
    return fault(`Invalid volume: volume '${name}' is in error${why === undefined ? "" : `: ${why}`}`, Reason.DependencyNotReady);
  }
  const holder = volume.spec.multiattach === true ? undefined : singleAttachHolder(volume, input.claimants);
  if (holder !== undefined && holder.uid !== server.metadata.uid) return fault(volumeBusyMessage(name, holder));
  // Reserved, attaching or attached for this very server (it declares the volume; the admission may repeat): fine.
  const attachedElsewhere = (volume.status?.attachments ?? []).some((a) => a.serverId !== server.metadata.uid);
  if (status !== "available" && !(OURS_WHILE_DECLARED.has(status) && !attachedElsewhere)) {
    return fault(`Invalid volume: volume '${name}' status must be 'available'. Currently in '${status}'`);
  }
  if (volume.status?.bootable !== "true") return fault(`Block Device ${name} is not bootable.`);
  const claimName = volume.status?.claimName;
  if (claimName === undefined) return { kind: "waiting", message: `waiting for the boot volume ${name}'s claim` };
  return { kind: "ok", value: { claimName } };
}

/**
 * What a volume-backed server keeps as its image: Nova's image_ref is "" for it, and the VM is shaped by
 * the volume's image metadata (Cinder's volume_image_metadata) — here the properties of the image the
 * volume was made from, if it is known.
 */
export function bootVolumeImage(namespace: string, sourceImage: ImageSnapshot | undefined): ImageSnapshot {
  return {
    ref: "",
    id: "",
    name: "",
    namespace,
    dataSource: "",
    ...(sourceImage?.properties === undefined ? {} : { properties: sourceImage.properties }),
  };
}

/** A volume named like the server's image-made boot volume that the server did not make (so never its to delete). */
export function isForeignBootVolume(server: Server, name: string, volume: Volume | undefined): boolean {
  const madeHere = server.spec.bootVolume?.imageRef !== undefined && name === bootVolumeOf(server);
  return madeHere && volume !== undefined && volume.metadata.annotations?.[BootVolumeAnnotation.server] !== server.metadata.uid;
}
