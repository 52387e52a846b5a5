// virt-api's imperative subresources (subresources.kubevirt.io/v1), pure: which request it is, whether the
// VM/VMI's state allows it (virt-api's 404/409 answers and messages), and what it changes. The guest's
// domain state the real virt-handler keeps in libvirt is kept on the VMI as sim.altostack.io annotations,
// which the VMI controller turns into conditions (Paused) like virt-handler does.
import type { MigrateOptions, PauseOptions, RestartOptions, StartOptions, StopOptions, UnpauseOptions } from "../generated/index.js";
import { Annotation, type VM, type VMI } from "./types.js";
import { RunStrategy, isFinalPhase, runStrategyOf } from "./vm-state.js";

export const SUBRESOURCE_GROUP = "subresources.kubevirt.io";
export const SUBRESOURCE_VERSION = "v1";

export const VMI_OPERATIONS = ["pause", "unpause", "softreboot", "reset"] as const;
export const VM_OPERATIONS = ["start", "stop", "restart", "migrate"] as const;
export type VmiOperation = (typeof VMI_OPERATIONS)[number];
export type VmOperation = (typeof VM_OPERATIONS)[number];

export type SubresourceRequest =
  | { kind: "vmi"; namespace: string; name: string; operation: VmiOperation }
  | { kind: "vm"; namespace: string; name: string; operation: VmOperation }
  | { kind: "discovery" }
  | { kind: "group" };

/** Parses `/apis/subresources.kubevirt.io/v1/namespaces/{ns}/virtualmachine(instance)s/{name}/{op}`. */
export function parseSubresourcePath(method: string, path: string): SubresourceRequest | undefined {
  const clean = path.split("?")[0]?.replace(/\/+$/, "") ?? "";
  const base = `/apis/${SUBRESOURCE_GROUP}`;
  if (method === "GET" && clean === base) return { kind: "group" };
  if (method === "GET" && clean === `${base}/${SUBRESOURCE_VERSION}`) return { kind: "discovery" };
  const match = new RegExp(`^${base}/${SUBRESOURCE_VERSION}/namespaces/([^/]+)/(virtualmachineinstances|virtualmachines)/([^/]+)/([a-z]+)$`).exec(
    clean,
  );
  if (match === null || method !== "PUT") return undefined;
  const [, namespace = "", resource, name = "", operation = ""] = match;
  const decode = decodeURIComponent;
  if (resource === "virtualmachineinstances" && (VMI_OPERATIONS as readonly string[]).includes(operation)) {
    return { kind: "vmi", namespace: decode(namespace), name: decode(name), operation: operation as VmiOperation };
  }
  if (resource === "virtualmachines" && (VM_OPERATIONS as readonly string[]).includes(operation)) {
    return { kind: "vm", namespace: decode(namespace), name: decode(name), operation: operation as VmOperation };
  }
  return undefined;
}

/** Request bodies, typed from KubeVirt's API (soft reboot and reset take none). */
export interface OperationBodies {
  pause: PauseOptions;
  unpause: UnpauseOptions;
  softreboot: undefined;
  reset: undefined;
  start: StartOptions;
  stop: StopOptions;
  restart: RestartOptions;
  migrate: MigrateOptions;
}

export type Refusal = { code: 404 | 409; reason: "NotFound" | "Conflict"; message: string };

/** What a VMI operation changes: annotations to set (null removes). */
export type VmiEffect = { annotations: Record<string, string | null> };

export function isPaused(vmi: VMI): boolean {
  return vmi.metadata.annotations?.[Annotation.simPaused] === "true";
}

function counter(vmi: VMI, annotation: string): string {
  return String(Number(vmi.metadata.annotations?.[annotation] ?? "0") + 1);
}

/** virt-api's checks and the resulting domain change for pause, unpause, soft reboot and reset. */
export function vmiOperationEffect(op: VmiOperation, vmi: VMI | undefined, name: string): VmiEffect | Refusal {
  if (vmi === undefined) return { code: 404, reason: "NotFound", message: `virtualmachineinstance.kubevirt.io "${name}" not found` };
  const running = vmi.status?.phase === "Running" && vmi.metadata.deletionTimestamp === undefined;
  if (!running) return { code: 409, reason: "Conflict", message: `VMI ${name} is not running` };
  switch (op) {
    case "pause":
      if (isPaused(vmi)) return { code: 409, reason: "Conflict", message: `VMI ${name} is already paused` };
      return { annotations: { [Annotation.simPaused]: "true" } };
    case "unpause":
      if (!isPaused(vmi)) return { code: 409, reason: "Conflict", message: `VMI ${name} is not paused` };
      return { annotations: { [Annotation.simPaused]: null } };
    case "softreboot":
      if (isPaused(vmi)) return { code: 409, reason: "Conflict", message: `VMI ${name} is paused` };
      // The guest reboots inside the same VMI; the counter is the simulator's record that it did.
      return { annotations: { [Annotation.simSoftReboots]: counter(vmi, Annotation.simSoftReboots) } };
    case "reset":
      return { annotations: { [Annotation.simResets]: counter(vmi, Annotation.simResets), [Annotation.simPaused]: null } };
  }
}

type StateChangeRequest = NonNullable<NonNullable<VM["status"]>["stateChangeRequests"]>[number];

