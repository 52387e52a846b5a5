// A VMI's life as virt-controller and virt-handler report it, pure: the phase steps (Pending →
// Scheduling → Scheduled → Running, and Succeeded after a stop), the guest's interfaces as a guest
// agent reports them, volume status (hotplugged volumes Ready), conditions, and the migration state
// projected from the VirtualMachineInstanceMigration driving it.
import type { Volume } from "../generated/index.js";
import { formatTime } from "../kube/index.js";
import { generatedMac } from "./addresses.js";
import type { Delays } from "./config.js";
import type { ScheduleResult } from "./scheduling.js";
import { afterDelay, type Step } from "./timeline.js";
import type { Migration, PersistentVolumeClaim, VMI } from "./types.js";
import { toConditions, type ConditionVerdict, type UpstreamCondition } from "./upstream-conditions.js";
import { claimNameOf, isFinalPhase, isHotplugVolume, VmiPhase } from "./vm-state.js";

export type VmiStatus = NonNullable<VMI["status"]>;
type Interface = NonNullable<VmiStatus["interfaces"]>[number];
type VolumeStatus = NonNullable<VmiStatus["volumeStatus"]>[number];
type MigrationState = NonNullable<VmiStatus["migrationState"]>;

/** Pseudo-phase for the timeline: when the guest was asked to stop. */
export const STOPPING = "Stopping";

export interface VmiStepInput {
  phase: string | undefined;
  deleting: boolean;
  enteredAt: number;
  now: number;
  delays: Delays;
  /** PVCs that the VMI's (non-hotplug) volumes name and that do not exist. */
  missingClaims: readonly string[];
  /** PVCs that exist but are not Bound yet (the launcher pod would wait for them). */
  unboundClaims: readonly string[];
  /** Where the scheduler would put the launcher pod now (only consulted while Scheduling). */
  schedule: () => ScheduleResult;
}

export type VmiStep = Step<VmiPhase> & { nodeName?: string; unschedulable?: string };

/** The next phase step, one at a time, each after its delay. */
export function nextVmiPhase(input: VmiStepInput): VmiStep {
  const { phase, now, enteredAt, delays } = input;
  if (isFinalPhase(phase)) return { kind: "stay" };
  // The guest shuts down when asked, whatever phase it got to.
  if (input.deleting) return afterDelay(VmiPhase.Succeeded, enteredAt, delays.vmStop, now);
  switch (phase) {
    case undefined:
    case "":
      return { kind: "advance", to: VmiPhase.Pending };
    case VmiPhase.Pending:
      if (input.missingClaims.length > 0) return { kind: "stay" };
      return afterDelay(VmiPhase.Scheduling, enteredAt, delays.vmiPhase, now);
    case VmiPhase.Scheduling: {
      if (input.unboundClaims.length > 0) return { kind: "stay" };
      const step = afterDelay(VmiPhase.Scheduled, enteredAt, delays.vmiPhase, now);
      if (step.kind !== "advance") return step;
      const result = input.schedule();
      if (result.node === undefined) return { kind: "stay", unschedulable: result.message };
      return { ...step, nodeName: result.node.metadata.name ?? "" };
    }
    case VmiPhase.Scheduled:
      return afterDelay(VmiPhase.Running, enteredAt, delays.vmiPhase, now);
    default:
      return { kind: "stay" };
  }
}

/** The claims a VMI's volumes need, split into missing and not-yet-bound (hotplugged ones do not block). */
export function claimReadiness(
  volumes: readonly Volume[] | null | undefined,
  claims: ReadonlyMap<string, PersistentVolumeClaim>,
): { missing: string[]; unbound: string[] } {
  const missing: string[] = [];
  const unbound: string[] = [];
  for (const volume of volumes ?? []) {
    if (isHotplugVolume(volume)) continue;
    const name = claimNameOf(volume);
    if (name === undefined) continue;
    const claim = claims.get(name);
    if (claim === undefined) missing.push(name);
    else if (claim.status?.phase !== "Bound") unbound.push(name);
  }
  return { missing, unbound };
}

export interface InterfaceInput {
  vmi: VMI;
  /** The launcher pod's IP, reported on the pod-network interface. */
  podIp: string | undefined;
  /** Static addresses from the config drive's network_data.json, by lower-case MAC. */
  guestAddresses: ReadonlyMap<string, readonly string[]>;
}

