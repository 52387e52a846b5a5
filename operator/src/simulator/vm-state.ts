// virt-controller's VirtualMachine logic, pure: what to do about the VMI for a run strategy, the VMI a
// VM stamps out, declarative hotplug of volumes into a running VMI, and the VM's status
// (printableStatus in KubeVirt's order of precedence, ready, created, conditions).
import type { Disk, Volume } from "../generated/index.js";
import { ownerReference } from "../kube/index.js";
import { Finalizer, type DV, type PersistentVolumeClaim, type VM, type VMI } from "./types.js";
import { hasCondition, toCondition, type UpstreamCondition } from "./upstream-conditions.js";

export const RunStrategy = {
  Always: "Always",
  RerunOnFailure: "RerunOnFailure",
  Halted: "Halted",
  Manual: "Manual",
  Once: "Once",
} as const;
export type RunStrategy = (typeof RunStrategy)[keyof typeof RunStrategy];

export const VmiPhase = {
  Pending: "Pending",
  Scheduling: "Scheduling",
  Scheduled: "Scheduled",
  Running: "Running",
  Succeeded: "Succeeded",
  Failed: "Failed",
} as const;
export type VmiPhase = (typeof VmiPhase)[keyof typeof VmiPhase];

export const PrintableStatus = {
  Stopped: "Stopped",
  Provisioning: "Provisioning",
  Starting: "Starting",
  Running: "Running",
  Paused: "Paused",
  Stopping: "Stopping",
  Terminating: "Terminating",
  Migrating: "Migrating",
  Unknown: "Unknown",
  ErrorUnschedulable: "ErrorUnschedulable",
  ErrorPvcNotFound: "ErrorPvcNotFound",
  DataVolumeError: "DataVolumeError",
  WaitingForVolumeBinding: "WaitingForVolumeBinding",
} as const;
export type PrintableStatus = (typeof PrintableStatus)[keyof typeof PrintableStatus];

/** `spec.runStrategy`, or the deprecated `spec.running` mapped the way KubeVirt maps it. */
export function runStrategyOf(vm: VM): string {
  const { runStrategy, running } = vm.spec;
  if (runStrategy !== undefined && runStrategy !== "") return runStrategy;
  return running === true ? RunStrategy.Always : RunStrategy.Halted;
}

export function isFinalPhase(phase: string | undefined): boolean {
  return phase === VmiPhase.Succeeded || phase === VmiPhase.Failed;
}

export function isHotplugVolume(volume: Volume): boolean {
  return volume.persistentVolumeClaim?.hotpluggable === true || volume.dataVolume?.hotpluggable === true;
}

/** The claim a volume mounts: a PVC by name, or the PVC of the same name a DataVolume creates. */
export function claimNameOf(volume: Volume): string | undefined {
  return volume.persistentVolumeClaim?.claimName ?? volume.dataVolume?.name;
}

export type VmAction =
  | { kind: "none" }
  | { kind: "createVmi" }
  | { kind: "deleteVmi" }
  /** Once: the single run is over, so virt-controller sets the run strategy to Halted. */
  | { kind: "halt" };

export interface RunDecisionInput {
  strategy: string;
  vmDeleting: boolean;
  vmi: { uid: string; phase: string | undefined; deleting: boolean } | undefined;
  /** First entry of status.stateChangeRequests (what virt-api's start/stop/restart write). */
  request: { action: string; uid?: string } | undefined;
  /** DataVolumes the VM boots from are populated (virt-controller waits for them before starting). */
  dataVolumesReady: boolean;
}

export interface RunDecision {
  action: VmAction;
  /** The state change request was acted on (or is moot) and can be removed from the status. */
  requestDone: boolean;
}

