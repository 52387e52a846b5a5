// The fake Nodes: names, zones, labels, capacity and the status a healthy kubelet (with virt-handler's
// device plugins) reports. Pure.
import type { SimulatorConfig } from "./config.js";
import { nodeInternalIp, nodePodCidr, stableId } from "./addresses.js";
import { Label, type Node } from "./types.js";
import { toConditions, type ConditionVerdict, type UpstreamCondition } from "./upstream-conditions.js";

export interface DesiredNode {
  name: string;
  index: number;
  zone: string;
  podCidr: string;
  internalIp: string;
}

export function desiredNodes(config: SimulatorConfig): DesiredNode[] {
  const { count, namePrefix, zones } = config.nodes;
  return Array.from({ length: count }, (_, index) => ({
    name: `${namePrefix}${index + 1}`,
    index,
    zone: zones[index % zones.length] ?? "nova",
    podCidr: nodePodCidr(config.podCidr, index),
    internalIp: nodeInternalIp(index),
  }));
}

export function nodeLabels(node: DesiredNode): Record<string, string> {
  return {
    [Label.simNode]: "true",
    [Label.hostname]: node.name,
    [Label.zone]: node.zone,
    [Label.os]: "linux",
    [Label.arch]: "amd64",
    [Label.kubevirtSchedulable]: "true",
  };
}

/** The Node as the kubelet registers it (spec.podCIDR is set once, here, as node IPAM would). */
export function nodeObject(node: DesiredNode): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: node.name, labels: nodeLabels(node) },
    spec: { podCIDR: node.podCidr, podCIDRs: [node.podCidr] },
  };
}

const READY_VERDICTS: readonly ConditionVerdict[] = [
  { type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory", message: "kubelet has sufficient memory available" },
  { type: "DiskPressure", status: "False", reason: "KubeletHasNoDiskPressure", message: "kubelet has no disk pressure" },
  { type: "PIDPressure", status: "False", reason: "KubeletHasSufficientPID", message: "kubelet has sufficient PID available" },
  { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" },
];

export const KUBELET_VERSION = "v1.36.3";

/** What the kubelet reports: capacity (KVM device included), conditions, addresses, node info. */
export function nodeStatus(node: DesiredNode, config: SimulatorConfig, previous: Node["status"], now: number): NonNullable<Node["status"]> {
  const capacity = {
    cpu: config.nodes.cpu,
    memory: config.nodes.memory,
    pods: config.nodes.pods,
    "ephemeral-storage": "200Gi",
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    "devices.kubevirt.io/kvm": "1k",
    "devices.kubevirt.io/tun": "1k",
    "devices.kubevirt.io/vhost-net": "1k",
  };
  const previousConditions = (previous?.conditions ?? []) as UpstreamCondition[];
  const conditions = toConditions(previousConditions, READY_VERDICTS, now, "heartbeat");
  const id = stableId(`node/${node.name}`);
  return {
    capacity,
    allocatable: capacity,
    conditions: conditions.map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      lastHeartbeatTime: c.lastHeartbeatTime ?? undefined,
      lastTransitionTime: c.lastTransitionTime ?? undefined,
    })),
    addresses: [
      { type: "InternalIP", address: node.internalIp },
      { type: "Hostname", address: node.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: id,
      systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
      bootID: stableId(`boot/${node.name}`),
      kernelVersion: "6.8.0-sim",
      osImage: "Altostack simulated node",
      containerRuntimeVersion: "sim://1.0.0",
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: "amd64",
    },
  };
}

/** Labels of ours the Node lacks or has with another value (zones may change between runs). */
export function labelsToFix(existing: Node, desired: DesiredNode): Record<string, string> | undefined {
  const want = nodeLabels(desired);
  const have = existing.metadata.labels ?? {};
  const changed = Object.entries(want).filter(([k, v]) => have[k] !== v);
  return changed.length === 0 ? undefined : Object.fromEntries(changed);
}