/** status.interfaces as virt-handler merges domain, guest agent and Multus information. */
export function vmiInterfaces(input: InterfaceInput): Interface[] {
  const { vmi } = input;
  const spec = vmi.spec;
  const networks = new Map((spec.networks ?? []).map((n) => [n.name, n]));
  const previous = new Map((vmi.status?.interfaces ?? []).map((i) => [i.name, i]));
  const result: Interface[] = [];
  let guestIndex = 0;
  for (const iface of spec.domain.devices.interfaces ?? []) {
    if (iface.state === "absent") continue;
    const network = networks.get(iface.name);
    const mac = (iface.macAddress ?? previous.get(iface.name)?.mac ?? generatedMac(`${vmi.metadata.uid ?? ""}/${iface.name}`)).toLowerCase();
    const onPodNetwork = network?.pod !== undefined && network.pod !== null;
    const addresses = onPodNetwork
      ? input.podIp === undefined
        ? []
        : [input.podIp]
      : [...(input.guestAddresses.get(mac) ?? [])];
    const entry: Interface = {
      name: iface.name,
      mac,
      interfaceName: `eth${guestIndex}`,
      infoSource: onPodNetwork ? "domain, guest-agent" : "domain, guest-agent, multus-status",
      linkState: iface.state === "down" ? "down" : "up",
      queueCount: 1,
    };
    if (onPodNetwork) entry.podInterfaceName = "eth0";
    if (addresses.length > 0) {
      entry.ipAddress = addresses[0];
      entry.ipAddresses = addresses;
    }
    result.push(entry);
    guestIndex++;
  }
  return result;
}

/** Guest device names as libvirt assigns them: vda, vdb… for virtio, sda, sdb… for SCSI/SATA/USB. */
export function diskTargets(disks: VMI["spec"]["domain"]["devices"]["disks"]): Map<string, string> {
  const counters = new Map<string, number>();
  const targets = new Map<string, string>();
  for (const disk of disks ?? []) {
    const bus = disk.disk?.bus ?? disk.cdrom?.bus ?? disk.lun?.bus ?? (disk.cdrom !== undefined ? "sata" : "virtio");
    const prefix = bus === "virtio" ? "vd" : "sd";
    const n = counters.get(prefix) ?? 0;
    counters.set(prefix, n + 1);
    targets.set(disk.name, prefix + deviceSuffix(n));
  }
  return targets;
}

function deviceSuffix(n: number): string {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  return n < 26 ? (letters[n] ?? "a") : (letters[Math.floor(n / 26) - 1] ?? "a") + (letters[n % 26] ?? "a");
}

function claimInfo(claimName: string, claim: PersistentVolumeClaim | undefined): VolumeStatus["persistentVolumeClaimInfo"] {
  const info: NonNullable<VolumeStatus["persistentVolumeClaimInfo"]> = { claimName };
  if (claim === undefined) return info;
  const modes = claim.spec?.accessModes;
  if (modes !== undefined) info.accessModes = modes as NonNullable<typeof info.accessModes>;
  if (claim.status?.capacity !== undefined) info.capacity = { ...claim.status.capacity };
  const requests = claim.spec?.resources?.requests;
  if (requests !== undefined) info.requests = { ...requests };
  const mode = claim.spec?.volumeMode;
  if (mode === "Block" || mode === "Filesystem") info.volumeMode = mode;
  info.filesystemOverhead = "0.055";
  return info;
}

/** status.volumeStatus: every volume with its guest target; hotplugged ones Ready once their PVC is Bound. */
export function vmiVolumeStatus(vmi: VMI, claims: ReadonlyMap<string, PersistentVolumeClaim>): VolumeStatus[] {
  const targets = diskTargets(vmi.spec.domain.devices.disks);
  return (vmi.spec.volumes ?? []).map((volume) => {
    const status: VolumeStatus = { name: volume.name, target: targets.get(volume.name) ?? "" };
    const claimName = claimNameOf(volume);
    const claim = claimName === undefined ? undefined : claims.get(claimName);
    if (claimName !== undefined) status.persistentVolumeClaimInfo = claimInfo(claimName, claim);
    if (isHotplugVolume(volume)) {
      const bound = claim?.status?.phase === "Bound";
      status.hotplugVolume = { attachPodName: `hp-volume-${vmi.metadata.name ?? ""}`, attachPodUID: vmi.metadata.uid ?? "" };
      status.phase = bound ? "Ready" : "Pending";
      status.reason = bound ? "VolumeReady" : "PVCNotReady";
      status.message = bound
        ? `Successfully attach hotplugged volume ${volume.name} to VM`
        : `PVC ${claimName ?? volume.name} is not bound yet`;
    }
    return status;
  });
}

/** LiveMigratable as virt-controller judges it: every PVC must be shared (ReadWriteMany). */
export function liveMigratable(vmi: VMI, claims: ReadonlyMap<string, PersistentVolumeClaim>): ConditionVerdict {
  for (const volume of vmi.spec.volumes ?? []) {
    const name = claimNameOf(volume);
    if (name === undefined) continue;
    const modes = claims.get(name)?.spec?.accessModes ?? [];
    if (!modes.includes("ReadWriteMany")) {
      return {
        type: "LiveMigratable",
        status: "False",
        reason: "DisksNotLiveMigratable",
        message: `cannot migrate VMI: PVC ${name} is not shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)`,
      };
    }
  }
  return { type: "LiveMigratable", status: "True" };
}