/** What virt-controller does about the VMI for this VM right now. One step; the watch brings us back. */
export function decideRun(input: RunDecisionInput): RunDecision {
  const { vmi, request } = input;
  const none: RunDecision = { action: { kind: "none" }, requestDone: false };
  const final = vmi !== undefined && isFinalPhase(vmi.phase);
  if (input.vmDeleting) {
    return vmi !== undefined && !vmi.deleting ? { action: { kind: "deleteVmi" }, requestDone: false } : none;
  }
  // A VMI on its way out has to be gone before anything new happens.
  if (vmi?.deleting === true) return none;

  if (request?.action === "Stop") {
    const matches = vmi !== undefined && (request.uid === undefined || request.uid === vmi.uid);
    return matches ? { action: { kind: "deleteVmi" }, requestDone: true } : { action: { kind: "none" }, requestDone: true };
  }
  if (request?.action === "Start") {
    if (vmi === undefined) {
      return input.dataVolumesReady ? { action: { kind: "createVmi" }, requestDone: true } : none;
    }
    if (final) return { action: { kind: "deleteVmi" }, requestDone: false };
    return { action: { kind: "none" }, requestDone: true };
  }

  const create: RunDecision = input.dataVolumesReady ? { action: { kind: "createVmi" }, requestDone: false } : none;
  switch (input.strategy) {
    case RunStrategy.Always:
      if (vmi === undefined) return create;
      return final ? { action: { kind: "deleteVmi" }, requestDone: false } : none;
    case RunStrategy.RerunOnFailure:
      if (vmi === undefined) return create;
      return vmi.phase === VmiPhase.Failed ? { action: { kind: "deleteVmi" }, requestDone: false } : none;
    case RunStrategy.Once:
      if (vmi === undefined) return create;
      return final ? { action: { kind: "halt" }, requestDone: false } : none;
    case RunStrategy.Halted:
      return vmi !== undefined ? { action: { kind: "deleteVmi" }, requestDone: false } : none;
    default:
      // Manual (and anything unknown): only state change requests start or stop it.
      return none;
  }
}

/** Whether virt-controller expects a VMI to be started (KubeVirt's isVMIStartExpected, simplified). */
export function startExpected(strategy: string, request: { action: string } | undefined): boolean {
  if (request?.action === "Start") return true;
  if (request?.action === "Stop") return false;
  return strategy === RunStrategy.Always || strategy === RunStrategy.RerunOnFailure || strategy === RunStrategy.Once;
}

export function stopExpected(strategy: string, request: { action: string } | undefined): boolean {
  return request?.action === "Stop" || strategy === RunStrategy.Halted;
}

/** The VMI virt-controller creates: named after the VM, owned by it, the template's metadata and spec. */
export function desiredVmi(vm: VM): VMI {
  const template = vm.spec.template;
  const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) };
  if (vm.metadata.generation !== undefined) annotations["kubevirt.io/vm-generation"] = String(vm.metadata.generation);
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: {
      name: vm.metadata.name ?? "",
      namespace: vm.metadata.namespace ?? "",
      labels: { ...(template.metadata?.labels ?? {}) },
      annotations,
      ownerReferences: [ownerReference(vm)],
      finalizers: [Finalizer.vmi],
    },
    spec: structuredClone(template.spec ?? { domain: { devices: {} } }),
  };
}

/** The DataVolume virt-controller creates for a dataVolumeTemplate: the template, owned by the VM. */
export function desiredDataVolume(vm: VM, template: NonNullable<VM["spec"]["dataVolumeTemplates"]>[number]): DV {
  return {
    apiVersion: "cdi.kubevirt.io/v1beta1",
    kind: "DataVolume",
    metadata: {
      name: template.metadata?.name ?? "",
      namespace: vm.metadata.namespace ?? "",
      ...(template.metadata?.labels === undefined ? {} : { labels: { ...template.metadata.labels } }),
      ...(template.metadata?.annotations === undefined ? {} : { annotations: { ...template.metadata.annotations } }),
      ownerReferences: [ownerReference(vm)],
    },
    // KubeVirt embeds an older copy of CDI's DataVolumeSpec; the fields it has mean the same in both.
    spec: structuredClone(template.spec) as DV["spec"],
  };
}

