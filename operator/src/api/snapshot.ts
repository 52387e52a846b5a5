// Snapshot: a Cinder volume snapshot, realised as a CSI VolumeSnapshot.
import { z } from "zod";
import {
  ageColumn,
  defineKind,
  description,
  displayName,
  idColumn,
  immutable,
  objectRef,
  readyColumn,
  statusBase,
  stringMap,
  type KindObject,
} from "./meta.js";

export const SNAPSHOT_STATUSES = ["creating", "available", "error", "deleting", "error_deleting"] as const;

export const snapshotSpec = z.object({
  name: displayName(),
  description: description(),
  volumeRef: immutable(objectRef(), "volumeRef"),
  force: z.boolean().optional().meta({ description: "Snapshot an in-use volume (as Cinder's --force)." }),
  metadata: stringMap().optional(),
});

export const snapshotStatus = z.object({
  ...statusBase,
  status: z.enum(SNAPSHOT_STATUSES).optional(),
  size: z.int().optional().meta({ description: "GiB of the source volume." }),
  volumeSnapshotName: z.string().optional(),
});

export const snapshotKind = defineKind({
  kind: "Snapshot",
  plural: "snapshots",
  singular: "snapshot",
  shortNames: ["snap", "ossnapshot"],
  scope: "Namespaced",
  description: "A Cinder volume snapshot, realised as a CSI VolumeSnapshot.",
  spec: snapshotSpec,
  status: snapshotStatus,
  printerColumns: [
    { name: "Volume", type: "string", jsonPath: ".spec.volumeRef" },
    { name: "Status", type: "string", jsonPath: ".status.status" },
    { name: "Size", type: "integer", jsonPath: ".status.size" },
    idColumn,
    ageColumn,
    { ...readyColumn, priority: 1 },
  ],
});

export type Snapshot = KindObject<typeof snapshotKind>;
