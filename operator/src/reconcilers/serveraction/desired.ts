// Pure: the objects a ServerAction creates — the Image of a createImage (a snapshot of the server's root
// disk, with the properties Nova gives snapshots) and the VirtualMachineInstanceMigration of a migration.
import type { VirtualMachineInstanceMigration } from "../../generated/index.js";
import { API_VERSION, LABELS, MANAGED_BY, type Image, type Server, type ServerAction } from "../../api/index.js";
import type { KubeObject } from "../../kube/index.js";
import { labelValue, migrationName, snapshotImageName, vmNameOf } from "../server/names.js";

export type MigrationObject = VirtualMachineInstanceMigration & KubeObject;

export const ActionLabel = { action: "altostack.io/server-action" } as const;

/** Nova's snapshot: private, min_disk = the flavor's root disk, and the instance's image properties. */
export function desiredSnapshotImage(action: ServerAction, server: Server): Image {
  const namespace = action.metadata.namespace ?? "";
  const serverName = server.metadata.name ?? "";
  const base = server.status?.image;
  const flavor = server.status?.flavor;
  const properties: Record<string, string> = {
    ...(base?.properties ?? {}),
    ...(action.spec.imageMetadata ?? {}),
    image_type: "snapshot",
    instance_uuid: server.metadata.uid ?? "",
    ...(base === undefined ? {} : { base_image_ref: base.id }),
  };
  return {
    apiVersion: API_VERSION,
    kind: "Image",
    metadata: {
      name: snapshotImageName(serverName, action.metadata.uid ?? ""),
      namespace,
      labels: { [LABELS.managedBy]: MANAGED_BY, [ActionLabel.action]: labelValue(action.metadata.name ?? "") },
    },
    spec: {
      name: action.spec.imageName ?? `${serverName}-snapshot`,
      source: { serverRef: serverName },
      diskFormat: "raw",
      containerFormat: "bare",
      visibility: "private",
      ...(flavor === undefined || flavor.disk === 0 ? {} : { minDisk: flavor.disk }),
      properties,
    },
  };
}

/** A KubeVirt migration of the server's VMI; `host` pins the target node as Nova's live-migrate host does. */
export function desiredMigration(action: ServerAction): MigrationObject {
  const host = action.spec.host;
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name: migrationName(action.metadata.name ?? ""),
      namespace: action.metadata.namespace ?? "",
      labels: { [LABELS.managedBy]: MANAGED_BY, [ActionLabel.action]: labelValue(action.metadata.name ?? "") },
    },
    spec: {
      vmiName: vmNameOf(action.spec.serverRef),
      ...(host === undefined ? {} : { addedNodeSelector: { "kubernetes.io/hostname": host } }),
    },
  };
}