/** Names of the DataVolumes a VM needs populated before it starts (hotplugged ones do not block). */
export function bootDataVolumeNames(vm: VM): string[] {
  return (vm.spec.template.spec?.volumes ?? [])
    .filter((v) => !isHotplugVolume(v))
    .map((v) => v.dataVolume?.name)
    .filter((n): n is string => n !== undefined && n !== "");
}

export function dataVolumesReady(names: readonly string[], dataVolumes: ReadonlyMap<string, DV>): boolean {
  return names.every((name) => {
    const phase = dataVolumes.get(name)?.status?.phase;
    return phase === "Succeeded" || phase === "WaitForFirstConsumer";
  });
}

/**
 * Declarative hotplug: the VMI's spec with the VM template's hotpluggable volumes (and their disks)
 * in place of the VMI's current ones; undefined when they already agree.
 */
export function hotplugSync(
  templateSpec: VM["spec"]["template"]["spec"],
  vmiSpec: VMI["spec"],
): { volumes: Volume[]; disks: Disk[] } | undefined {
  const wanted = (templateSpec?.volumes ?? []).filter(isHotplugVolume);
  const current = (vmiSpec.volumes ?? []).filter(isHotplugVolume);
  const wantedDisks = new Map((templateSpec?.domain.devices.disks ?? []).map((d) => [d.name, d]));
  const currentDisks = vmiSpec.domain.devices.disks ?? [];
  const currentDiskByName = new Map(currentDisks.map((d) => [d.name, d]));
  const sameVolumes = JSON.stringify(wanted) === JSON.stringify(current);
  const sameDisks = wanted.every((v) => JSON.stringify(currentDiskByName.get(v.name)) === JSON.stringify(wantedDisks.get(v.name)));
  if (sameVolumes && sameDisks) return undefined;

  const currentNames = new Set(current.map((v) => v.name));
  const wantedNames = new Set(wanted.map((v) => v.name));
  const volumes = [...(vmiSpec.volumes ?? []).filter((v) => !isHotplugVolume(v)), ...wanted];
  const disks = currentDisks.filter((d) => !currentNames.has(d.name) && !wantedNames.has(d.name));
  for (const volume of wanted) {
    const disk = wantedDisks.get(volume.name);
    // A hotplugged volume needs a disk; KubeVirt's default for hotplug is a SCSI disk.
    disks.push(disk ?? { name: volume.name, disk: { bus: "scsi" } });
  }
  return { volumes, disks };
}

export interface PrintableStatusInput {
  vm: VM;
  vmi: VMI | undefined;
  /** The DataVolumes named by the VM's volumes, by name (absent ones left out). */
  dataVolumes: ReadonlyMap<string, DV>;
  /** The PVCs named by the VM's volumes, by name (absent ones left out). */
  claims: ReadonlyMap<string, PersistentVolumeClaim>;
}

function isMigrating(vmi: VMI): boolean {
  const state = vmi.status?.migrationState;
  return state !== undefined && state !== null && state.startTimestamp !== undefined && state.endTimestamp === undefined;
}

function dataVolumeFailed(dv: DV): boolean {
  return dv.status?.phase === "Failed" || hasCondition(dv.status?.conditions, "Running", "False", "Error");
}

