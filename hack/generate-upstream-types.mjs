#!/usr/bin/env node
// Generates operator/src/generated/*.ts: TypeScript types for the upstream APIs the operator writes and reads
// (KubeVirt, CDI, Multus NetworkAttachmentDefinition, MultiNetworkPolicy, CSI VolumeSnapshot). The types are made
// by openapi-typescript from the specs in <repoRoot>/../shared/upstream (override: env ALTOSTACK_SHARED_DIR).
// The files it writes are committed and never edited by hand. `make verify` diffs them, so the output must be a
// pure function of the input files: no timestamps, no absolute paths, stable ordering.
//
// Two kinds of input:
//  * Swagger 2.0 (KubeVirt, CDI). openapi-typescript 7 reads only OpenAPI 3.x, so `swagger2ToOpenAPI3` below
//    moves `definitions` to `components.schemas` and rewrites `#/definitions/` refs. These specs give named types
//    (v1.VirtualMachineSpec, v1.Interface, v1beta1.DataVolumeSpec, ...), which the CRD schemas do not: those are
//    fully inlined. The operator does not need every definition, so only the ones reachable from the roots are kept.
//  * CRD YAML (NAD, MultiNetworkPolicy, VolumeSnapshot*), which have no swagger. `crdsToOpenAPI3` turns each served
//    version's openAPIV3Schema into a named schema. It moves `spec` and `status` out into their own named schemas and
//    types `metadata` as the real ObjectMeta. That ObjectMeta, with what it refers to, is copied from KubeVirt's swagger.
//
// Usage: node hack/generate-upstream-types.mjs            (writes the files)
// Tests: node --test hack/generate-upstream-types.test.mjs
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import YAML from "yaml";

const SCRIPT = "hack/generate-upstream-types.mjs";
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR_REL = "operator/src/generated";

const OBJECT_META = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta";

// ---------------------------------------------------------------------------------------------------------------
// What to generate.
// ---------------------------------------------------------------------------------------------------------------

/**
 * `roots` are definition names kept together with everything they reference. `subresourcePaths` are the API group
 * paths of aggregated (non-CRD) APIs. Every schema used as a request body or a response of an operation under them is
 * added to the roots, because the operator calls these endpoints and the simulator stubs them.
 */
export const TARGETS = [
  {
    out: "kubevirt.ts",
    type: "swagger",
    file: "kubevirt/swagger.json",
    roots: [
      "v1.VirtualMachine",
      "v1.VirtualMachineList",
      "v1.VirtualMachineInstance",
      "v1.VirtualMachineInstanceList",
      "v1.VirtualMachineInstanceMigration",
      "v1.VirtualMachineInstanceMigrationList",
      "v1beta1.VirtualMachineClusterInstancetype",
      "v1beta1.VirtualMachineClusterInstancetypeList",
      "v1.VirtualMachineExport",
    ],
    subresourcePaths: ["/apis/subresources.kubevirt.io"],
  },
  {
    out: "cdi.ts",
    type: "swagger",
    file: "containerized-data-importer/swagger.json",
    roots: ["v1beta1.DataVolume", "v1beta1.DataVolumeList", "v1beta1.DataSource", "v1beta1.DataSourceList"],
    subresourcePaths: ["/apis/upload.cdi.kubevirt.io"],
  },
  {
    out: "nad.ts",
    type: "crd",
    files: ["network-attachment-definition-client/networks-crd.yaml"],
    kinds: ["NetworkAttachmentDefinition"],
  },
  {
    out: "multinetworkpolicy.ts",
    type: "crd",
    files: ["multi-networkpolicy/scheme.yml"],
    kinds: ["MultiNetworkPolicy"],
  },
  {
    out: "snapshot.ts",
    type: "crd",
    files: [
      "external-snapshotter/snapshot.storage.k8s.io_volumesnapshots.yaml",
      "external-snapshotter/snapshot.storage.k8s.io_volumesnapshotclasses.yaml",
      "external-snapshotter/snapshot.storage.k8s.io_volumesnapshotcontents.yaml",
    ],
    kinds: ["VolumeSnapshot", "VolumeSnapshotClass", "VolumeSnapshotContent"],
  },
];

/** Where the CRD-based files get ObjectMeta (and apiVersion/kind when a CRD schema leaves them out) from. */
const META_SOURCE = { file: "kubevirt/swagger.json", typeMetaFrom: "k8s.io.apimachinery.pkg.apis.meta.v1.Status" };

/**
 * Friendly names exported by index.ts: [alias, module (file name without .ts), schema name]. A schema name may
 * instead be `{ expr }`, a type expression over aliases declared earlier in the list.
 */
