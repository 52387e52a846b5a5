// Tests of the spec converters in generate-upstream-types.mjs. Run: node --test hack/
// They use small inline specs, not shared/upstream, so they run anywhere.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import openapiTS, { astToString } from "openapi-typescript";
import {
  collectReachable,
  convertSchema,
  crdsToOpenAPI3,
  indexFile,
  metaFromSwagger,
  operationSchemaRoots,
  parseCrds,
  repairQuotedScalarIndentation,
  resolveUpstreamDir,
  swagger2ToOpenAPI3,
  upstreamProvenance,
} from "./generate-upstream-types.mjs";

const META = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta";

const swagger = {
  swagger: "2.0",
  info: { title: "test" },
  paths: {
    "/apis/sub.example.io/v1/namespaces/{namespace}/things/{name}/start": {
      put: {
        parameters: [{ name: "body", in: "body", schema: { $ref: "#/definitions/v1.StartOptions" } }],
        responses: { 200: { schema: { type: "string" } }, 404: { schema: { $ref: "#/definitions/v1.Status" } } },
      },
      parameters: [{ $ref: "#/parameters/namespace-x" }],
    },
    "/apis/sub.example.io": { get: { responses: { 200: { schema: { $ref: "#/definitions/v1.APIGroup" } } } } },
    "/apis/sub.example.iox/v1/other": { put: { parameters: [{ in: "body", schema: { $ref: "#/definitions/v1.Other" } }] } },
  },
  definitions: {
    "v1.Thing": {
      type: "object",
      required: ["spec"],
      properties: {
        metadata: { default: {}, $ref: `#/definitions/${META}` },
        spec: { default: {}, $ref: "#/definitions/v1.ThingSpec" },
        status: { $ref: "#/definitions/v1.ThingStatus" },
      },
    },
    "v1.ThingSpec": {
      type: "object",
      properties: {
        port: { type: "string", format: "int-or-string", description: "a port" },
        items: { type: "array", items: { $ref: "#/definitions/v1.Item" } },
        labels: { type: "object", additionalProperties: { type: "string", default: "" } },
        extra: { $ref: "#/definitions/v1.Missing", description: "gone" },
        discriminator: { type: "string" },
      },
      "x-kubernetes-unions": [{ discriminator: "type", "fields-to-discriminateBy": { a: "A" } }],
    },
    "v1.ThingStatus": { type: "object", "x-nullable": true, properties: { phase: { type: "string" } } },
    "v1.Item": { type: "object", properties: { next: { $ref: "#/definitions/v1.Item" } } },
    [META]: { type: "object", properties: { name: { type: "string" }, creationTimestamp: { $ref: "#/definitions/v1.Time" } } },
    "v1.Time": { type: "string", format: "date-time" },
    "v1.Status": { type: "object", properties: { apiVersion: { type: "string", description: "APIVersion" }, kind: { type: "string", description: "Kind" } } },
    "v1.StartOptions": { type: "object", properties: { paused: { type: "boolean" } } },
    "v1.APIGroup": { type: "object" },
    "v1.Other": { type: "object" },
    "v1.Unused": { type: "object", properties: { a: { $ref: "#/definitions/v1.Other" } } },
  },
};

async function typescriptOf(document) {
  return astToString(await openapiTS(document, { defaultNonNullable: false, emptyObjectsUnknown: true, silent: true }));
}

