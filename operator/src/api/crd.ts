// Renders a kind's zod schema into a structural CustomResourceDefinition. zod's JSON Schema output is the
// starting point; what Kubernetes' structural-schema rules forbid is removed or rejected here, loudly.
import { z } from "zod";
import { CATEGORY, GROUP, MANAGED_BY, VERSION, type DefinedKind } from "./meta.js";

export type JsonSchema = { [key: string]: unknown };

const SAFE_INT_BOUND = Number.MAX_SAFE_INTEGER;
/** Keys a structural schema may carry; anything else zod emits is dropped. */
const ALLOWED_KEYS = new Set([
  "type",
  "format",
  "description",
  "properties",
  "required",
  "items",
  "additionalProperties",
  "enum",
  "default",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "nullable",
  "x-kubernetes-validations",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-int-or-string",
]);

/** Merge `anyOf` of same-typed enum branches (e.g. `z.literal([4, 6])`); any other union is not structural. */
function mergeEnumUnion(branches: JsonSchema[], path: string): JsonSchema {
  const types = new Set(branches.map((b) => b.type));
  const enums = branches.flatMap((b) => (Array.isArray(b.enum) ? (b.enum as unknown[]) : "const" in b ? [b.const] : []));
  if (types.size !== 1 || enums.length === 0 || branches.some((b) => !("enum" in b) && !("const" in b))) {
    throw new Error(`${path}: unions are not structural; model it as optional fields plus a CEL rule`);
  }
  return { type: branches[0]?.type, enum: enums };
}

/** zod says "number" for integer literals; CEL compares int with int only, so say "integer". */
function integerIfWhole(schema: JsonSchema): JsonSchema {
  const values = schema.enum;
  if (schema.type === "number" && Array.isArray(values) && values.every((v) => Number.isInteger(v))) {
    return { ...schema, type: "integer" };
  }
  return schema;
}

export function toStructural(node: JsonSchema, path = "$"): JsonSchema {
  let input = node;
  if (Array.isArray(input.anyOf)) {
    const { anyOf, ...rest } = input;
    input = { ...rest, ...mergeEnumUnion(anyOf as JsonSchema[], path) };
  }
  if ("const" in input) {
    const { const: value, ...rest } = input;
    input = { ...rest, enum: [value] };
  }
  input = integerIfWhole(input);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(input)) {
    if (!ALLOWED_KEYS.has(key)) continue;
    if (key === "additionalProperties" && value === false) continue; // structural schemas prune instead
    if ((key === "minimum" && value === -SAFE_INT_BOUND) || (key === "maximum" && value === SAFE_INT_BOUND)) continue;
    if (key === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toStructural(v, `${path}.${k}`)]),
      );
    } else if (key === "items" || (key === "additionalProperties" && typeof value === "object")) {
      out[key] = toStructural(value as JsonSchema, `${path}[]`);
    } else {
      out[key] = value;
    }
  }
  if (out.type === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true) {
    throw new Error(`${path}: every schema node needs a type`);
  }
  return out;
}

export function schemaOf(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", unrepresentable: "throw" }) as JsonSchema;
  return toStructural(json);
}

export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels: Record<string, string> };
  spec: JsonSchema;
}

export function toCrd(kind: DefinedKind<z.ZodType, z.ZodType>): CustomResourceDefinition {
  const spec = schemaOf(kind.spec);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${kind.plural}.${GROUP}`,
      labels: { "app.kubernetes.io/part-of": MANAGED_BY },
    },
    spec: {
      group: GROUP,
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.singular,
        shortNames: kind.shortNames,
        ...(kind.categories?.length === 0 ? {} : { categories: [...(kind.categories ?? [CATEGORY])] }),
      },
      scope: kind.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: kind.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: kind.description,
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                // A kind whose spec may be left out gets `spec: {}` from the apiserver, so readers never meet none.
                spec: kind.specOptional ? { ...spec, default: {} } : spec,
                status: schemaOf(kind.status),
              },
              ...(kind.specOptional ? {} : { required: ["spec"] }),
            },
          },
        },
      ],
    },
  };
}
