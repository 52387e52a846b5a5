import { describe, expect, it } from "vitest";
import { z } from "zod";
import { schemaOf, toCrd, toStructural, type JsonSchema } from "./crd.js";
import { ALL_KINDS, CATEGORY } from "./index.js";

function walk(node: JsonSchema, path: string, visit: (node: JsonSchema, path: string) => void): void {
  visit(node, path);
  const props = node.properties as Record<string, JsonSchema> | undefined;
  for (const [key, child] of Object.entries(props ?? {})) walk(child, `${path}.${key}`, visit);
  if (node.items) walk(node.items as JsonSchema, `${path}[*]`, visit);
  if (typeof node.additionalProperties === "object") walk(node.additionalProperties as JsonSchema, `${path}{}`, visit);
}

/** Resolves a printer column's simple JSONPath (`.a.b[*].c`, filters allowed) against the schema. */
function schemaAt(root: JsonSchema, jsonPath: string): JsonSchema | undefined {
  const segments = jsonPath
    .replace(/\[\?\(.*?\)\]|\[\*\]/g, "[]")
    .split(".")
    .filter(Boolean);
  let node: JsonSchema | undefined = root;
  for (const segment of segments) {
    const isArray = segment.endsWith("[]");
    const name = segment.replace("[]", "");
    if (name === "metadata" && node === root) return { type: "object" };
    node = (node?.properties as Record<string, JsonSchema> | undefined)?.[name];
    if (isArray) node = node?.items as JsonSchema | undefined;
  }
  return node;
}

describe("CRDs generated from the zod schemas", () => {
  for (const kind of ALL_KINDS) {
    describe(kind.kind, () => {
      const crd = toCrd(kind);
      const version = (crd.spec.versions as JsonSchema[])[0] as JsonSchema;
      const root = (version.schema as JsonSchema).openAPIV3Schema as JsonSchema;

      it("is structural: every node typed, no unions, no additionalProperties: false", () => {
        walk(root, kind.kind, (node, path) => {
          expect(node.type ?? node["x-kubernetes-preserve-unknown-fields"], path).toBeDefined();
          expect(node.anyOf, path).toBeUndefined();
          expect(node.oneOf, path).toBeUndefined();
          expect(node.additionalProperties === false, path).toBe(false);
          expect(node.$schema, path).toBeUndefined();
        });
      });

      it("has a status subresource, the altostack category, short names and the right scope", () => {
        expect(version.subresources).toEqual({ status: {} });
        const names = crd.spec.names as { categories: string[]; shortNames: string[]; plural: string };
        expect(names.categories).toEqual([CATEGORY]);
        expect(names.shortNames.length).toBeGreaterThan(0);
        expect(crd.metadata.name).toBe(`${names.plural}.altostack.io`);
        expect(crd.spec.scope).toBe(kind.namespaced ? "Namespaced" : "Cluster");
      });

      it("has printer columns that point at fields the schema declares", () => {
        for (const column of kind.printerColumns) {
          expect(schemaAt(root, column.jsonPath), `${column.name}: ${column.jsonPath}`).toBeDefined();
        }
      });

      it("requires a spec, or (where the spec may be left out) has the apiserver default it to {}", () => {
        const spec = (root.properties as Record<string, JsonSchema>).spec as JsonSchema;
        if (kind.specOptional === true) {
          expect(spec.default).toEqual({});
          expect(root.required).toBeUndefined();
        } else {
          expect(root.required).toEqual(["spec"]);
        }
      });

      it("declares status.conditions as a map list keyed by type and status.observedGeneration", () => {
        const status = (root.properties as Record<string, JsonSchema>).status as JsonSchema;
        const props = status.properties as Record<string, JsonSchema>;
        expect(props.conditions?.["x-kubernetes-list-type"]).toBe("map");
        expect(props.conditions?.["x-kubernetes-list-map-keys"]).toEqual(["type"]);
        expect(props.observedGeneration?.type).toBe("integer");
      });
    });
  }
});

describe("toStructural", () => {
  it("turns integer literal unions into an integer enum (CEL compares int with int only)", () => {
    expect(schemaOf(z.literal([4, 6]))).toEqual({ type: "integer", enum: [4, 6] });
  });

  it("rejects unions of different shapes with a message naming the path", () => {
    expect(() => schemaOf(z.object({ a: z.union([z.string(), z.object({ b: z.string() })]) }))).toThrow(
      /\$\.a: unions are not structural/,
    );
  });

  it("drops zod's safe-integer bounds and additionalProperties: false but keeps real bounds", () => {
    const out = toStructural({
      type: "object",
      additionalProperties: false,
      properties: { n: { type: "integer", minimum: -Number.MAX_SAFE_INTEGER, maximum: 10 } },
    });
    expect(out).toEqual({ type: "object", properties: { n: { type: "integer", maximum: 10 } } });
  });

  it("carries CEL rules attached with meta into x-kubernetes-validations", () => {
    const server = ALL_KINDS.find((k) => k.kind === "Server");
    const spec = schemaOf(server?.spec ?? z.object({}));
    const rules = spec["x-kubernetes-validations"] as { rule: string; message: string }[];
    expect(rules.map((r) => r.message)).toContain("a server boots from exactly one of imageRef or bootVolume");
  });
});

describe("runtime validation with the same schemas", () => {
  const server = ALL_KINDS.find((k) => k.kind === "Server");
  it("accepts a well-formed Server and rejects a wrong type with the field's path", () => {
    const ok = {
      apiVersion: "altostack.io/v1alpha1",
      kind: "Server",
      metadata: { name: "web-1", namespace: "project-demo" },
      spec: { flavorRef: "m1.small", imageRef: "cirros", networks: [{ networkRef: "private" }] },
    };
    expect(server?.object.safeParse(ok).success).toBe(true);
    const bad = server?.object.safeParse({ ...ok, spec: { ...ok.spec, flavorRef: 42 } });
    expect(bad?.success).toBe(false);
    expect(bad?.error?.issues[0]?.path).toEqual(["spec", "flavorRef"]);
  });
});