export const ALIASES = [
  // KubeVirt kinds
  ["VirtualMachine", "kubevirt", "v1.VirtualMachine"],
  ["VirtualMachineList", "kubevirt", "v1.VirtualMachineList"],
  ["VirtualMachineSpec", "kubevirt", "v1.VirtualMachineSpec"],
  ["VirtualMachineStatus", "kubevirt", "v1.VirtualMachineStatus"],
  ["VirtualMachineInstance", "kubevirt", "v1.VirtualMachineInstance"],
  ["VirtualMachineInstanceList", "kubevirt", "v1.VirtualMachineInstanceList"],
  ["VirtualMachineInstanceSpec", "kubevirt", "v1.VirtualMachineInstanceSpec"],
  ["VirtualMachineInstanceStatus", "kubevirt", "v1.VirtualMachineInstanceStatus"],
  ["VirtualMachineInstanceTemplateSpec", "kubevirt", "v1.VirtualMachineInstanceTemplateSpec"],
  ["VirtualMachineInstanceNetworkInterface", "kubevirt", "v1.VirtualMachineInstanceNetworkInterface"],
  ["VirtualMachineInstanceMigration", "kubevirt", "v1.VirtualMachineInstanceMigration"],
  ["VirtualMachineInstanceMigrationList", "kubevirt", "v1.VirtualMachineInstanceMigrationList"],
  ["VirtualMachineInstanceMigrationSpec", "kubevirt", "v1.VirtualMachineInstanceMigrationSpec"],
  ["VirtualMachineInstanceMigrationStatus", "kubevirt", "v1.VirtualMachineInstanceMigrationStatus"],
  ["VirtualMachineClusterInstancetype", "kubevirt", "v1beta1.VirtualMachineClusterInstancetype"],
  ["VirtualMachineClusterInstancetypeList", "kubevirt", "v1beta1.VirtualMachineClusterInstancetypeList"],
  ["VirtualMachineInstancetypeSpec", "kubevirt", "v1beta1.VirtualMachineInstancetypeSpec"],
  ["VirtualMachineExport", "kubevirt", "v1.VirtualMachineExport"],
  ["VirtualMachineExportSpec", "kubevirt", "v1.VirtualMachineExportSpec"],
  ["VirtualMachineExportStatus", "kubevirt", "v1.VirtualMachineExportStatus"],
  // KubeVirt building blocks
  ["DataVolumeTemplateSpec", "kubevirt", "v1.DataVolumeTemplateSpec"],
  ["DomainSpec", "kubevirt", "v1.DomainSpec"],
  ["Devices", "kubevirt", "v1.Devices"],
  ["Disk", "kubevirt", "v1.Disk"],
  ["Interface", "kubevirt", "v1.Interface"],
  ["Network", "kubevirt", "v1.Network"],
  ["MultusNetwork", "kubevirt", "v1.MultusNetwork"],
  ["PodNetwork", "kubevirt", "v1.PodNetwork"],
  ["Volume", "kubevirt", "v1.Volume"],
  ["CloudInitConfigDriveSource", "kubevirt", "v1.CloudInitConfigDriveSource"],
  ["CloudInitNoCloudSource", "kubevirt", "v1.CloudInitNoCloudSource"],
  ["InstancetypeMatcher", "kubevirt", "v1.InstancetypeMatcher"],
  ["PreferenceMatcher", "kubevirt", "v1.PreferenceMatcher"],
  ["VirtualMachineCondition", "kubevirt", "v1.VirtualMachineCondition"],
  ["VirtualMachineInstanceCondition", "kubevirt", "v1.VirtualMachineInstanceCondition"],
  // KubeVirt subresource request/response bodies (subresources.kubevirt.io/v1)
  ["AddVolumeOptions", "kubevirt", "v1.AddVolumeOptions"],
  ["RemoveVolumeOptions", "kubevirt", "v1.RemoveVolumeOptions"],
  ["StartOptions", "kubevirt", "v1.StartOptions"],
  ["StopOptions", "kubevirt", "v1.StopOptions"],
  ["RestartOptions", "kubevirt", "v1.RestartOptions"],
  ["MigrateOptions", "kubevirt", "v1.MigrateOptions"],
  ["PauseOptions", "kubevirt", "v1.PauseOptions"],
  ["UnpauseOptions", "kubevirt", "v1.UnpauseOptions"],
  ["FreezeUnfreezeTimeout", "kubevirt", "v1.FreezeUnfreezeTimeout"],
  ["VirtualMachineMemoryDumpRequest", "kubevirt", "v1.VirtualMachineMemoryDumpRequest"],
  ["VirtualMachineInstanceGuestAgentInfo", "kubevirt", "v1.VirtualMachineInstanceGuestAgentInfo"],
  // Kubernetes meta types (as KubeVirt's swagger defines them)
  ["ObjectMeta", "kubevirt", OBJECT_META],
  ["ListMeta", "kubevirt", "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta"],
  ["APIGroup", "kubevirt", "k8s.io.apimachinery.pkg.apis.meta.v1.APIGroup"],
  ["APIResourceList", "kubevirt", "k8s.io.apimachinery.pkg.apis.meta.v1.APIResourceList"],
  // CDI
  ["DataVolume", "cdi", "v1beta1.DataVolume"],
  ["DataVolumeList", "cdi", "v1beta1.DataVolumeList"],
  ["DataVolumeSpec", "cdi", "v1beta1.DataVolumeSpec"],
  ["DataVolumeStatus", "cdi", "v1beta1.DataVolumeStatus"],
  ["DataVolumeCondition", "cdi", "v1beta1.DataVolumeCondition"],
  ["DataVolumeSource", "cdi", "v1beta1.DataVolumeSource"],
  ["DataVolumeSourceHTTP", "cdi", "v1beta1.DataVolumeSourceHTTP"],
  ["DataVolumeSourceRegistry", "cdi", "v1beta1.DataVolumeSourceRegistry"],
  ["DataVolumeSourcePVC", "cdi", "v1beta1.DataVolumeSourcePVC"],
  ["DataVolumeSourceSnapshot", "cdi", "v1beta1.DataVolumeSourceSnapshot"],
  ["DataVolumeSourceUpload", "cdi", "v1beta1.DataVolumeSourceUpload"],
  ["DataVolumeSourceRef", "cdi", "v1beta1.DataVolumeSourceRef"],
  ["DataVolumeBlankImage", "cdi", "v1beta1.DataVolumeBlankImage"],
  ["StorageSpec", "cdi", "v1beta1.StorageSpec"],
  ["DataSource", "cdi", "v1beta1.DataSource"],
  ["DataSourceList", "cdi", "v1beta1.DataSourceList"],
  ["DataSourceSpec", "cdi", "v1beta1.DataSourceSpec"],
  ["DataSourceStatus", "cdi", "v1beta1.DataSourceStatus"],
  ["UploadTokenRequest", "cdi", "v1beta1.UploadTokenRequest"],
  ["UploadTokenRequestSpec", "cdi", "v1beta1.UploadTokenRequestSpec"],
  ["UploadTokenRequestStatus", "cdi", "v1beta1.UploadTokenRequestStatus"],
  // Multus
  ["NetworkAttachmentDefinition", "nad", "v1.NetworkAttachmentDefinition"],
  ["NetworkAttachmentDefinitionSpec", "nad", "v1.NetworkAttachmentDefinitionSpec"],
  ["MultiNetworkPolicy", "multinetworkpolicy", "v1beta1.MultiNetworkPolicy"],
  ["MultiNetworkPolicySpec", "multinetworkpolicy", "v1beta1.MultiNetworkPolicySpec"],
  ["MultiNetworkPolicyIngressRule", null, { expr: 'NonNullable<MultiNetworkPolicySpec["ingress"]>[number]' }],
  ["MultiNetworkPolicyEgressRule", null, { expr: 'NonNullable<MultiNetworkPolicySpec["egress"]>[number]' }],
  ["MultiNetworkPolicyPeer", null, { expr: 'NonNullable<MultiNetworkPolicyIngressRule["from"]>[number]' }],
  ["MultiNetworkPolicyPort", null, { expr: 'NonNullable<MultiNetworkPolicyIngressRule["ports"]>[number]' }],
  // CSI snapshots
  ["VolumeSnapshot", "snapshot", "v1.VolumeSnapshot"],
  ["VolumeSnapshotSpec", "snapshot", "v1.VolumeSnapshotSpec"],
  ["VolumeSnapshotStatus", "snapshot", "v1.VolumeSnapshotStatus"],
  ["VolumeSnapshotClass", "snapshot", "v1.VolumeSnapshotClass"],
  ["VolumeSnapshotContent", "snapshot", "v1.VolumeSnapshotContent"],
  ["VolumeSnapshotContentSpec", "snapshot", "v1.VolumeSnapshotContentSpec"],
  ["VolumeSnapshotContentStatus", "snapshot", "v1.VolumeSnapshotContentStatus"],
];

