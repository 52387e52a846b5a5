// Pure: reading KubeVirt's and CDI's objects — what a VMI, VM and DataVolume say about a server.
import type { DataVolume, VirtualMachine, VirtualMachineInstance } from "../../generated/index.js";
import type { FlavorSnapshot } from "../../api/index.js";
import type { KubeObject } from "../../kube/index.js";
import { failureOf } from "../image/status.js";
import type { DiskObservation } from "./operations.js";
import type { VmiObservation } from "./status.js";
import { flavorDomain } from "./vm.js";

export type VmiObject = VirtualMachineInstance & KubeObject;
export type VmObject = VirtualMachine & KubeObject;
export type DataVolumeObject = DataVolume & KubeObject;

type Conditions = readonly { type?: string; status?: string; reason?: string; message?: string }[] | null | undefined;

function condition(conditions: Conditions, type: string): { status?: string; reason?: string; message?: string } | undefined {
  return conditions?.find((c) => c.type === type);
}

export function observeVmi(vmi: VmiObject | undefined): VmiObservation | undefined {
  if (vmi === undefined) return undefined;
  const migration = vmi.status?.migrationState;
  return {
    phase: vmi.status?.phase,
    paused: condition(vmi.status?.conditions, "Paused")?.status === "True",
    deleting: vmi.metadata.deletionTimestamp !== undefined,
    nodeName: vmi.status?.nodeName,
    migrating:
      migration !== undefined &&
      migration !== null &&
      migration.startTimestamp !== undefined &&
      migration.endTimestamp === undefined &&
      migration.completed !== true,
  };
}

/** The scheduler's complaint about the VMI, if it cannot be placed. */
export function unschedulableMessage(vmi: VmiObject | undefined): string | undefined {
  const scheduled = condition(vmi?.status?.conditions, "PodScheduled");
  return scheduled?.status === "False" && scheduled.reason === "Unschedulable" ? (scheduled.message ?? "") : undefined;
}

const QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;
const FACTORS: Record<string, number> = {
  "": 1,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
};

/** A memory quantity in bytes ("1024Mi" and "1Gi" are the same; KubeVirt writes canonical forms). */
export function quantityBytes(value: unknown): number | undefined {
  const match = QUANTITY.exec(String(value));
  if (match === null) return undefined;
  return Number(match[1]) * (FACTORS[match[2] ?? ""] ?? 1);
}

/** Whether the VMI was started with this flavor's CPUs and memory. */
export function vmiRunsFlavor(vmi: VmiObject, flavor: FlavorSnapshot): boolean {
  const want = flavorDomain(flavor);
  const cpu = vmi.spec.domain.cpu;
  const memory = vmi.spec.domain.memory?.guest ?? vmi.spec.domain.resources?.requests?.memory;
  return (
    cpu?.sockets === want.cpu?.sockets &&
    cpu?.cores === want.cpu?.cores &&
    cpu?.threads === want.cpu?.threads &&
    quantityBytes(memory) === quantityBytes(want.memory?.guest)
  );
}

export function vmiUsesDisk(vmi: VmiObject, claimName: string): boolean {
  return (vmi.spec.volumes ?? []).some(
    (v) => v.dataVolume?.name === claimName || v.persistentVolumeClaim?.claimName === claimName,
  );
}

/** A VMI that runs (or is starting) and is not on its way out. */
export function isLiveVmi(vmi: VmiObject | undefined): vmi is VmiObject {
  const phase = vmi?.status?.phase;
  return vmi !== undefined && vmi.metadata.deletionTimestamp === undefined && phase !== "Succeeded" && phase !== "Failed";
}

export function observeDisk(dv: DataVolumeObject | undefined, vmi: VmiObject | undefined, name: string): DiskObservation {
  return {
    phase: dv?.status?.phase,
    failure: failureOf(dv?.status?.conditions ?? undefined),
    inUse: vmi !== undefined && vmi.status?.phase === "Running" && vmi.metadata.deletionTimestamp === undefined && vmiUsesDisk(vmi, name),
  };
}

/**
 * A volume-backed root disk: the boot volume was available when the server was admitted, and it cannot be
 * deleted while the server declares it, so it is as ready as a finished DataVolume.
 */
export function observeVolumeDisk(vmi: VmiObject | undefined, claimName: string): DiskObservation {
  return { ...observeDisk(undefined, vmi, claimName), phase: "Succeeded" };
}

/** virt-api's pending start/stop requests: while any is there, a restart is already on its way. */
export function hasPendingStateChange(vm: VmObject | undefined): boolean {
  return (vm?.status?.stateChangeRequests ?? []).length > 0;
}
