// Network: a Neutron network, realised as OVS-CNI NetworkAttachmentDefinitions in every namespace that uses it.
// Also the attachment entry Servers and Containers use to join networks (one schema for both).
import { z } from "zod";
import {
  ageColumn,
  cel,
  defineKind,
  description,
  displayName,
  idColumn,
  immutable,
  objectRef,
  readyColumn,
  statusBase,
  tags,
  type KindObject,
} from "./meta.js";

export const NETWORK_TYPES = ["flat", "vlan"] as const;

const DNS1123_LABEL_PART = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

/** A network of this project by name, or `project/name` for another project's shared network. */
export const networkRef = () =>
  z
    .string()
    .min(1)
    .max(317)
    .regex(new RegExp(`^(${DNS1123_LABEL_PART}/)?${DNS1123_LABEL_PART}(\\.${DNS1123_LABEL_PART})*$`))
    .meta({ description: "Network name in this project, or project/name for another project's shared network." });
export const NEUTRON_STATUSES = ["ACTIVE", "DOWN", "BUILD", "ERROR"] as const;

export const networkSpec = cel(
  z.object({
    name: displayName(),
    description: description(),
    adminStateUp: z.boolean().optional().meta({ description: "Default true." }),
    shared: z.boolean().optional().meta({ description: "Usable from every project. Default false." }),
    external: z.boolean().optional().meta({ description: "router:external. Default false." }),
    mtu: z.int().min(68).max(9216).optional(),
    portSecurityEnabled: z.boolean().optional().meta({ description: "Default true." }),
    providerNetworkType: immutable(z.enum(NETWORK_TYPES), "providerNetworkType")
      .optional()
      .meta({ description: "Admin only; a tenant VLAN is allocated when unset." }),
    providerPhysicalNetwork: immutable(z.string().min(1).max(63), "providerPhysicalNetwork")
      .optional()
      .meta({ description: "A physical network of the operator's configuration." }),
    providerSegmentationId: immutable(z.int().min(1).max(4094), "providerSegmentationId")
      .optional()
      .meta({ description: "VLAN id." }),
    tags: tags().optional(),
  }),
  [
    {
      rule: "!has(self.providerSegmentationId) || (has(self.providerNetworkType) && self.providerNetworkType == 'vlan')",
      message: "providerSegmentationId requires providerNetworkType vlan",
      fieldPath: ".providerSegmentationId",
    },
    {
      rule: "!has(self.providerNetworkType) || self.providerNetworkType != 'flat' || !has(self.providerSegmentationId)",
      message: "a flat network has no providerSegmentationId",
    },
  ],
);

export const networkStatus = z.object({
  ...statusBase,
  status: z.enum(NEUTRON_STATUSES).optional(),
  networkType: z.string().optional(),
  physicalNetwork: z.string().optional(),
  segmentationId: z.int().optional(),
  bridge: z.string().optional().meta({ description: "OVS bridge the network's traffic uses." }),
  mtu: z.int().optional(),
  subnets: z.array(z.string()).optional().meta({ description: "Names of the network's subnets." }),
  attachments: z
    .array(z.string())
    .optional()
    .meta({ description: "NetworkAttachmentDefinitions (namespace/name) that realise the network." }),
});

export const networkKind = defineKind({
  kind: "Network",
  plural: "networks",
  singular: "network",
  shortNames: ["osnet", "net"],
  scope: "Namespaced",
  description: "A Neutron network: a tenant L2 segment (OVS bridge + VLAN) realised through Multus.",
  spec: networkSpec,
  status: networkStatus,
  specOptional: true,
  printerColumns: [
    { name: "Status", type: "string", jsonPath: ".status.status" },
    { name: "Type", type: "string", jsonPath: ".status.networkType" },
    { name: "Segment", type: "integer", jsonPath: ".status.segmentationId" },
    { name: "Shared", type: "boolean", jsonPath: ".spec.shared" },
    { name: "Subnets", type: "string", jsonPath: ".status.subnets" },
    idColumn,
    ageColumn,
    { ...readyColumn, priority: 1 },
  ],
});

export type Network = KindObject<typeof networkKind>;

/** How a Server or Container joins a network: an existing port, or a network (a port is created for it). */
export const instanceNetwork = cel(
  z.object({
    portRef: objectRef().optional(),
    networkRef: networkRef().optional(),
    fixedIP: z.string().max(64).optional().meta({ description: "Requested address on networkRef." }),
  }),
  [
    { rule: "has(self.portRef) != has(self.networkRef)", message: "set exactly one of portRef or networkRef" },
    {
      rule: "!has(self.fixedIP) || (has(self.networkRef) && (isIP(self.fixedIP)))",
      message: "fixedIP must be an IP address and goes with networkRef",
      fieldPath: ".fixedIP",
    },
  ],
);
export type InstanceNetwork = z.output<typeof instanceNetwork>;

export const instanceNetworks = () => z.array(instanceNetwork).max(16);

/** Addresses as Nova shows them: network name → addresses. */
export const instanceAddresses = () =>
  z.record(
    z.string(),
    z.array(
      z.object({
        addr: z.string(),
        version: z.int(),
        type: z.enum(["fixed", "floating"]),
        macAddr: z.string().optional(),
      }),
    ),
  );
