// The building blocks every kind is declared with: group/version, metadata, conditions, references,
// and `defineKind`, which keeps a kind's schema, CRD envelope and printer columns in one place.
import { z } from "zod";

export const GROUP = "altostack.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const CATEGORY = "altostack";

/**
 * Everything Altostack creates carries these labels so it can be found again without guessing names.
 * (Owner labels, for children that cannot hold an ownerReference, are `OwnerLabel` in kube/apply.ts.)
 */
export const LABELS = {
  managedBy: "app.kubernetes.io/managed-by",
  project: "altostack.io/project",
} as const;
export const MANAGED_BY = "altostack";

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A reference by name to another Altostack object of the same project (namespace). */
export const objectRef = () =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(DNS1123_SUBDOMAIN)
    .meta({ description: "Name (metadata.name) of an object in the same project." });

export const dnsLabel = () => z.string().min(1).max(63).regex(DNS1123_LABEL);

/** OpenStack's display name: any string, duplicates allowed. When empty, metadata.name is the OpenStack name. */
export const displayName = () =>
  z
    .string()
    .max(255)
    .optional()
    .meta({ description: "OpenStack name (any string, duplicates allowed). Defaults to metadata.name." });

export const description = () => z.string().max(1024).optional().meta({ description: "Free-form description." });

export const stringMap = (maxProperties = 128) =>
  z.record(z.string().max(255), z.string().max(4096)).meta({ maxProperties });

export const tags = () =>
  z
    .array(z.string().min(1).max(255))
    .max(64)
    .meta({ "x-kubernetes-list-type": "set", description: "OpenStack tags." });

export const nonNegativeInt = () => z.int().min(0).max(2_147_483_647);

export const CONDITION_STATUS = ["True", "False", "Unknown"] as const;

export const conditionSchema = z.object({
  type: z.string().min(1).max(316),
  status: z.enum(CONDITION_STATUS),
  reason: z.string().min(1).max(1024),
  message: z.string().max(32768),
  lastTransitionTime: z.string().meta({ format: "date-time" }),
  observedGeneration: z.int().min(0).optional(),
});
export type Condition = z.infer<typeof conditionSchema>;

/** Fields every status has; kinds extend it with their own. */
export const statusBase = {
  observedGeneration: z.int().min(0).optional(),
  conditions: z
    .array(conditionSchema)
    .max(32)
    .optional()
    .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }),
};

export const objectMetaSchema = z.looseObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z
    .array(
      z.looseObject({
        apiVersion: z.string(),
        kind: z.string(),
        name: z.string(),
        uid: z.string(),
        controller: z.boolean().optional(),
        blockOwnerDeletion: z.boolean().optional(),
      }),
    )
    .optional(),
});
export type ObjectMeta = z.infer<typeof objectMetaSchema>;

/** A CEL rule on a schema node, rendered into `x-kubernetes-validations`. */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** Attach CEL rules to a zod schema node (they go into the CRD; the apiserver enforces them). */
export function cel<T extends z.ZodType>(schema: T, rules: CelRule[]): T {
  const existing = (schema.meta()?.["x-kubernetes-validations"] as CelRule[] | undefined) ?? [];
  return schema.meta({ ...schema.meta(), "x-kubernetes-validations": [...existing, ...rules] });
}

/** `self == oldSelf` on a field: the apiserver refuses to change it after creation. */
export const immutable = <T extends z.ZodType>(schema: T, field: string): T =>
  cel(schema, [{ rule: "self == oldSelf", message: `${field} is immutable` }]);

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

export const readyColumn: PrinterColumn = {
  name: "Ready",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};
export const idColumn: PrinterColumn = {
  name: "ID",
  type: "string",
  jsonPath: ".metadata.uid",
  description: "The OpenStack id of the object",
  priority: 1,
};
export const ageColumn: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export interface KindDefinition<Spec extends z.ZodType, Status extends z.ZodType> {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: "Namespaced" | "Cluster";
  description: string;
  spec: Spec;
  status: Status;
  /** Whether spec may be omitted (a kind whose every spec field is optional). */
  specOptional?: boolean;
  printerColumns: PrinterColumn[];
  /** kubectl categories; default [CATEGORY]. Internal kinds pass [] so `kubectl get altostack` leaves them out. */
  categories?: readonly string[];
}

export interface DefinedKind<Spec extends z.ZodType, Status extends z.ZodType> extends KindDefinition<Spec, Status> {
  group: typeof GROUP;
  version: typeof VERSION;
  apiVersion: typeof API_VERSION;
  namespaced: boolean;
  /** Runtime validation of a whole object of this kind (structure only; CEL rules run in the apiserver). */
  object: z.ZodType<{
    apiVersion: typeof API_VERSION;
    kind: string;
    metadata: ObjectMeta;
    spec: z.output<Spec>;
    status?: z.output<Status> | undefined;
  }>;
}

export function defineKind<Spec extends z.ZodType, Status extends z.ZodType>(
  def: KindDefinition<Spec, Status>,
): DefinedKind<Spec, Status> {
  const object = z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(def.kind),
    metadata: objectMetaSchema,
    spec: def.specOptional ? (def.spec.default({} as never) as unknown as Spec) : def.spec,
    status: def.status.optional(),
  });
  return {
    ...def,
    group: GROUP,
    version: VERSION,
    apiVersion: API_VERSION,
    namespaced: def.scope === "Namespaced",
    object: object as unknown as DefinedKind<Spec, Status>["object"],
  };
}

/** The full object type of a kind, e.g. `KindObject<typeof serverKind>`. */
export type KindObject<K> = K extends DefinedKind<infer Spec, infer Status>
  ? {
      apiVersion: typeof API_VERSION;
      kind: string;
      metadata: ObjectMeta;
      spec: z.output<Spec>;
      status?: z.output<Status>;
    }
  : never;

/** The OpenStack name of any Altostack object: spec.name when set, else metadata.name. */
export function openstackName(obj: { metadata: ObjectMeta; spec?: { name?: string | undefined } }): string {
  const name = obj.spec?.name;
  return name !== undefined && name !== "" ? name : (obj.metadata.name ?? "");
}
