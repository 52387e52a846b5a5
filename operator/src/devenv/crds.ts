// Installs CRDs into a development/test control plane: ours from crds/, and the real upstream ones
// (KubeVirt, CDI, Multus, snapshotter, ...) from ../shared/upstream so the apiserver validates every
// object the operator writes against the real schemas. Without that directory, permissive stand-ins
// keep the operator working but validate nothing.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { stringify } from "yaml";
import { z } from "zod";

let cachedRepoRoot: string | undefined;

/** The repository root: the nearest directory above this file that contains package.json. */
export function repoRoot(): string {
  if (cachedRepoRoot !== undefined) return cachedRepoRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, "package.json"))) {
      cachedRepoRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * `<shared>/upstream`, where `<shared>` is $ALTOSTACK_SHARED_DIR or `<repoRoot>/../shared` (in CI the repo is
 * cloned with `shared` beside it). Undefined when the directory does not exist; an explicitly set
 * ALTOSTACK_SHARED_DIR that does not hold `upstream/` is an error rather than a silent fallback.
 */
export function findSharedUpstreamDir(root: string): string | undefined {
  const fromEnv = process.env.ALTOSTACK_SHARED_DIR;
  if (fromEnv !== undefined && fromEnv !== "") {
    const dir = path.resolve(fromEnv, "upstream");
    if (!existsSync(dir)) throw new Error(`ALTOSTACK_SHARED_DIR=${fromEnv} is set but ${dir} does not exist`);
    return dir;
  }
  const dir = path.resolve(root, "..", "shared", "upstream");
  return existsSync(dir) ? dir : undefined;
}

export interface InstallCrdsOptions {
  kubeconfigPath: string;
  kubectl: string;
  /** Our generated CRDs (`<repo>/crds`); may be absent or empty. */
  ourCrdsDir: string;
  /** `<shared>/upstream`, or undefined to install permissive stand-ins instead. */
  upstreamDir: string | undefined;
  /**
   * Apply only our CRDs: no upstream CRDs and no stand-ins, for a real cluster that already runs
   * KubeVirt, CDI and friends (their operators own those CRDs).
   */
  onlyOurs?: boolean;
  log: Logger;
}

export interface InstallCrdsResult {
  /** Names of every CRD this call installed and saw Established, stand-ins included. */
  installed: string[];
  /** The subset of `installed` that are permissive stand-ins for missing upstream CRDs. */
  standIns: string[];
}

export async function installCrds(opts: InstallCrdsOptions): Promise<InstallCrdsResult> {
  const { log } = opts;
  const ours = await crdFilesUnder(opts.ourCrdsDir);
  if (ours.length === 0) log.info({ dir: opts.ourCrdsDir }, "no CRDs of our own found (yet); skipping them");

  let upstream: string[] = [];
  const standIns: string[] = [];
  const wantStandIns = opts.upstreamDir === undefined && opts.onlyOurs !== true;
  if (opts.onlyOurs === true) {
    log.info("installing only our own CRDs (onlyOurs)");
  } else if (opts.upstreamDir !== undefined) {
    upstream = await crdFilesUnder(opts.upstreamDir);
    if (upstream.length === 0) throw new Error(`no CRD YAML found under ${opts.upstreamDir}`);
  } else {
    log.warn(
      "!!! ../shared/upstream was NOT found (set ALTOSTACK_SHARED_DIR to the directory holding upstream/). " +
        "Installing PERMISSIVE STAND-IN CRDs for KubeVirt/CDI/Multus/snapshot kinds: the apiserver will accept " +
        "any object of these kinds, so schema mistakes in what the operator writes will go unnoticed. !!!",
    );
  }

  const started = Date.now();
  const installed = await applyFiles(opts, [...ours, ...upstream]);
  if (wantStandIns) {
    const manifest = standInCrds().map((crd) => stringify(crd)).join("---\n");
    const result = await kubectlApply(opts, ["-f", "-"], manifest);
    if (result.code !== 0) throw new Error(`the apiserver rejected the stand-in CRDs: ${result.stderr.trim()}`);
    standIns.push(...crdNamesApplied(result.stdout, opts.log));
    installed.push(...standIns);
  }
  installed.sort();
  await waitEstablished(opts, installed);
  log.info(
    { crds: installed.length, standIns: standIns.length, ms: Date.now() - started },
    "CRDs installed and Established",
  );
  return { installed, standIns };
}

/** Every *.yaml / *.yml file under dir (recursively) that declares a CRD. */
async function crdFilesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const candidates = entries
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  const files: string[] = [];
  for (const file of candidates) {
    // A textual check, not a YAML parse: kubectl (go-yaml) is the parser that counts, and it accepts
    // upstream files a strict YAML 1.2 parser rejects (e.g. multi-networkpolicy/scheme.yml).
    if (/^kind:\s*CustomResourceDefinition\s*$/m.test(await readFile(file, "utf8"))) files.push(file);
  }
  return files;
}