/** Options for openapi-typescript. */
const OPENAPI_TS_OPTIONS = {
  // k8s specs put `default` on many optional fields (e.g. `default: {}` on every ObjectMeta). openapi-typescript
  // would make those fields required by default, and then objects we write would not type-check.
  defaultNonNullable: false,
  // `type: object` with no properties means "any object" (RawExtension, FieldsV1, preserve-unknown-fields, marker
  // structs like InterfaceBridge). The default, Record<string, never>, would reject every value but {}.
  emptyObjectsUnknown: true,
  silent: true,
};

// ---------------------------------------------------------------------------------------------------------------
// Swagger 2.0 -> OpenAPI 3.0 (definitions only)
// ---------------------------------------------------------------------------------------------------------------

const DEFINITIONS_PREFIX = "#/definitions/";
const SCHEMAS_PREFIX = "#/components/schemas/";
const SCHEMA_MAP_KEYWORDS = ["properties", "patternProperties", "definitions"];
const SCHEMA_LIST_KEYWORDS = ["allOf", "anyOf", "oneOf"];
const SCHEMA_KEYWORDS = ["additionalProperties", "not", "additionalItems"];

/** Sorted copy of a name list. Plain code-unit order, so it does not depend on the locale. */
function sorted(names) {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Converts one Swagger 2.0 schema object to an OpenAPI 3.0 one. Returns a new object; the input is not changed.
 * `ctx.known` holds the definition names that exist. A ref to anything else is "dangling": it becomes an empty
 * schema (= `unknown` in TypeScript) and is added to `ctx.dangling`.
 * Changes made besides the ref rewrite:
 *  * `x-nullable: true` (Swagger 2 vendor extension) becomes OpenAPI 3's `nullable: true`;
 *  * `type: string, format: int-or-string` (how the Swagger of k8s describes IntOrString) becomes
 *    `anyOf: [integer, string]` with `x-kubernetes-int-or-string`, the form CRD schemas use;
 *  * a Swagger 2 `discriminator` (a property name) becomes OpenAPI 3's `{ propertyName }`.
 * Vendor extensions (`x-...`) are copied without looking inside them.
 */
export function convertSchema(schema, ctx) {
  if (schema === null || typeof schema !== "object") return schema;
  if (Array.isArray(schema)) return schema.map((s) => convertSchema(s, ctx));
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$ref") continue;
    if (key.startsWith("x-")) {
      if (key === "x-nullable") {
        if (value === true) out.nullable = true;
      } else {
        out[key] = structuredClone(value);
      }
    } else if (SCHEMA_MAP_KEYWORDS.includes(key) && value && typeof value === "object") {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convertSchema(v, ctx)]));
    } else if (SCHEMA_LIST_KEYWORDS.includes(key) || SCHEMA_KEYWORDS.includes(key) || key === "items") {
      out[key] = convertSchema(value, ctx);
    } else if (key === "discriminator" && typeof value === "string") {
      out.discriminator = { propertyName: value };
    } else {
      out[key] = structuredClone(value);
    }
  }
  if (out.type === "string" && out.format === "int-or-string") {
    delete out.type;
    delete out.format;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
    out["x-kubernetes-int-or-string"] = true;
  }
  if (typeof schema.$ref === "string") {
    const ref = schema.$ref;
    const name = ref.startsWith(DEFINITIONS_PREFIX) ? ref.slice(DEFINITIONS_PREFIX.length) : undefined;
    if (name !== undefined && ctx.known.has(name)) {
      // OpenAPI 3.0 ignores siblings of $ref; keep them anyway (openapi-typescript reads `description` for JSDoc).
      return { $ref: SCHEMAS_PREFIX + name, ...out };
    }
    ctx.dangling.add(ref);
    return out; // no type: `unknown`
  }
  return out;
}

