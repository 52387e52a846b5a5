// Allocation: the operator's internal record that one value of a pool (an IP of a subnet, a MAC, a VLAN id of
// a physical network) belongs to one holder. The object's name is derived from pool + value and it is only
// ever created with POST, so the apiserver itself decides who gets a value: the second writer receives
// AlreadyExists. Cluster-scoped, outside the `altostack` category, and not writable by tenants (the project
// roles list tenant resources explicitly and this is not one of them).
import { z } from "zod";
import { ageColumn, defineKind, immutable, type KindObject } from "./meta.js";

export const ALLOCATION_TYPES = ["ip", "mac", "segment"] as const;
export type AllocationType = (typeof ALLOCATION_TYPES)[number];

export const allocationHolder = z.object({
  kind: z.string().min(1).max(63),
  namespace: z.string().max(63).optional(),
  name: z.string().min(1).max(253),
  uid: z.string().min(1).max(64),
});
export type AllocationHolder = z.output<typeof allocationHolder>;

export const allocationSpec = immutable(
  z.object({
    type: z.enum(ALLOCATION_TYPES),
    pool: z
      .string()
      .min(1)
      .max(253)
      .meta({ description: "The pool the value comes from: a subnet uid (ip), 'mac', or a physical network (segment)." }),
    value: z
      .string()
      .min(1)
      .max(64)
      .meta({ description: "The allocated value: an IP address, a MAC address, or 'vlan:<id>' / 'flat'." }),
    holder: allocationHolder.meta({ description: "The object the value belongs to; freed when it is gone." }),
  }),
  "spec",
);

export const allocationKind = defineKind({
  kind: "Allocation",
  plural: "allocations",
  singular: "allocation",
  shortNames: ["osalloc"],
  scope: "Cluster",
  description:
    "Internal: one allocated IP address, MAC address or network segment. Created only by the operator; the name " +
    "encodes pool and value so that the apiserver arbitrates concurrent allocations.",
  spec: allocationSpec,
  status: z.object({}),
  categories: [],
  printerColumns: [
    { name: "Type", type: "string", jsonPath: ".spec.type" },
    { name: "Value", type: "string", jsonPath: ".spec.value" },
    { name: "Holder-Kind", type: "string", jsonPath: ".spec.holder.kind" },
    { name: "Holder-Namespace", type: "string", jsonPath: ".spec.holder.namespace" },
    { name: "Holder", type: "string", jsonPath: ".spec.holder.name" },
    { name: "Pool", type: "string", jsonPath: ".spec.pool", priority: 1 },
    ageColumn,
  ],
});

export type Allocation = KindObject<typeof allocationKind>;
