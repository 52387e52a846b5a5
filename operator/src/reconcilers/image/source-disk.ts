// Pure: the PVC an image is copied from, found from its server (createImage: the root disk) or its volume
// (upload-to-image), or why it cannot be copied (yet).
import type { Server, Volume } from "../../api/index.js";
import { rootDiskSizeGiB } from "../server/vm.js";
import type { DiskSource } from "./desired.js";

export type SourceDiskLookup = { disk: DiskSource } | { problem: string; gone: boolean };

/** Volume states whose data can be copied: Cinder's upload-to-image takes available (and in-use with force). */
const COPYABLE_VOLUME_STATES: readonly string[] = ["available", "in-use", "reserved", "attaching", "detaching"];

export function serverRootDisk(name: string, server: Server | undefined): SourceDiskLookup {
  if (server === undefined) return { problem: `server ${name} does not exist`, gone: true };
  const rootDisk = server.status?.rootDisk;
  if (rootDisk === undefined || server.status?.flavor === undefined || server.status.image === undefined) {
    return { problem: `server ${name} has no root disk yet`, gone: false };
  }
  return { disk: { claimName: rootDisk, sizeGiB: rootDiskSizeGiB(server.status.flavor, server.status.image) } };
}

export function volumeDisk(name: string, volume: Volume | undefined): SourceDiskLookup {
  if (volume === undefined || volume.metadata.deletionTimestamp !== undefined) return { problem: `volume ${name} does not exist`, gone: true };
  const status = volume.status?.status;
  const claim = volume.status?.claimName;
  if (claim === undefined || status === undefined || !COPYABLE_VOLUME_STATES.includes(status)) {
    return { problem: `volume ${name} is ${status ?? "not ready"}: its data is copied once it is available`, gone: false };
  }
  return { disk: { claimName: claim, sizeGiB: volume.status?.size ?? volume.spec.size } };
}
