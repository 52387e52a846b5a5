// Pure: a server's references (flavor, image, keypair) resolved against what the caches hold, with Nova's
// checks and Nova's messages. A reference either resolves, fails with a fault (Nova would have refused
// the request), or is worth waiting for (an image still importing).
import {
  Reason,
  openstackName,
  projectOfNamespace,
  type Flavor,
  type FlavorSnapshot,
  type Image,
  type ImageSnapshot,
  type Keypair,
} from "../../api/index.js";
import { domainProperties } from "../image/properties.js";
import { imageUsableFrom, resolveImageRef } from "../image/visibility.js";
import type { Fault } from "./status.js";

export type ResolvedFault = Fault & { reason: string };

export type Resolution<T> =
  | { kind: "ok"; value: T }
  | { kind: "fault"; fault: ResolvedFault }
  | { kind: "waiting"; message: string };

const GIB = 1024 ** 3;

const fault = (code: number, reason: string, message: string): { kind: "fault"; fault: ResolvedFault } => ({
  kind: "fault",
  fault: { code, reason, message },
});

export function flavorSnapshotOf(flavor: Flavor): FlavorSnapshot {
  const { vcpus, ram, disk, ephemeral, swap, extraSpecs } = flavor.spec;
  return {
    name: flavor.metadata.name ?? "",
    vcpus,
    ram,
    disk,
    ...(ephemeral === undefined || ephemeral === 0 ? {} : { ephemeral }),
    ...(swap === undefined || swap === 0 ? {} : { swap }),
    ...(extraSpecs === undefined || Object.keys(extraSpecs).length === 0 ? {} : { extraSpecs: { ...extraSpecs } }),
  };
}

/** A flavor the project may use: public, or private with the project on its access list (Nova's flavor access). */
export function resolveFlavor(flavorRef: string, namespace: string, flavor: Flavor | undefined): Resolution<FlavorSnapshot> {
  const project = projectOfNamespace(namespace);
  const usable =
    flavor !== undefined &&
    flavor.metadata.deletionTimestamp === undefined &&
    (flavor.spec.isPublic !== false || (project !== undefined && (flavor.spec.projects ?? []).includes(project)));
  if (!usable) return fault(400, Reason.DependencyNotFound, `Flavor ${flavorRef} could not be found.`);
  return { kind: "ok", value: flavorSnapshotOf(flavor) };
}

export function imageSnapshotOf(ref: string, image: Image): ImageSnapshot | undefined {
  const dataSource = image.status?.dataSource;
  if (dataSource === undefined) return undefined;
  const properties = domainProperties(image.spec.properties);
  const virtualSize = image.status?.virtualSize;
  return {
    ref,
    id: image.metadata.uid ?? "",
    name: openstackName(image),
    namespace: dataSource.namespace,
    dataSource: dataSource.name,
    diskFormat: image.spec.diskFormat ?? "qcow2",
    ...(image.spec.minDisk === undefined || image.spec.minDisk === 0 ? {} : { minDisk: image.spec.minDisk }),
    ...(virtualSize === undefined ? {} : { sizeGiB: Math.ceil(virtualSize / GIB) }),
    ...(Object.keys(properties).length === 0 ? {} : { properties }),
  };
}

/**
 * An image a server in `namespace` may boot from. Images of other projects that are private (or gone) are
 * "not found", as Nova says, so their existence does not leak across projects.
 */