describe("convertSchema", () => {
  const ctx = () => ({ known: new Set(Object.keys(swagger.definitions)), dangling: new Set() });

  it("rewrites refs to components and keeps siblings", () => {
    const c = ctx();
    assert.deepEqual(convertSchema({ default: {}, $ref: "#/definitions/v1.Time" }, c), {
      $ref: "#/components/schemas/v1.Time",
      default: {},
    });
    assert.equal(c.dangling.size, 0);
  });

  it("turns dangling refs into an untyped schema and records them", () => {
    const c = ctx();
    assert.deepEqual(convertSchema({ $ref: "#/definitions/v1.Missing", description: "gone" }, c), { description: "gone" });
    assert.deepEqual(convertSchema({ $ref: "#/parameters/p" }, c), {});
    assert.deepEqual([...c.dangling].sort(), ["#/definitions/v1.Missing", "#/parameters/p"]);
  });

  it("walks nested schemas but not vendor extensions or property names", () => {
    const out = convertSchema(swagger.definitions["v1.ThingSpec"], ctx());
    assert.equal(out.properties.items.items.$ref, "#/components/schemas/v1.Item");
    assert.deepEqual(out.properties.discriminator, { type: "string" });
    assert.deepEqual(out["x-kubernetes-unions"], swagger.definitions["v1.ThingSpec"]["x-kubernetes-unions"]);
    assert.deepEqual(out.properties.labels.additionalProperties, { type: "string", default: "" });
  });

  it("maps int-or-string, x-nullable and Swagger 2 discriminators", () => {
    const c = ctx();
    assert.deepEqual(convertSchema({ type: "string", format: "int-or-string", description: "d" }, c), {
      description: "d",
      anyOf: [{ type: "integer" }, { type: "string" }],
      "x-kubernetes-int-or-string": true,
    });
    assert.deepEqual(convertSchema({ type: "object", "x-nullable": true }, c), { type: "object", nullable: true });
    assert.deepEqual(convertSchema({ type: "object", discriminator: "kind" }, c), {
      type: "object",
      discriminator: { propertyName: "kind" },
    });
  });

  it("does not modify its input", () => {
    const before = structuredClone(swagger);
    swagger2ToOpenAPI3(swagger);
    assert.deepEqual(swagger, before);
  });
});

describe("pruning", () => {
  it("keeps exactly what the roots reach, sorted, through cycles", () => {
    assert.deepEqual(collectReachable(swagger.definitions, ["v1.Thing"]), [
      META,
      "v1.Item",
      "v1.Thing",
      "v1.ThingSpec",
      "v1.ThingStatus",
      "v1.Time",
    ]);
  });

  it("fails on an unknown root", () => {
    assert.throws(() => collectReachable(swagger.definitions, ["v1.Nope"]), /v1.Nope/);
  });

  it("finds body and response schemas of a group's operations only", () => {
    assert.deepEqual(operationSchemaRoots(swagger, ["/apis/sub.example.io"]), ["v1.APIGroup", "v1.StartOptions", "v1.Status"]);
  });

  it("builds a sorted OpenAPI 3 document and lists dangling refs", () => {
    const { document, included, dangling } = swagger2ToOpenAPI3(swagger, { roots: ["v1.Thing", "v1.StartOptions"] });
    assert.equal(document.openapi, "3.0.3");
    assert.deepEqual(Object.keys(document.components.schemas), included);
    assert.ok(!included.includes("v1.Unused"));
    assert.deepEqual(dangling, ["#/definitions/v1.Missing"]);
  });

  it("rejects other versions", () => {
    assert.throws(() => swagger2ToOpenAPI3({ openapi: "3.0.0" }), /Swagger 2.0/);
  });
});

describe("openapi-typescript on the converted document", () => {
  it("gives usable types and is deterministic", async () => {
    const { document } = swagger2ToOpenAPI3(swagger, { roots: ["v1.Thing"] });
    const ts = await typescriptOf(document);
    assert.equal(await typescriptOf(swagger2ToOpenAPI3(swagger, { roots: ["v1.Thing"] }).document), ts);
    assert.match(ts, /port\?: number \| string;/);
    assert.match(ts, /metadata\?: components\["schemas"\]\["k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"\];/);
    assert.match(ts, /spec: components\["schemas"\]\["v1.ThingSpec"\];/); // required stays required
    assert.match(ts, /extra\?: unknown;/);
    assert.match(ts, /"v1.ThingStatus": \{\s+phase\?: string;\s+\} \| null;/);
  });
});

const crdYaml = `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.io
spec:
  group: example.io
  names: { kind: Widget, plural: widgets }
  versions:
    - name: v1beta1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          description: "A widget. It spans
        two lines, the second under-indented"
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size:
                  description: |-
                    a block scalar with key: "an open quote
                  anyOf: [{ type: integer }, { type: string }]
                  x-kubernetes-int-or-string: true
            status:
              type: object
              x-kubernetes-preserve-unknown-fields: true
    - name: v1beta2
      served: false
      storage: false
      schema:
        openAPIV3Schema: { type: object }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: not-a-crd }
`;