export type VmEffect =
  | { kind: "runStrategy"; runStrategy: string }
  | { kind: "stateChange"; requests: StateChangeRequest[] }
  | { kind: "migrate"; vmiName: string };

/** virt-api's start/stop/restart/migrate of a VM: a run strategy change or state change requests virt-controller acts on. */
export function vmOperationEffect(op: VmOperation, vm: VM | undefined, vmi: VMI | undefined, name: string): VmEffect | Refusal {
  if (vm === undefined) return { code: 404, reason: "NotFound", message: `virtualmachine.kubevirt.io "${name}" not found` };
  const pending = vm.status?.stateChangeRequests ?? [];
  const strategy = runStrategyOf(vm);
  const vmiLive = vmi !== undefined && vmi.metadata.deletionTimestamp === undefined && !isFinalPhase(vmi.status?.phase);
  if (pending.length > 0) {
    return { code: 409, reason: "Conflict", message: `VM ${name} has a pending state change request; try again once it is done` };
  }
  switch (op) {
    case "start":
      if (vmiLive) return { code: 409, reason: "Conflict", message: `VM ${name} is already running` };
      if (strategy === RunStrategy.Manual) return { kind: "stateChange", requests: [{ action: "Start" }] };
      return { kind: "runStrategy", runStrategy: RunStrategy.Always };
    case "stop":
      if (!vmiLive && strategy === RunStrategy.Halted) return { code: 409, reason: "Conflict", message: `VM ${name} is not running` };
      if (strategy === RunStrategy.Manual) {
        return { kind: "stateChange", requests: [{ action: "Stop", ...(vmi?.metadata.uid === undefined ? {} : { uid: vmi.metadata.uid }) }] };
      }
      return { kind: "runStrategy", runStrategy: RunStrategy.Halted };
    case "restart":
      if (!vmiLive) return { code: 409, reason: "Conflict", message: `VM ${name} is not running` };
      return { kind: "stateChange", requests: [{ action: "Stop", uid: vmi.metadata.uid ?? "" }, { action: "Start" }] };
    case "migrate":
      if (!vmiLive || vmi.status?.phase !== "Running") return { code: 409, reason: "Conflict", message: `VM ${name} is not running` };
      return { kind: "migrate", vmiName: vmi.metadata.name ?? name };
  }
}

// ---- consoles (websocket upgrades) ----

export const CONSOLES = ["console", "vnc"] as const;
export type ConsoleKind = (typeof CONSOLES)[number];

/** virt-api's console banner for VNC: the first bytes an RFB server sends (RFC 6143 §7.1.1). */
export const RFB_BANNER = "RFB 003.008\n";

/** Parses `GET /apis/subresources.kubevirt.io/v1/namespaces/{ns}/virtualmachineinstances/{name}/console|vnc`. */
export function parseConsolePath(method: string, path: string): { namespace: string; name: string; console: ConsoleKind } | undefined {
  const clean = path.split("?")[0]?.replace(/\/+$/, "") ?? "";
  const match = new RegExp(`^/apis/${SUBRESOURCE_GROUP}/${SUBRESOURCE_VERSION}/namespaces/([^/]+)/virtualmachineinstances/([^/]+)/(console|vnc)$`).exec(clean);
  if (match === null || method !== "GET") return undefined;
  const [, namespace = "", name = "", console = ""] = match;
  return { namespace: decodeURIComponent(namespace), name: decodeURIComponent(name), console: console as ConsoleKind };
}

/** virt-api refuses a console of a VMI that does not exist (404) or is not running (409). */
export function consoleRefusal(vmi: VMI | undefined, name: string): Refusal | undefined {
  if (vmi === undefined) return { code: 404, reason: "NotFound", message: `virtualmachineinstance.kubevirt.io "${name}" not found` };
  const running = vmi.status?.phase === "Running" && vmi.metadata.deletionTimestamp === undefined;
  if (!running) return { code: 409, reason: "Conflict", message: `Operation cannot be fulfilled on virtualmachineinstance.kubevirt.io "${name}": VMI is not running` };
  return undefined;
}

/** The resources this group serves, as discovery lists them. */
export function apiResourceList(): Record<string, unknown> {
  const resource = (parent: string, op: string) => ({
    name: `${parent}/${op}`,
    singularName: "",
    namespaced: true,
    kind: "",
    verbs: ["update"],
  });
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${SUBRESOURCE_GROUP}/${SUBRESOURCE_VERSION}`,
    resources: [
      { name: "virtualmachineinstances", singularName: "", namespaced: true, kind: "VirtualMachineInstance", verbs: [] },
      { name: "virtualmachines", singularName: "", namespaced: true, kind: "VirtualMachine", verbs: [] },
      ...VMI_OPERATIONS.map((op) => resource("virtualmachineinstances", op)),
      ...VM_OPERATIONS.map((op) => resource("virtualmachines", op)),
      ...CONSOLES.map((c) => ({ ...resource("virtualmachineinstances", c), verbs: ["get"] })),
    ],
  };
}

export function apiGroup(): Record<string, unknown> {
  const version = { groupVersion: `${SUBRESOURCE_GROUP}/${SUBRESOURCE_VERSION}`, version: SUBRESOURCE_VERSION };
  return { kind: "APIGroup", apiVersion: "v1", name: SUBRESOURCE_GROUP, versions: [version], preferredVersion: version };
}

/** A Kubernetes Status error body. */
export function statusBody(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}
