// SecurityGroup: Neutron security group rules, realised as MultiNetworkPolicy objects on the project's networks.
import { z } from "zod";
import {
  ageColumn,
  cel,
  defineKind,
  description,
  displayName,
  idColumn,
  objectRef,
  readyColumn,
  statusBase,
  tags,
  type KindObject,
} from "./meta.js";

export const PORT_PROTOCOLS = ["tcp", "udp", "sctp"] as const;
export const SECURITY_GROUP_PROTOCOLS = [...PORT_PROTOCOLS, "icmp", "icmpv6", "any"] as const;

export const securityGroupRule = cel(
  z.object({
    direction: z.enum(["ingress", "egress"]),
    ethertype: z.enum(["IPv4", "IPv6"]).optional().meta({ description: "Default IPv4." }),
    protocol: z
      .string()
      .regex(/^(tcp|udp|sctp|icmp|icmpv6|any|[0-9]{1,3})$/)
      .optional()
      .meta({ description: "tcp, udp, sctp, icmp, icmpv6, any or an IP protocol number. Default any." }),
    portRangeMin: z.int().min(0).max(65535).optional(),
    portRangeMax: z.int().min(0).max(65535).optional(),
    remoteIPPrefix: cel(z.string().max(64), [{ rule: "isCIDR(self)", message: "remoteIPPrefix must be a CIDR" }]).optional(),
    remoteGroupRef: objectRef().optional().meta({ description: "Another security group of this project." }),
    description: z.string().max(255).optional(),
  }),
  [
    {
      rule: "!(has(self.remoteIPPrefix) && has(self.remoteGroupRef))",
      message: "set remoteIPPrefix or remoteGroupRef, not both",
    },
    {
      rule: "!has(self.portRangeMin) || !has(self.portRangeMax) || self.portRangeMin <= self.portRangeMax",
      message: "portRangeMin must not exceed portRangeMax",
    },
    {
      rule: "!(has(self.portRangeMin) || has(self.portRangeMax)) || (has(self.protocol) && self.protocol in ['tcp','udp','sctp','icmp','icmpv6','6','17','132','1','58'])",
      message: "a port range needs protocol tcp, udp or sctp (or icmp/icmpv6 type and code)",
    },
  ],
);
export type SecurityGroupRule = z.output<typeof securityGroupRule>;

export const securityGroupSpec = z.object({
  name: displayName(),
  description: description(),
  stateful: z.boolean().optional().meta({ description: "Default true." }),
  rules: z.array(securityGroupRule).max(256).optional(),
  tags: tags().optional(),
});

export const securityGroupStatus = z.object({
  ...statusBase,
  ruleCount: z.int().optional(),
  policies: z.array(z.string()).optional().meta({ description: "MultiNetworkPolicy objects realising the group." }),
});

export const securityGroupKind = defineKind({
  kind: "SecurityGroup",
  plural: "securitygroups",
  singular: "securitygroup",
  shortNames: ["sg", "secgroup"],
  scope: "Namespaced",
  description: "A Neutron security group, realised as MultiNetworkPolicy objects.",
  spec: securityGroupSpec,
  status: securityGroupStatus,
  specOptional: true,
  printerColumns: [
    { name: "Rules", type: "integer", jsonPath: ".status.ruleCount" },
    { name: "Description", type: "string", jsonPath: ".spec.description" },
    readyColumn,
    idColumn,
    ageColumn,
  ],
});

export type SecurityGroup = KindObject<typeof securityGroupKind>;