/** The conditions for a phase. Scheduling problems surface as PodScheduled, missing PVCs as Synchronized. */
export function vmiConditionVerdicts(opts: {
  phase: string;
  deleting: boolean;
  missingClaims: readonly string[];
  namespace: string;
  unschedulable: string | undefined;
  liveMigratable: ConditionVerdict;
  /** The guest is paused through virt-api (see subresources-state.ts). */
  paused?: boolean;
}): ConditionVerdict[] {
  const { phase } = opts;
  const verdicts: ConditionVerdict[] = [];
  if (phase === VmiPhase.Running && !opts.deleting) {
    verdicts.push({ type: "Ready", status: "True" }, opts.liveMigratable, { type: "AgentConnected", status: "True" });
    if (opts.paused === true) {
      verdicts.push({ type: "Paused", status: "True", reason: "PausedByUser", message: "VMI was paused by user" });
    }
    return verdicts;
  }
  if (isFinalPhase(phase)) {
    verdicts.push({ type: "Ready", status: "False", reason: "PodTerminating", message: "virt-launcher pod is terminating" });
    return verdicts;
  }
  if (opts.deleting) {
    verdicts.push({ type: "Ready", status: "False", reason: "PodTerminating", message: "virt-launcher pod is terminating" });
    return verdicts;
  }
  if (phase === VmiPhase.Scheduled) {
    verdicts.push({ type: "Ready", status: "False", reason: "GuestNotRunning", message: "Guest VM is not reported as running" });
    return verdicts;
  }
  verdicts.push({ type: "Ready", status: "False", reason: "PodNotExists", message: "virt-launcher pod has not yet been scheduled" });
  if (opts.unschedulable !== undefined) {
    verdicts.push({ type: "PodScheduled", status: "False", reason: "Unschedulable", message: opts.unschedulable });
  }
  if (opts.missingClaims.length > 0) {
    const name = opts.missingClaims[0] ?? "";
    verdicts.push({
      type: "Synchronized",
      status: "False",
      reason: "FailedPvcNotFound",
      message: `PVC ${opts.namespace}/${name} does not exist, waiting for it to appear`,
    });
  }
  return verdicts;
}

export function vmiConditions(vmi: VMI, verdicts: readonly ConditionVerdict[], now: number): VmiStatus["conditions"] {
  const previous = (vmi.status?.conditions ?? []) as UpstreamCondition[];
  return toConditions(previous, verdicts, now, "probe").map((c) => ({
    type: c.type,
    status: c.status,
    ...(c.reason === undefined ? {} : { reason: c.reason }),
    ...(c.message === undefined ? {} : { message: c.message }),
    lastProbeTime: c.lastProbeTime ?? null,
    lastTransitionTime: c.lastTransitionTime ?? null,
  }));
}

/** phaseTransitionTimestamps with `phase` appended when it is new. */
export function withPhaseTimestamp(
  previous: readonly { phase?: string; phaseTransitionTimestamp?: string }[] | null | undefined,
  phase: string,
  now: number,
): { phase: string; phaseTransitionTimestamp: string }[] {
  const list = (previous ?? []).map((t) => ({ phase: t.phase ?? "", phaseTransitionTimestamp: t.phaseTransitionTimestamp ?? "" }));
  if (list.at(-1)?.phase === phase) return list;
  return [...list, { phase, phaseTransitionTimestamp: formatTime(now) }];
}

/** The migration of this VMI that counts: the newest one (by creation time, then name). */
export function currentMigration(migrations: readonly Migration[]): Migration | undefined {
  return [...migrations].sort((a, b) => {
    const byTime = (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "");
    return byTime !== 0 ? byTime : (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
  }).at(-1);
}

/**
 * What the VMI reports about a migration: its migrationState once the migration runs, and the target
 * as its node once it succeeded. Without a running or finished migration the VMI keeps what it had.
 */
export function migrationProjection(
  vmi: VMI,
  migration: Migration | undefined,
): { nodeName: string | undefined; migrationState: MigrationState | undefined } {
  const nodeName = vmi.status?.nodeName;
  const kept = { nodeName, migrationState: vmi.status?.migrationState ?? undefined };
  const state = migration?.status?.migrationState;
  const phase = migration?.status?.phase;
  if (migration === undefined || state === undefined || state === null || state.startTimestamp === undefined) return kept;
  if (phase !== "Running" && phase !== "Succeeded" && phase !== "Failed") return kept;
  const projected: MigrationState = { ...state };
  const succeeded = phase === "Succeeded" && state.targetNode !== undefined;
  return { nodeName: succeeded ? state.targetNode : nodeName, migrationState: projected };
}
