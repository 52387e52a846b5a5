// Subnet: a Neutron subnet on a Network; its addresses are allocated by the operator's IPAM.
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

export const IPV6_MODES = ["slaac", "dhcpv6-stateful", "dhcpv6-stateless"] as const;

const ipAddress = () => cel(z.string().max(64), [{ rule: "isIP(self)", message: "must be an IP address" }]);

export const subnetSpec = cel(
  z.object({
    name: displayName(),
    description: description(),
    networkRef: immutable(objectRef(), "networkRef"),
    cidr: immutable(
      cel(z.string().max(64), [
        { rule: "isCIDR(self)", message: "cidr must be a CIDR such as 10.0.0.0/24 or fd00::/64" },
        {
          rule: "!isCIDR(self) || cidr(self) == cidr(self).masked()",
          message: "cidr must be a network address (no host bits set), e.g. 10.0.0.0/24",
        },
      ]),
      "cidr",
    ),
    ipVersion: z.literal([4, 6]).meta({ description: "4 or 6." }),
    gatewayIP: ipAddress().optional().meta({ description: "Default: the first address of the CIDR." }),
    noGateway: z.boolean().optional().meta({ description: "No gateway (Neutron gateway_ip: null)." }),
    allocationPools: z
      .array(z.object({ start: ipAddress(), end: ipAddress() }))
      .max(64)
      .optional(),
    dnsNameservers: z.array(ipAddress()).max(16).optional(),
    hostRoutes: z
      .array(
        z.object({
          destination: cel(z.string().max(64), [{ rule: "isCIDR(self)", message: "destination must be a CIDR" }]),
          nexthop: ipAddress(),
        }),
      )
      .max(64)
      .optional(),
    enableDhcp: z.boolean().optional().meta({ description: "Default true." }),
    ipv6AddressMode: z.enum(IPV6_MODES).optional(),
    ipv6RaMode: z.enum(IPV6_MODES).optional(),
    tags: tags().optional(),
  }),
  [
    {
      rule: "!isCIDR(self.cidr) || cidr(self.cidr).ip().family() == self.ipVersion",
      message: "cidr does not match ipVersion",
      fieldPath: ".cidr",
    },
    {
      rule: "!has(self.gatewayIP) || !has(self.noGateway) || !self.noGateway",
      message: "set gatewayIP or noGateway, not both",
    },
    {
      rule: "!has(self.gatewayIP) || !isCIDR(self.cidr) || cidr(self.cidr).containsIP(self.gatewayIP)",
      message: "gatewayIP must be inside cidr",
      fieldPath: ".gatewayIP",
    },
    {
      rule: "!has(self.allocationPools) || !isCIDR(self.cidr) || self.allocationPools.all(p, cidr(self.cidr).containsIP(p.start) && cidr(self.cidr).containsIP(p.end))",
      message: "every allocation pool must be inside cidr",
      fieldPath: ".allocationPools",
    },
    {
      rule: "self.ipVersion == 6 || (!has(self.ipv6AddressMode) && !has(self.ipv6RaMode))",
      message: "ipv6AddressMode and ipv6RaMode are only for IPv6 subnets",
    },
  ],
);

export const subnetStatus = z.object({
  ...statusBase,
  gatewayIP: z.string().optional(),
  allocationPools: z.array(z.object({ start: z.string(), end: z.string() })).optional(),
  allocated: z.int().optional().meta({ description: "Addresses in use." }),
  total: z.int().optional().meta({ description: "Addresses in the allocation pools." }),
});

export const subnetKind = defineKind({
  kind: "Subnet",
  plural: "subnets",
  singular: "subnet",
  shortNames: ["ossubnet", "snet"],
  scope: "Namespaced",
  description: "A Neutron subnet: an IP range on a network, with gateway, pools, DNS and routes.",
  spec: subnetSpec,
  status: subnetStatus,
  printerColumns: [
    { name: "Network", type: "string", jsonPath: ".spec.networkRef" },
    { name: "Subnet", type: "string", jsonPath: ".spec.cidr" },
    { name: "Gateway", type: "string", jsonPath: ".status.gatewayIP" },
    readyColumn,
    idColumn,
    ageColumn,
  ],
});

export type Subnet = KindObject<typeof subnetKind>;