/** Every `$ref` string inside a value (not inside vendor extensions). */
function refsIn(value, found = []) {
  if (Array.isArray(value)) {
    for (const v of value) refsIn(v, found);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") found.push(v);
      else if (!k.startsWith("x-")) refsIn(v, found);
    }
  }
  return found;
}

/**
 * Names of the definitions reachable from `roots` through `#/definitions/` refs, sorted. Throws if a root is not
 * defined. Refs to undefined names are skipped here (the converter reports them).
 */
export function collectReachable(definitions, roots) {
  const seen = new Set();
  const queue = [];
  for (const root of roots) {
    if (!Object.hasOwn(definitions, root)) throw new Error(`root definition "${root}" is not defined`);
    if (!seen.has(root)) {
      seen.add(root);
      queue.push(root);
    }
  }
  while (queue.length > 0) {
    const name = queue.shift();
    for (const ref of refsIn(definitions[name])) {
      if (!ref.startsWith(DEFINITIONS_PREFIX)) continue;
      const target = ref.slice(DEFINITIONS_PREFIX.length);
      if (Object.hasOwn(definitions, target) && !seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return sorted(seen);
}

/**
 * Definition names used as a request body or response schema by an operation whose path is one of `prefixes` or
 * below one (`/apis/x` matches `/apis/x` and `/apis/x/...`, not `/apis/xy`). Sorted.
 */
export function operationSchemaRoots(swagger, prefixes) {
  const names = new Set();
  for (const [p, item] of Object.entries(swagger.paths ?? {})) {
    if (!prefixes.some((prefix) => p === prefix || p.startsWith(prefix + "/"))) continue;
    for (const [method, op] of Object.entries(item)) {
      if (method === "parameters" || !op || typeof op !== "object") continue;
      const schemas = [
        ...(op.parameters ?? []).filter((param) => param.in === "body").map((param) => param.schema),
        ...Object.values(op.responses ?? {}).map((response) => response?.schema),
      ];
      for (const ref of refsIn(schemas)) {
        if (ref.startsWith(DEFINITIONS_PREFIX)) names.add(ref.slice(DEFINITIONS_PREFIX.length));
      }
    }
  }
  return sorted(names);
}

/**
 * OpenAPI 3.0 document holding the definitions of a Swagger 2.0 document reachable from `roots` (all of them if
 * `roots` is omitted), in sorted order. `paths` are not converted. Returns the document, the names it kept and
 * the dangling refs found in them (sorted).
 */
export function swagger2ToOpenAPI3(swagger, { title, roots } = {}) {
  if (swagger?.swagger !== "2.0") throw new Error(`expected a Swagger 2.0 document, got swagger=${String(swagger?.swagger)}`);
  const definitions = swagger.definitions ?? {};
  const names = roots ? collectReachable(definitions, roots) : sorted(Object.keys(definitions));
  const ctx = { known: new Set(Object.keys(definitions)), dangling: new Set() };
  const schemas = {};
  for (const name of names) schemas[name] = convertSchema(definitions[name], ctx);
  return {
    document: openapiDocument(title ?? swagger.info?.title ?? "converted", schemas),
    included: names,
    dangling: sorted(ctx.dangling),
  };
}

function openapiDocument(title, schemas) {
  return { openapi: "3.0.3", info: { title, version: "generated" }, paths: {}, components: { schemas } };
}

// ---------------------------------------------------------------------------------------------------------------
// CRDs -> OpenAPI 3.0
// ---------------------------------------------------------------------------------------------------------------

/** Index just past the closing quote of a flow scalar in `s`, scanning from `from`; -1 if it is not closed. */
function closingQuote(s, from, quote) {
  for (let i = from; i < s.length; i++) {
    if (quote === '"' && s[i] === "\\") i++;
    else if (quote === "'" && s[i] === "'" && s[i + 1] === "'") i++;
    else if (s[i] === quote) return i + 1;
  }
  return -1;
}

/**
 * Re-indents the continuation lines of multi-line quoted scalars that are not indented more than their key.
 * YAML 1.2 forbids such lines and the `yaml` package rejects them, but go-yaml (kubectl) and PyYAML accept them,
 * and upstream files have them (multi-networkpolicy's scheme.yml). Leading white space of a continuation line is
 * folded away, so re-indenting does not change the value. Lines of block scalars (`|`, `>`) are left alone.
 * Returns the text and the 1-based numbers of the lines changed (none for valid YAML).
 */
export function repairQuotedScalarIndentation(text) {
  const lines = text.split("\n");
  const changed = [];
  let open = null; // { quote, keyColumn } while inside a quoted scalar
  let blockKeyColumn = -1; // >= 0 while inside a block scalar
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const content = line.trimStart();
    const indent = line.length - content.length;
    if (open) {
      if (content !== "" && indent <= open.keyColumn) {
        lines[i] = " ".repeat(open.keyColumn + 2) + content;
        changed.push(i + 1);
      }
      if (closingQuote(content, 0, open.quote) >= 0) open = null;
      continue;
    }
    if (blockKeyColumn >= 0 && (content === "" || indent > blockKeyColumn)) continue;
    blockKeyColumn = -1;
    const m = /^(\s*(?:-\s+)?)[^\s#'"][^#]*?:\s+(.*)$/.exec(line);
    if (!m) continue;
    const keyColumn = m[1].length;
    const value = m[2];
    if (/^[|>][-+0-9]*\s*(#.*)?$/.test(value)) blockKeyColumn = keyColumn;
    else if ((value[0] === '"' || value[0] === "'") && closingQuote(value, 1, value[0]) < 0) {
      open = { quote: value[0], keyColumn };
    }
  }
  return { text: lines.join("\n"), changed };
}

/**
 * All CustomResourceDefinition documents in a (possibly multi-document) YAML text, after
 * `repairQuotedScalarIndentation`. Any remaining YAML error is fatal. Returns the CRDs and the repaired lines.
 */
export function parseCrds(text, source = "input") {
  const { text: repaired, changed } = repairQuotedScalarIndentation(text);
  const crds = [];
  for (const doc of YAML.parseAllDocuments(repaired)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value && value.kind === "CustomResourceDefinition") crds.push(value);
  }
  return { crds, repairedLines: changed };
}

/**
 * OpenAPI 3.0 document with one schema per served version of each CRD whose kind is in `kinds`, named
 * `<version>.<Kind>`. `spec` and `status` become their own schemas `<version>.<Kind>Spec` / `...Status`.
 * `metadata` refers to `meta.objectMeta` (the apiserver validates metadata itself; a CRD schema says at most
 * `type: object` there). If the schema leaves out `apiVersion` or `kind`, which every object has, they are added
 * from `meta.typeMeta`. `meta.schemas` (ObjectMeta and what it refers to, already OpenAPI 3) are added as they are.
 */
export function crdsToOpenAPI3(crds, kinds, meta, { title = "crds" } = {}) {
  const schemas = {};
  const add = (name, schema) => {
    if (Object.hasOwn(schemas, name)) throw new Error(`duplicate schema name "${name}"`);
    schemas[name] = schema;
  };
  const found = new Set();
  const included = [];
  for (const crd of crds) {
    const kind = crd.spec?.names?.kind;
    if (!kinds.includes(kind)) continue;
    found.add(kind);
    for (const version of crd.spec.versions ?? []) {
      if (!version.served) continue;
      const source = version.schema?.openAPIV3Schema;
      if (!source) throw new Error(`${crd.metadata?.name} ${version.name}: no openAPIV3Schema`);
      const ctx = { known: new Set(), dangling: new Set() };
      const root = convertSchema(source, ctx);
      if (ctx.dangling.size > 0) throw new Error(`${kind} ${version.name}: unexpected $ref ${sorted(ctx.dangling).join(", ")}`);
      const base = `${version.name}.${kind}`;
      const props = { ...(root.properties ?? {}) };
      for (const field of ["apiVersion", "kind"]) {
        if (!props[field]) props[field] = structuredClone(meta.typeMeta[field]);
      }
      props.metadata = { $ref: SCHEMAS_PREFIX + meta.objectMeta };
      for (const [field, suffix] of [
        ["spec", "Spec"],
        ["status", "Status"],
      ]) {
        if (props[field] && !props[field].$ref) {
          add(base + suffix, props[field]);
          included.push(base + suffix);
          props[field] = { $ref: SCHEMAS_PREFIX + base + suffix };
        }
      }
      // Keep the usual property order: apiVersion, kind, metadata, then the rest as the CRD has them.
      const ordered = {};
      for (const field of ["apiVersion", "kind", "metadata"]) ordered[field] = props[field];
      for (const [field, value] of Object.entries(props)) if (!(field in ordered)) ordered[field] = value;
      add(base, { ...root, properties: ordered });
      included.push(base);
    }
  }
  const missing = kinds.filter((k) => !found.has(k));
  if (missing.length > 0) throw new Error(`no CustomResourceDefinition for kind(s) ${missing.join(", ")}`);
  for (const [name, schema] of Object.entries(meta.schemas)) add(name, schema);
  const all = {};
  for (const name of sorted(Object.keys(schemas))) all[name] = schemas[name];
  return { document: openapiDocument(title, all), included: sorted(included) };
}

/** ObjectMeta, its dependencies and the apiVersion/kind property schemas, taken from a Swagger 2.0 document. */
export function metaFromSwagger(swagger, typeMetaFrom) {
  const { document, dangling } = swagger2ToOpenAPI3(swagger, { roots: [OBJECT_META] });
  if (dangling.length > 0) throw new Error(`ObjectMeta has dangling refs: ${dangling.join(", ")}`);
  const props = swagger.definitions?.[typeMetaFrom]?.properties;
  if (!props?.apiVersion || !props.kind) throw new Error(`${typeMetaFrom} has no apiVersion/kind properties`);
  return {
    objectMeta: OBJECT_META,
    schemas: document.components.schemas,
    typeMeta: { apiVersion: structuredClone(props.apiVersion), kind: structuredClone(props.kind) },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Provenance (header lines)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Source repository and tag of `relFile`, read from the row of shared/upstream/README.md whose first cell is that
 * file. Columns: file | bytes | source repository | source path | tag (commit) | how | sha256.
 */
export function upstreamProvenance(readme, relFile) {
  for (const line of readme.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells[1] !== "`" + relFile + "`" || cells.length < 7) continue;
    const repo = cells[3].replace(/\s*\(.*\)\s*$/, "");
    // "v1.9.0 (`79d34c176216`)" -> "v1.9.0, commit 79d34c176216"; other forms are kept, without backquotes.
    const tag = cells[5].replace(/^(\S+) \(`([0-9a-f]+)`\)$/, "$1, commit $2").replaceAll("`", "").trim();
    if (repo && tag) return { repo, tag };
  }
  throw new Error(`shared/upstream/README.md has no table row for "${relFile}" (needed for the generated header)`);
}

function sha256(buf) {
  return createHash("sha256").update(buf).digest("hex");
}

// ---------------------------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------------------------

/** The shared/upstream directory: $ALTOSTACK_SHARED_DIR/upstream (or $ALTOSTACK_SHARED_DIR if it is that
 * directory itself), else <repoRoot>/../shared/upstream. Fails with a clear message if it is missing. */
export function resolveUpstreamDir(env = process.env, repoRoot = REPO_ROOT) {
  const configured = env.ALTOSTACK_SHARED_DIR;
  const candidates = configured
    ? [path.join(configured, "upstream"), configured]
    : [path.resolve(repoRoot, "..", "shared", "upstream")];
  for (const dir of candidates) {
    if (existsSync(path.join(dir, "README.md")) && existsSync(path.join(dir, "kubevirt", "swagger.json"))) return dir;
  }
  const where = configured
    ? `ALTOSTACK_SHARED_DIR=${configured} (looked in ${candidates.join(" and ")})`
    : `${candidates[0]} (set ALTOSTACK_SHARED_DIR to the "shared" directory to use another place)`;
  throw new Error(
    `${SCRIPT}: upstream specs not found at ${where}. They are needed only to regenerate ${OUT_DIR_REL}/, ` +
      `which is committed; builds and tests do not need them.`,
  );
}

async function toTypeScript(document) {
  const ast = await openapiTS(document, OPENAPI_TS_OPTIONS);
  return astToString(ast);
}

function header(lines) {
  return lines.map((l) => `// ${l}`.trimEnd()).join("\n") + "\n\n";
}

/** Builds every output file in memory: Map of file name -> contents. Deterministic. */
export async function generate(upstreamDir) {
  const readme = readFileSync(path.join(upstreamDir, "README.md"), "utf8");
  const readSource = (rel) => {
    const buf = readFileSync(path.join(upstreamDir, rel));
    return { rel, buf, sha: sha256(buf).slice(0, 16), ...upstreamProvenance(readme, rel) };
  };
  const describe = (sources) => {
    const groups = new Map();
    for (const s of sources) {
      const key = `${s.repo} ${s.tag}`;
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    return [...groups.entries()].map(([key, ss]) => `${ss.map((s) => `shared/upstream/${s.rel}`).join(", ")} (${key})`);
  };

  const metaSrc = readSource(META_SOURCE.file);
  const meta = metaFromSwagger(JSON.parse(metaSrc.buf.toString("utf8")), META_SOURCE.typeMetaFrom);

  const files = new Map();
  const schemaNames = new Map(); // module -> Set of schema names, to check the aliases
  const report = [];
  for (const target of TARGETS) {
    const module = target.out.replace(/\.ts$/, "");
    let document;
    let sources;
    const notes = [];
    if (target.type === "swagger") {
      const src = readSource(target.file);
      sources = [src];
      const swagger = JSON.parse(src.buf.toString("utf8"));
      const opRoots = operationSchemaRoots(swagger, target.subresourcePaths ?? []);
      const roots = sorted(new Set([...target.roots, ...opRoots]));
      const converted = swagger2ToOpenAPI3(swagger, { title: module, roots });
      document = converted.document;
      const total = Object.keys(swagger.definitions).length;
      notes.push(`Roots: ${target.roots.join(", ")}.`);
      if (opRoots.length > 0) {
        notes.push(`Plus the request/response bodies of ${target.subresourcePaths.join(", ")}: ${opRoots.join(", ")}.`);
      }
      notes.push(`Kept the ${converted.included.length} of ${total} definitions reachable from these.`);
      notes.push(
        converted.dangling.length > 0
          ? `Dangling refs (typed as unknown): ${converted.dangling.join(", ")}.`
          : "No dangling refs.",
      );
      report.push({ out: target.out, kept: converted.included.length, total, roots, dangling: converted.dangling });
    } else {
      sources = target.files.map(readSource);
      const crds = [];
      const repairs = [];
      for (const s of sources) {
        const parsed = parseCrds(s.buf.toString("utf8"), s.rel);
        crds.push(...parsed.crds);
        if (parsed.repairedLines.length > 0) repairs.push(`${path.basename(s.rel)} lines ${parsed.repairedLines.join(", ")}`);
      }
      const converted = crdsToOpenAPI3(crds, target.kinds, meta, { title: module });
      document = converted.document;
      notes.push(`Schemas from the CRDs' served versions: ${converted.included.join(", ")}.`);
      if (repairs.length > 0) {
        notes.push(`Re-indented under-indented quoted-scalar continuation lines before parsing (${repairs.join("; ")}):`);
        notes.push("  go-yaml and PyYAML accept them, the yaml package does not; the parsed values are unchanged.");
      }
      notes.push(`metadata is ${OBJECT_META}, taken with its dependencies from:`);
      notes.push(`  ${describe([metaSrc])[0]}.`);
      report.push({ out: target.out, kept: Object.keys(document.components.schemas).length, roots: converted.included });
    }
    schemaNames.set(module, new Set(Object.keys(document.components.schemas)));
    const body = await toTypeScript(document);
    const described = describe(sources);
    const headerLines = [
      `Generated by ${SCRIPT} from ${described[0]}${described.length > 1 ? "," : " — do not edit."}`,
      ...described.slice(1).map((d, i, a) => `  ${d}${i === a.length - 1 ? " — do not edit." : ","}`),
      `Input sha256[:16]: ${[...new Set([...sources, ...(target.type === "crd" ? [metaSrc] : [])])].map((s) => `${path.basename(s.rel)} ${s.sha}`).join(", ")}.`,
      ...notes,
      "Regenerate with `make generate`.",
    ];
    files.set(target.out, header(headerLines) + body);
  }
  files.set("index.ts", indexFile(schemaNames));
  return { files, report };
}

/** index.ts: namespace re-exports of every generated module plus the friendly aliases. */
export function indexFile(schemaNames) {
  const modules = TARGETS.map((t) => t.out.replace(/\.ts$/, ""));
  const lines = [
    `// Generated by ${SCRIPT} — do not edit.`,
    "// Friendly names for the upstream types in this directory. Each module's full set of schemas is",
    "// `<module>.components[\"schemas\"][\"<name>\"]`.",
    "",
    ...modules.map((m) => `import type * as ${m} from "./${m}.js";`),
    "",
    `export type { ${modules.join(", ")} };`,
    "",
  ];
  const declared = new Set();
  for (const [alias, module, target] of ALIASES) {
    if (declared.has(alias)) throw new Error(`alias ${alias} declared twice`);
    if (typeof target === "string") {
      if (!schemaNames.get(module)?.has(target)) throw new Error(`alias ${alias}: ${module} has no schema "${target}"`);
      lines.push(`export type ${alias} = ${module}.components["schemas"][${JSON.stringify(target)}];`);
    } else {
      lines.push(`export type ${alias} = ${target.expr};`);
    }
    declared.add(alias);
  }
  return lines.join("\n") + "\n";
}

async function main() {
  const started = performance.now();
  let upstreamDir;
  try {
    upstreamDir = resolveUpstreamDir();
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
  const { files, report } = await generate(upstreamDir);
  const outDir = path.join(REPO_ROOT, OUT_DIR_REL);
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of files) writeFileSync(path.join(outDir, name), text);
  for (const r of report) {
    const size = statSync(path.join(outDir, r.out)).size;
    const kept = r.total ? `${r.kept}/${r.total} definitions` : `${r.kept} schemas`;
    console.log(`${OUT_DIR_REL}/${r.out}: ${size} bytes, ${kept}${r.dangling?.length ? `, ${r.dangling.length} dangling refs` : ""}`);
  }
  console.log(`${OUT_DIR_REL}/index.ts: ${statSync(path.join(outDir, "index.ts")).size} bytes`);
  console.log(`generated in ${Math.round(performance.now() - started)} ms`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