export function resolveImage(ref: string, namespace: string, lookup: (namespace: string, name: string) => Image | undefined): Resolution<ImageSnapshot> {
  const target = resolveImageRef(ref, namespace);
  const image = lookup(target.namespace, target.name);
  if (image === undefined || image.metadata.deletionTimestamp !== undefined || !imageUsableFrom(image, namespace)) {
    return fault(400, Reason.DependencyNotFound, `Image ${ref} could not be found, or is not visible to this project.`);
  }
  const status = image.status?.status;
  if (status === "killed") {
    const why = image.status?.conditions?.find((c) => c.type === "Ready")?.message;
    return fault(400, Reason.DependencyNotReady, `Image ${ref} is not active (killed)${why === undefined ? "" : `: ${why}`}`);
  }
  if (status === "deactivated") return fault(400, Reason.DependencyNotReady, `Image ${ref} is not active (deactivated).`);
  const snapshot = status === "active" ? imageSnapshotOf(ref, image) : undefined;
  if (snapshot === undefined) {
    const progress = image.status?.progress;
    const detail = progress !== undefined && progress !== "" && progress !== "N/A" ? ` ${progress}` : "";
    return { kind: "waiting", message: `waiting for image ${ref} to become active (${status ?? "queued"}${detail})` };
  }
  return { kind: "ok", value: snapshot };
}

/** Nova's key_name check: the keypair exists and its key is valid. */
export function resolveKeypair(keypairRef: string, keypair: Keypair | undefined): Resolution<string> {
  if (keypair === undefined || keypair.metadata.deletionTimestamp !== undefined) {
    return fault(400, Reason.DependencyNotFound, `Invalid key_name provided: keypair ${keypairRef} could not be found.`);
  }
  if (keypair.status?.fingerprint === undefined) {
    const ready = keypair.status?.conditions?.find((c) => c.type === "Ready");
    if (ready?.status === "False") {
      return fault(400, Reason.InvalidSpec, `Invalid key_name provided: keypair ${keypairRef}: ${ready.message}`);
    }
    return { kind: "waiting", message: `waiting for keypair ${keypairRef} to be checked` };
  }
  return { kind: "ok", value: keypair.spec.publicKey };
}

/** Nova's flavor-vs-image checks (FlavorDiskSmallerThanImage, FlavorDiskSmallerThanMinDisk, FlavorMemoryTooSmall). */
export function flavorFitsImage(flavor: FlavorSnapshot, image: ImageSnapshot, minRam: number | undefined): ResolvedFault | undefined {
  if (minRam !== undefined && flavor.ram < minRam) {
    return { code: 400, reason: Reason.InvalidSpec, message: `Flavor's memory is too small for requested image (flavor ${flavor.name}: ${flavor.ram} MiB, image needs ${minRam} MiB).` };
  }
  if (flavor.disk === 0) {
    if (image.diskFormat === "iso") {
      return { code: 400, reason: Reason.InvalidSpec, message: `Flavor ${flavor.name} has no root disk (disk 0); booting an ISO image needs a blank root disk of the flavor's size.` };
    }
    return undefined;
  }
  const flavorBytes = flavor.disk * GIB;
  if (image.minDisk !== undefined && flavor.disk < image.minDisk) {
    return {
      code: 400,
      reason: Reason.InvalidSpec,
      message: `Flavor's disk is too small for requested image. Flavor disk is ${flavorBytes} bytes, minimum disk is ${image.minDisk * GIB} bytes.`,
    };
  }
  if (image.diskFormat !== "iso" && image.sizeGiB !== undefined && flavor.disk < image.sizeGiB) {
    return {
      code: 400,
      reason: Reason.InvalidSpec,
      message: `Flavor's disk is too small for requested image. Flavor disk is ${flavorBytes} bytes, image is ${image.sizeGiB * GIB} bytes.`,
    };
  }
  return undefined;
}

/**
 * Nova refuses a resize that would shrink the root disk ("Unable to resize disk down."), except for a
 * volume-backed server: its root disk is the boot volume, which the flavor does not size.
 */
export function resizeFault(from: FlavorSnapshot, to: FlavorSnapshot, opts: { volumeBacked?: boolean } = {}): ResolvedFault | undefined {
  if (from.name === to.name) {
    return { code: 400, reason: Reason.InvalidSpec, message: "When resizing, instances must change flavor!" };
  }
  if (opts.volumeBacked !== true && to.disk !== 0 && to.disk < from.disk) {
    return {
      code: 400,
      reason: Reason.InvalidSpec,
      message: `Resize error: Unable to resize disk down (flavor ${to.name} has ${to.disk} GiB, the server has ${from.disk} GiB).`,
    };
  }
  return undefined;
}