/** Applies all files with one kubectl run; returns the names of the CRDs applied. */
async function applyFiles(opts: InstallCrdsOptions, files: string[]): Promise<string[]> {
  if (files.length === 0) return [];
  // One run for all: each kubectl run re-discovers the API, and every new CRD invalidates that cache.
  const result = await kubectlApply(opts, files.flatMap((file) => ["-f", file]));
  if (result.code === 0) return crdNamesApplied(result.stdout, opts.log);

  // kubectl's errors do not say which file an object came from: apply one by one to find out.
  const failures: string[] = [];
  for (const file of files) {
    const single = await kubectlApply(opts, ["-f", file]);
    if (single.code !== 0) failures.push(`${file}:\n${single.stderr.trim()}`);
  }
  if (failures.length === 0) failures.push(result.stderr.trim());
  throw new Error(`the apiserver rejected CRDs:\n${failures.join("\n\n")}`);
}

function kubectlApply(opts: InstallCrdsOptions, fileArgs: string[], stdin?: string): Promise<RunResult> {
  // Server-side: several KubeVirt CRDs exceed the 256 KiB last-applied annotation of client-side apply.
  return run(
    opts.kubectl,
    [
      "--kubeconfig",
      opts.kubeconfigPath,
      "apply",
      "--server-side",
      "--force-conflicts",
      "--field-manager=altostack-devenv",
      "--output=name",
      ...fileArgs,
    ],
    stdin,
  );
}

function crdNamesApplied(kubectlOutput: string, log: Logger): string[] {
  const applied = kubectlOutput.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  const crdPrefix = "customresourcedefinition.apiextensions.k8s.io/";
  const others = applied.filter((name) => !name.startsWith(crdPrefix));
  if (others.length > 0) log.warn({ objects: others }, "applied objects that are not CRDs");
  return applied.filter((name) => name.startsWith(crdPrefix)).map((name) => name.slice(crdPrefix.length));
}

const crdListSchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string() }),
      status: z
        .object({
          conditions: z
            .array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() }))
            .nullish(),
        })
        .nullish(),
    }),
  ),
});

