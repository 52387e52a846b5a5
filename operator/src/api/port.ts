// Port: a Neutron port — a MAC and fixed IPs on a network, bound to a server or container.
import { z } from "zod";
import { NEUTRON_STATUSES, networkRef } from "./network.js";
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

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

export const portSpec = z.object({
  name: displayName(),
  description: description(),
  networkRef: immutable(networkRef(), "networkRef"),
  fixedIPs: z
    .array(
      cel(
        z.object({
          subnetRef: objectRef().optional(),
          ipAddress: z.string().max(64).optional(),
        }),
        [
          { rule: "has(self.subnetRef) || has(self.ipAddress)", message: "a fixed IP names a subnetRef or an ipAddress" },
          { rule: "!has(self.ipAddress) || isIP(self.ipAddress)", message: "ipAddress must be an IP address" },
        ],
      ),
    )
    .max(16)
    .optional(),
  macAddress: immutable(
    z.string().regex(MAC).meta({ description: "Lower-case MAC; generated with OpenStack's fa:16:3e prefix when unset." }),
    "macAddress",
  ).optional(),
  securityGroupRefs: z.array(objectRef()).max(32).optional().meta({ "x-kubernetes-list-type": "set" }),
  portSecurityEnabled: z.boolean().optional(),
  allowedAddressPairs: z
    .array(z.object({ ipAddress: z.string().max(64), macAddress: z.string().regex(MAC).optional() }))
    .max(32)
    .optional(),
  adminStateUp: z.boolean().optional().meta({ description: "Default true." }),
  tags: tags().optional(),
});

export const portStatus = z.object({
  ...statusBase,
  status: z.enum(NEUTRON_STATUSES).optional(),
  macAddress: z.string().optional(),
  fixedIPs: z
    .array(z.object({ subnet: z.string(), subnetId: z.string().optional(), ipAddress: z.string() }))
    .optional()
    .meta({ description: "Allocated addresses; subnet is the subnet's name, subnetId its OpenStack id." }),
  networkId: z.string().optional().meta({ description: "OpenStack id of the port's network." }),
  deviceOwner: z.string().optional().meta({ description: "compute:<az> for servers, container for containers." }),
  deviceId: z.string().optional().meta({ description: "Id of the bound server or container." }),
});

export const portKind = defineKind({
  kind: "Port",
  plural: "ports",
  singular: "port",
  shortNames: ["osport"],
  scope: "Namespaced",
  description: "A Neutron port: a MAC address and fixed IPs on a network.",
  spec: portSpec,
  status: portStatus,
  printerColumns: [
    { name: "Network", type: "string", jsonPath: ".spec.networkRef" },
    { name: "MAC", type: "string", jsonPath: ".status.macAddress" },
    { name: "Fixed IPs", type: "string", jsonPath: ".status.fixedIPs[*].ipAddress" },
    { name: "Status", type: "string", jsonPath: ".status.status" },
    { name: "Device", type: "string", jsonPath: ".status.deviceId", priority: 1 },
    idColumn,
    ageColumn,
    { ...readyColumn, priority: 1 },
  ],
});

export type Port = KindObject<typeof portKind>;