describe("CRDs", () => {
  const meta = metaFromSwagger(swagger, "v1.Status");

  it("repairs under-indented quoted-scalar lines only", () => {
    const { text, changed } = repairQuotedScalarIndentation(crdYaml);
    assert.deepEqual(changed, [16]);
    assert.equal(text.split("\n")[15], "            two lines, the second under-indented\"");
    assert.deepEqual(repairQuotedScalarIndentation(text).changed, []);
  });

  it("parses multi-document YAML and keeps only CRDs", () => {
    const { crds, repairedLines } = parseCrds(crdYaml);
    assert.equal(crds.length, 1);
    assert.deepEqual(repairedLines, [16]);
    assert.equal(crds[0].spec.versions[0].schema.openAPIV3Schema.description, "A widget. It spans two lines, the second under-indented");
  });

  it("names served versions, hoists spec/status and adds the object envelope", () => {
    const { document, included } = crdsToOpenAPI3(parseCrds(crdYaml).crds, ["Widget"], meta);
    assert.deepEqual(included, ["v1beta1.Widget", "v1beta1.WidgetSpec", "v1beta1.WidgetStatus"]);
    const schemas = document.components.schemas;
    assert.deepEqual(Object.keys(schemas), [...Object.keys(schemas)].sort());
    const root = schemas["v1beta1.Widget"];
    assert.deepEqual(Object.keys(root.properties), ["apiVersion", "kind", "metadata", "spec", "status"]);
    assert.deepEqual(root.properties.metadata, { $ref: `#/components/schemas/${META}` });
    assert.deepEqual(root.properties.apiVersion, { type: "string", description: "APIVersion" });
    assert.deepEqual(root.properties.spec, { $ref: "#/components/schemas/v1beta1.WidgetSpec" });
    assert.ok(schemas[META] && schemas["v1.Time"]);
    assert.ok(!("v1beta2.Widget" in schemas));
  });

  it("gives usable types", async () => {
    const ts = await typescriptOf(crdsToOpenAPI3(parseCrds(crdYaml).crds, ["Widget"], meta).document);
    assert.match(ts, /size: number \| string;/);
    assert.match(ts, /"v1beta1.WidgetStatus": Record<string, unknown>;/);
  });

  it("fails on a missing kind", () => {
    assert.throws(() => crdsToOpenAPI3(parseCrds(crdYaml).crds, ["Widget", "Gadget"], meta), /Gadget/);
  });
});

describe("provenance, index and paths", () => {
  const readme = [
    "| file | bytes | source repository | source path | tag (commit) | how | sha256[:16] |",
    "|---|---:|---|---|---|---|---|",
    "| `kubevirt/swagger.json` | 1 | kubevirt/kubevirt | `api/openapi-spec/swagger.json` | v1.9.0 (`79d34c176216`) | verbatim | `2c12` |",
    "| `mnp/scheme.yml` | 2 | org/mnp (Apache-2.0) | `scheme.yml` | `f1873dc329c6` (master, 2023-03) | verbatim | `4428` |",
  ].join("\n");

  it("reads repository and tag from the README table", () => {
    assert.deepEqual(upstreamProvenance(readme, "kubevirt/swagger.json"), {
      repo: "kubevirt/kubevirt",
      tag: "v1.9.0, commit 79d34c176216",
    });
    assert.deepEqual(upstreamProvenance(readme, "mnp/scheme.yml"), { repo: "org/mnp", tag: "f1873dc329c6 (master, 2023-03)" });
    assert.throws(() => upstreamProvenance(readme, "other.json"), /no table row/);
  });

  it("refuses aliases to schemas that were not generated", () => {
    assert.throws(() => indexFile(new Map([["kubevirt", new Set()]])), /has no schema/);
  });

  it("fails clearly when the shared directory is missing", () => {
    assert.throws(() => resolveUpstreamDir({}, "/nonexistent/repo"), /upstream specs not found at \/nonexistent\/shared\/upstream/);
    assert.throws(() => resolveUpstreamDir({ ALTOSTACK_SHARED_DIR: "/nonexistent" }), /ALTOSTACK_SHARED_DIR=\/nonexistent/);
  });
});