async function waitEstablished(opts: InstallCrdsOptions, names: string[], timeoutMs = 60_000): Promise<void> {
  if (names.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await run(opts.kubectl, ["--kubeconfig", opts.kubeconfigPath, "get", "crd", "-o", "json"]);
    if (result.code !== 0) throw new Error(`kubectl get crd failed: ${result.stderr.trim()}`);
    const list = crdListSchema.parse(JSON.parse(result.stdout));
    const byName = new Map(list.items.map((crd) => [crd.metadata.name, crd.status?.conditions ?? []]));
    const pending = names.filter(
      (name) => !(byName.get(name) ?? []).some((c) => c.type === "Established" && c.status === "True"),
    );
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      const details = pending.map((name) => {
        const conditions = byName.get(name);
        if (conditions === undefined) return `${name}: not found`;
        const notTrue = conditions.filter((c) => c.status !== "True");
        return `${name}: ${notTrue.map((c) => `${c.type}=${c.status} ${c.reason ?? ""} ${c.message ?? ""}`).join("; ")}`;
      });
      throw new Error(`CRDs not Established after ${timeoutMs} ms:\n${details.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// --- stand-ins for upstream CRDs ----------------------------------------------------------------------

interface StandInKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
  shortNames: string[];
  scope: "Namespaced" | "Cluster";
  /** Mirrors upstream: only some of these kinds have a status subresource. */
  statusSubresource: boolean;
}

/** The upstream kinds the operator writes (names, scope and subresources as in the real CRDs). */
export const STAND_IN_KINDS: readonly StandInKind[] = [
  { group: "kubevirt.io", version: "v1", kind: "VirtualMachine", plural: "virtualmachines", shortNames: ["vm", "vms"], scope: "Namespaced", statusSubresource: true },
  { group: "kubevirt.io", version: "v1", kind: "VirtualMachineInstance", plural: "virtualmachineinstances", shortNames: ["vmi", "vmis"], scope: "Namespaced", statusSubresource: false },
  { group: "kubevirt.io", version: "v1", kind: "VirtualMachineInstanceMigration", plural: "virtualmachineinstancemigrations", shortNames: ["vmim", "vmims"], scope: "Namespaced", statusSubresource: true },
  { group: "instancetype.kubevirt.io", version: "v1beta1", kind: "VirtualMachineClusterInstancetype", plural: "virtualmachineclusterinstancetypes", shortNames: ["vmclusterinstancetype", "vmcf"], scope: "Cluster", statusSubresource: false },
  { group: "export.kubevirt.io", version: "v1beta1", kind: "VirtualMachineExport", plural: "virtualmachineexports", shortNames: ["vmexport", "vmexports"], scope: "Namespaced", statusSubresource: true },
  { group: "cdi.kubevirt.io", version: "v1beta1", kind: "DataVolume", plural: "datavolumes", shortNames: ["dv", "dvs"], scope: "Namespaced", statusSubresource: true },
  { group: "cdi.kubevirt.io", version: "v1beta1", kind: "DataSource", plural: "datasources", shortNames: ["das"], scope: "Namespaced", statusSubresource: false },
  { group: "k8s.cni.cncf.io", version: "v1", kind: "NetworkAttachmentDefinition", plural: "network-attachment-definitions", shortNames: ["net-attach-def"], scope: "Namespaced", statusSubresource: false },
  { group: "k8s.cni.cncf.io", version: "v1beta1", kind: "MultiNetworkPolicy", plural: "multi-networkpolicies", shortNames: ["multi-policy"], scope: "Namespaced", statusSubresource: false },
  { group: "snapshot.storage.k8s.io", version: "v1", kind: "VolumeSnapshot", plural: "volumesnapshots", shortNames: ["vs"], scope: "Namespaced", statusSubresource: true },
  { group: "snapshot.storage.k8s.io", version: "v1", kind: "VolumeSnapshotClass", plural: "volumesnapshotclasses", shortNames: ["vsclass"], scope: "Cluster", statusSubresource: false },
  { group: "snapshot.storage.k8s.io", version: "v1", kind: "VolumeSnapshotContent", plural: "volumesnapshotcontents", shortNames: ["vsc"], scope: "Cluster", statusSubresource: true },
];

const SNAPSHOTTER_API_APPROVAL = "https://github.com/kubernetes-csi/external-snapshotter/pull/814";

function standInName(kind: StandInKind): string {
  return `${kind.plural}.${kind.group}`;
}

function standInCrds(): Record<string, unknown>[] {
  return STAND_IN_KINDS.map((k) => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: standInName(k),
      labels: { "altostack.io/stand-in": "true" },
      annotations: {
        "altostack.io/stand-in": "permissive stand-in; the real CRD was not available",
        // *.k8s.io groups are protected: the apiserver refuses their CRDs without this (same value as upstream).
        ...(k.group.endsWith(".k8s.io") ? { "api-approved.kubernetes.io": SNAPSHOTTER_API_APPROVAL } : {}),
      },
    },
    spec: {
      group: k.group,
      scope: k.scope,
      names: {
        kind: k.kind,
        listKind: `${k.kind}List`,
        plural: k.plural,
        singular: k.kind.toLowerCase(),
        shortNames: k.shortNames,
      },
      versions: [
        {
          name: k.version,
          served: true,
          storage: true,
          // Preserve everything from the root: some kinds (VolumeSnapshotClass) have top-level fields.
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          ...(k.statusSubresource ? { subresources: { status: {} } } : {}),
        },
      ],
    },
  }));
}

// --- small process helpers ------------------------------------------------------------------------------

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], stdin?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== "number") {
        reject(new Error(`could not run ${command}: ${error.message}`));
        return;
      }
      resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
    });
    child.stdin?.end(stdin ?? "");
  });
}
