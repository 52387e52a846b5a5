#!/usr/bin/env node
// Turns `kubectl get -o yaml` (one object or a List) into manifests fit to commit to a GitOps repository:
//   kubectl get networks,servers -n project-demo -o yaml | node hack/kubectl-neat.mjs > demo.yaml
// Kept: apiVersion, kind, metadata.name/namespace/labels/annotations, spec (and data/other top-level fields).
// Dropped: status and what the apiserver or a tool sets (uid, resourceVersion, generation, timestamps,
// managedFields, finalizers, ownerReferences, kubectl's last-applied annotation, applyset membership labels).
// Objects with a controller ownerReference (a Port the operator made for a server) are left out: their owner
// makes them, and a committed copy would fight it. Each one left out is named on stderr.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseAllDocuments, stringify } from "yaml";

const SERVER_SET_METADATA = new Set([
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "finalizers",
  "ownerReferences",
  "selfLink",
  "generateName",
]);
const TOOLING_ANNOTATIONS = ["kubectl.kubernetes.io/last-applied-configuration"];
const TOOLING_LABEL_PREFIXES = ["applyset.kubernetes.io/"];

/** @param {Record<string, string> | undefined} map @param {(key: string) => boolean} drop */
function without(map, drop) {
  if (map === undefined || map === null) return undefined;
  const kept = Object.fromEntries(Object.entries(map).filter(([key]) => !drop(key)));
  return Object.keys(kept).length === 0 ? undefined : kept;
}

/** One object, cleaned; undefined when it should not be committed (it has a controlling owner). */
export function neatObject(object) {
  const metadata = object.metadata ?? {};
  if ((metadata.ownerReferences ?? []).some((ref) => ref.controller === true)) return undefined;
  const clean = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (!SERVER_SET_METADATA.has(key)) clean[key] = value;
  }
  const labels = without(metadata.labels, (key) => TOOLING_LABEL_PREFIXES.some((prefix) => key.startsWith(prefix)));
  const annotations = without(metadata.annotations, (key) => TOOLING_ANNOTATIONS.includes(key));
  if (labels === undefined) delete clean.labels;
  else clean.labels = labels;
  if (annotations === undefined) delete clean.annotations;
  else clean.annotations = annotations;
  const { apiVersion, kind, metadata: _metadata, status: _status, ...rest } = object;
  return { apiVersion, kind, metadata: clean, ...rest };
}

/**
 * Every object of a `kubectl get -o yaml|json` output (Lists flattened), cleaned, as multi-document YAML.
 * Returns the YAML and the names of the objects left out.
 */
export function neat(text) {
  const objects = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`not YAML: ${document.errors[0].message}`);
    const value = document.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || typeof value.kind !== "string") throw new Error("expected Kubernetes objects (kind missing)");
    objects.push(...(value.kind.endsWith("List") && Array.isArray(value.items) ? value.items : [value]));
  }
  const kept = [];
  const skipped = [];
  for (const object of objects) {
    const clean = neatObject(object);
    const name = `${object.kind}/${object.metadata?.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata?.name ?? ""}`;
    if (clean === undefined) skipped.push(name);
    else kept.push(clean);
  }
  return { yaml: kept.map((object) => stringify(object)).join("---\n"), skipped };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    const { yaml, skipped } = neat(readFileSync(0, "utf8"));
    for (const name of skipped) process.stderr.write(`kubectl-neat: left out ${name} (it has a controlling owner that makes it)\n`);
    process.stdout.write(yaml);
  } catch (error) {
    process.stderr.write(`kubectl-neat: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