/** KubeVirt's setPrintableStatus: the first matching status in its precedence order wins. */
export function printableStatus(input: PrintableStatusInput): PrintableStatus {
  const { vm, vmi } = input;
  const strategy = runStrategyOf(vm);
  const request = vm.status?.stateChangeRequests?.[0];
  const volumes = vm.spec.template.spec?.volumes ?? [];
  const vmiConditions = vmi?.status?.conditions;
  const phase = vmi?.status?.phase;
  const running = phase === VmiPhase.Running;
  const paused = hasCondition(vmiConditions, "Paused", "True");
  const final = isFinalPhase(phase);
  const dataVolumes = volumes
    .map((v) => (v.dataVolume?.name === undefined ? undefined : input.dataVolumes.get(v.dataVolume.name)))
    .filter((dv): dv is DV => dv !== undefined);
  const setToStart = vmi !== undefined || startExpected(strategy, request);

  if (vm.metadata.deletionTimestamp !== undefined) return PrintableStatus.Terminating;
  if (vmi !== undefined && !final && (vmi.metadata.deletionTimestamp !== undefined || stopExpected(strategy, request))) {
    return PrintableStatus.Stopping;
  }
  if (vmi !== undefined && isMigrating(vmi)) return PrintableStatus.Migrating;
  if (running && paused) return PrintableStatus.Paused;
  if (running) return PrintableStatus.Running;
  if (hasCondition(vmiConditions, "Synchronized", "False", "FailedPvcNotFound")) return PrintableStatus.ErrorPvcNotFound;
  if (dataVolumes.some(dataVolumeFailed)) return PrintableStatus.DataVolumeError;
  if (hasCondition(vmiConditions, "PodScheduled", "False", "Unschedulable")) return PrintableStatus.ErrorUnschedulable;
  if (dataVolumes.some((dv) => hasCondition(dv.status?.conditions, "Bound", "True") && dv.status?.phase !== "Succeeded")) {
    return PrintableStatus.Provisioning;
  }
  if (setToStart) {
    for (const volume of volumes) {
      const name = claimNameOf(volume);
      const claim = name === undefined ? undefined : input.claims.get(name);
      if (claim !== undefined && claim.status?.phase !== "Bound") return PrintableStatus.WaitingForVolumeBinding;
    }
  }
  if (vmi === undefined ? startExpected(strategy, request) : !final && phase !== VmiPhase.Running) {
    return PrintableStatus.Starting;
  }
  if (vmi !== undefined ? final : !startExpected(strategy, request)) return PrintableStatus.Stopped;
  return PrintableStatus.Unknown;
}

type VmStatus = NonNullable<VM["status"]>;

/**
 * The VM's status: printableStatus, created/ready, the Ready condition (VMINotExists when there is no
 * VMI), and every other VMI condition copied as virt-controller syncs them.
 */
export function vmStatus(input: PrintableStatusInput, now: number): VmStatus {
  const { vm, vmi } = input;
  const previous = (vm.status?.conditions ?? []) as UpstreamCondition[];
  const vmiConditions = (vmi?.status?.conditions ?? []) as UpstreamCondition[];
  const vmiReady = vmiConditions.find((c) => c.type === "Ready");
  let ready: UpstreamCondition;
  if (vmi === undefined) {
    ready = toCondition(previous, { type: "Ready", status: "False", reason: "VMINotExists", message: "VMI does not exist" }, now, "probe");
  } else if (vmiReady === undefined) {
    ready = toCondition(
      previous,
      { type: "Ready", status: "False", reason: "VMIConditionMissing", message: "VMI is missing the Ready condition" },
      now,
      "probe",
    );
  } else {
    ready = { ...vmiReady };
  }
  const copied = vmiConditions.filter((c) => c.type !== "Ready" && c.type !== "Failure").map((c) => ({ ...c }));
  const isReady = vmi !== undefined && !isFinalPhase(vmi.status?.phase) && vmiReady?.status === "True";
  return {
    printableStatus: printableStatus(input),
    created: vmi !== undefined,
    ready: isReady,
    conditions: [ready, ...copied].map((c) => ({
      type: c.type,
      status: c.status,
      ...(c.reason === undefined ? {} : { reason: c.reason }),
      ...(c.message === undefined ? {} : { message: c.message }),
      lastProbeTime: c.lastProbeTime ?? null,
      lastTransitionTime: c.lastTransitionTime ?? null,
    })),
  };
}
