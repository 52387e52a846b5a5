// Pure: what a Network's status says, from what the reconciler found. Messages say what is wrong and what
// to do; reasons are Neutron's error types where Neutron has one.
import { Reason, projectOfNamespace, type Network } from "../../api/index.js";
import type { SlotFailure } from "../ipam/arbiter.js";
import type { Segment } from "./desired.js";

export interface Verdict {
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

/** At most `max` names, then "and N more": condition messages stay short and stable. */
export function listNames(names: readonly string[], max = 5): string {
  const sorted = [...names].sort();
  const shown = sorted.slice(0, max).join(", ");
  return sorted.length > max ? `${shown} and ${sorted.length - max} more` : shown;
}

export function segmentFailureVerdict(outcome: SlotFailure, physnet: string): Verdict {
  if (outcome.why === "exhausted") {
    return {
      status: "False",
      reason: Reason.NoNetworkAvailable,
      message: `no tenant VLAN is free on physical network ${physnet}; delete unused networks or ask an admin to widen the VLAN ranges`,
    };
  }
  const flat = outcome.value === "flat";
  const holder = `${outcome.heldBy.namespace ?? ""}/${outcome.heldBy.name}`;
  return {
    status: "False",
    reason: flat ? Reason.FlatNetworkInUse : Reason.VlanIdInUse,
    message: flat
      ? `physical network ${physnet} already carries flat network ${holder}; only one flat network fits on a physical network`
      : `VLAN ${outcome.value.replace(/^vlan:/, "")} on ${physnet} is already used by network ${holder}; pick another providerSegmentationId`,
  };
}

export function readyVerdict(segment: Segment, attachments: readonly string[]): Verdict {
  const where = segment.vlan === undefined ? `flat on ${segment.physnet}` : `VLAN ${segment.vlan} on ${segment.physnet}`;
  return {
    status: "True",
    reason: Reason.Reconciled,
    message: `${where} (bridge ${segment.bridge}, MTU ${segment.mtu}), attached in ${attachments.length} namespace(s)`,
  };
}

/**
 * A network set to `shared: false` while other projects still have ports on it (Neutron refuses this with
 * InvalidSharedSetting). Not Ready: the spec asks for a private network and it is not one yet; the data
 * plane is unaffected. `namespaces`: the other projects' namespaces still attached.
 */
export function sharingInUseVerdict(namespaces: readonly string[]): Verdict {
  const users = namespaces.map((ns) => {
    const project = projectOfNamespace(ns);
    return project === undefined ? `namespace ${ns}` : `${project} (namespace ${ns})`;
  });
  return {
    status: "False",
    reason: Reason.SharingInUse,
    message:
      `unable to reconfigure sharing settings: other projects are using the network: ${listNames(users)}; ` +
      "their existing ports keep working and new ports of other projects are refused. " +
      "Delete their ports (or the servers and containers using them), or set shared: true again",
  };
}

/** `ownPorts`: names of the network's ports in its own project; ports of other projects are only counted. */
export function inUseVerdict(ownPorts: readonly string[], otherProjects: number): Verdict {
  const parts = [
    ...(ownPorts.length === 0 ? [] : [listNames(ownPorts)]),
    ...(otherProjects === 0 ? [] : [`${otherProjects} of other projects`]),
  ];
  return {
    status: "False",
    reason: Reason.NetworkInUse,
    message:
      `network still has ${ownPorts.length + otherProjects} port(s): ${parts.join("; ")}; delete them (or the ` +
      "servers and containers using them) and the network goes",
  };
}

/** Neutron's network status: DOWN when administratively down or not realised, else ACTIVE. */
export function neutronStatus(network: Network, ready: boolean): "ACTIVE" | "DOWN" {
  return ready && network.spec.adminStateUp !== false ? "ACTIVE" : "DOWN";
}
