// Pure: which server or container a port is bound to, and the port's status. A port auto-created for an
// instance is bound to its owner; an explicit port to the oldest instance that names it in spec.networks
// (Neutron refuses a second binding: the others get PortInUse when they resolve their networking).
import { Reason, type Container, type Port, type Server } from "../../api/index.js";
import type { SlotFailure } from "../ipam/arbiter.js";
import type { Verdict } from "../network/status.js";
import { byAge } from "../network/sources.js";

export type Instance = { kind: "Server"; object: Server } | { kind: "Container"; object: Container };

export interface Binding {
  deviceId: string;
  deviceOwner: string;
  instance: Instance;
}

/** Neutron's device_owner: `compute:<availability zone>` for servers, `container` for containers. */
export function deviceOwner(instance: Instance): string {
  return instance.kind === "Server" ? `compute:${instance.object.spec.availabilityZone ?? "nova"}` : "container";
}

/** `owner`: the instance holding the port's controller ownerReference, if any; `referrers`: those naming it. */
export function portBinding(owner: Instance | undefined, referrers: readonly Instance[]): Binding | undefined {
  const instance = owner ?? [...referrers].sort((a, b) => byAge(a.object, b.object))[0];
  if (instance === undefined) return undefined;
  return { deviceId: instance.object.metadata.uid ?? "", deviceOwner: deviceOwner(instance), instance };
}

/** Who else holds a value, in words a tenant may see: another project's objects are not named. */
export function describeHolder(heldBy: { kind: string; namespace?: string | undefined; name: string }, namespace: string | undefined): string {
  return heldBy.namespace === namespace ? `${heldBy.kind.toLowerCase()} ${heldBy.name}` : `a ${heldBy.kind.toLowerCase()} of another project`;
}

export function allocationFailureVerdict(
  outcome: SlotFailure,
  slotDescription: string,
  namespace: string | undefined,
): Verdict {
  if (outcome.why === "exhausted" && slotDescription === "mac") {
    return {
      status: "False",
      reason: Reason.MacAddressInUse,
      message: "every generated MAC address tried is in use (very unlikely); set macAddress, or delete and re-create the port",
    };
  }
  if (outcome.why === "exhausted") {
    return {
      status: "False",
      reason: Reason.IpAddressGenerationFailure,
      message: `no more IP addresses available on ${slotDescription}; free some, widen the allocation pools, or add a subnet`,
    };
  }
  const holder = describeHolder(outcome.heldBy, namespace);
  if (slotDescription === "mac") {
    return {
      status: "False",
      reason: Reason.MacAddressInUse,
      message: `MAC address ${outcome.value} is already in use by ${holder}; pick another macAddress or leave it unset`,
    };
  }
  return {
    status: "False",
    reason: Reason.IpAddressAlreadyAllocated,
    message: `IP address ${outcome.value} on ${slotDescription} is already allocated to ${holder}; pick another address`,
  };
}

/** Neutron's port status: ACTIVE when usable and bound, DOWN otherwise (unbound, admin down, or not ready). */
export function portNeutronStatus(port: Port, ready: boolean, binding: Binding | undefined): "ACTIVE" | "DOWN" {
  return ready && binding !== undefined && port.spec.adminStateUp !== false ? "ACTIVE" : "DOWN";
}

export function readyPortVerdict(mac: string, addresses: readonly string[], binding: Binding | undefined): Verdict {
  const bound = binding === undefined ? "not bound" : `bound to ${binding.instance.kind.toLowerCase()} ${binding.instance.object.metadata.name ?? ""}`;
  const ips = addresses.length === 0 ? "no addresses" : addresses.join(", ");
  return { status: "True", reason: Reason.Reconciled, message: `${mac}, ${ips}; ${bound}` };
}
