// The upstream CRDs (KubeVirt, CDI, Multus, snapshotter) on a real kube-apiserver: they install, and the
// apiserver then validates objects against the real schemas, including CEL rules.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { z } from "zod";
import { installCrds } from "../src/devenv/crds.js";

const kubeconfigPath = inject("kubeconfigPath");
const kubectlPath = inject("kubectl");
const upstreamInstalled = inject("upstreamInstalled");
const installedCrds = inject("installedCrds");

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], stdin?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubectlPath,
      ["--kubeconfig", kubeconfigPath, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          reject(new Error(`could not run ${kubectlPath}: ${error.message}`));
          return;
        }
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? "");
  });
}

/** Server-side dry-run create: the object goes through the real validation but is not stored. */
function dryRunCreate(object: Record<string, unknown>): Promise<KubectlResult> {
  return kubectl(["create", "--dry-run=server", "-o", "json", "-f", "-"], stringify(object));
}

const crdListSchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string() }),
      status: z.object({ conditions: z.array(z.object({ type: z.string(), status: z.string() })).nullish() }).nullish(),
    }),
  ),
});

/** The kinds the operator writes must exist, real or stand-in. */
const REQUIRED_CRDS = [
  "virtualmachines.kubevirt.io",
  "virtualmachineinstances.kubevirt.io",
  "virtualmachineinstancemigrations.kubevirt.io",
  "virtualmachineclusterinstancetypes.instancetype.kubevirt.io",
  "datavolumes.cdi.kubevirt.io",
  "datasources.cdi.kubevirt.io",
  "network-attachment-definitions.k8s.cni.cncf.io",
  "multi-networkpolicies.k8s.cni.cncf.io",
  "volumesnapshots.snapshot.storage.k8s.io",
  "volumesnapshotclasses.snapshot.storage.k8s.io",
  "volumesnapshotcontents.snapshot.storage.k8s.io",
];

function minimalVirtualMachine(name: string, bootOrder: unknown): Record<string, unknown> {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name, namespace: "default" },
    spec: {
      runStrategy: "Halted",
      template: {
        spec: {
          domain: {
            devices: { disks: [{ name: "root", bootOrder, disk: { bus: "virtio" } }] },
            resources: { requests: { memory: "1Gi" } },
          },
          volumes: [{ name: "root", containerDisk: { image: "quay.io/containerdisks/fedora:41" } }],
        },
      },
    },
  };
}

describe("upstream CRDs on a real kube-apiserver", () => {
  it("has every installed CRD Established, including the kinds the operator writes", async () => {
    expect(installedCrds).toEqual(expect.arrayContaining(REQUIRED_CRDS));

    const result = await kubectl(["get", "crd", "-o", "json"]);
    expect(result.stderr).toBe("");
    const established = new Set(
      crdListSchema
        .parse(JSON.parse(result.stdout))
        .items.filter((crd) => (crd.status?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True"))
        .map((crd) => crd.metadata.name),
    );
    expect(installedCrds.filter((name) => !established.has(name))).toEqual([]);
  });

  it("serves the upstream kinds through discovery", async () => {
    const result = await kubectl(["api-resources", "--api-group=kubevirt.io", "-o", "name"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split("\n")).toEqual(
      expect.arrayContaining(["virtualmachines.kubevirt.io", "virtualmachineinstances.kubevirt.io"]),
    );
  });

  describe.runIf(upstreamInstalled)("with the real upstream schemas", () => {
    it("accepts a valid minimal VirtualMachine", async () => {
      const result = await dryRunCreate(minimalVirtualMachine("valid-vm", 1));
      expect(result.code, result.stderr).toBe(0);
      const created = z
        .object({ kind: z.literal("VirtualMachine"), metadata: z.object({ uid: z.string() }), spec: z.unknown() })
        .parse(JSON.parse(result.stdout));
      expect(created.spec).toMatchObject({ template: { spec: { domain: { devices: { disks: [{ bootOrder: 1 }] } } } } });
    });

    it("rejects a VirtualMachine whose disk bootOrder is not an integer, naming the field", async () => {
      const result = await dryRunCreate(minimalVirtualMachine("invalid-vm", "first"));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("spec.template.spec.domain.devices.disks[0].bootOrder");
      expect(result.stderr).toMatch(/must be of type integer/);
    });

    it("rejects a VolumeSnapshot with both sources set, quoting the CEL rule's message", async () => {
      const result = await dryRunCreate({
        apiVersion: "snapshot.storage.k8s.io/v1",
        kind: "VolumeSnapshot",
        metadata: { name: "both-sources", namespace: "default" },
        spec: { source: { persistentVolumeClaimName: "data", volumeSnapshotContentName: "content" } },
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("spec.source");
      expect(result.stderr).toContain(
        "exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set",
      );
    });

    it("accepts a VolumeSnapshot with exactly one source", async () => {
      const result = await dryRunCreate({
        apiVersion: "snapshot.storage.k8s.io/v1",
        kind: "VolumeSnapshot",
        metadata: { name: "one-source", namespace: "default" },
        spec: { source: { persistentVolumeClaimName: "data" } },
      });
      expect(result.code, result.stderr).toBe(0);
    });
  });

  it("names the file and quotes the apiserver when a CRD is rejected", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "altostack-bad-crd-"));
    try {
      const file = path.join(dir, "bad.yaml");
      // Rejected by the apiserver: metadata.name must be <plural>.<group>.
      await writeFile(
        file,
        stringify({
          apiVersion: "apiextensions.k8s.io/v1",
          kind: "CustomResourceDefinition",
          metadata: { name: "wrongname.example.com" },
          spec: {
            group: "example.com",
            scope: "Namespaced",
            names: { kind: "Widget", plural: "widgets", singular: "widget", listKind: "WidgetList" },
            versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } }],
          },
        }),
      );
      const install = installCrds({
        kubeconfigPath,
        kubectl: kubectlPath,
        ourCrdsDir: path.join(dir, "absent"),
        // As "upstream", so no stand-ins are applied over the real CRDs of this shared cluster.
        upstreamDir: dir,
        log: pino({ level: "silent" }),
      });
      await expect(install).rejects.toThrow(file);
      await expect(install).rejects.toThrow(/metadata\.name: Invalid value: "wrongname\.example\.com": must be spec\.names\.plural\+"\."\+spec\.group/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
