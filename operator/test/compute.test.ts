// Servers on the real apiserver with the real KubeVirt/CDI CRDs and the simulator: a server reaches ACTIVE
// on a VirtualMachine the KubeVirt schema accepts, power states move it through Nova's states, deletion
// takes the VM and its disks, and failures (image import, quota, visibility, bad references) end in ERROR
// with Nova's fault and nothing created.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageKind, keypairKind, projectKind, serverKind, type Image, type Keypair, type Server } from "../src/api/index.js";
import { Builtin, Upstream, type KubeObject } from "../src/kube/index.js";
import type { DV, VM, VMI } from "../src/simulator/types.js";
import {
  activeImage,
  createFlavor,
  createKeypair,
  getServer,
  imageObject,
  readyProject,
  recordStatuses,
  serverObject,
  serverStatus,
  startComputeEnv,
  type ComputeEnv,
} from "./compute-fixtures.js";
import { conditionOf, eventually, testClient, unique } from "./helpers.js";

const client = testClient();
let env: ComputeEnv;
let namespace: string;
let flavor: string;
let image: string;

beforeAll(async () => {
  env = await startComputeEnv(client);
  ({ namespace } = await readyProject(client, "compute"));
  flavor = await createFlavor(client, { vcpus: 2, ram: 1024, disk: 2, extraSpecs: { "hw:cpu_sockets": "1" } });
  image = await activeImage(client, namespace, { properties: { hw_firmware_type: "uefi" } });
});
afterAll(async () => {
  await env.stop();
});

describe("a server", () => {
  it("reaches ACTIVE on a VirtualMachine the KubeVirt schema accepted", async () => {
    const key = await createKeypair(client, namespace);
    const name = unique("web");
    const transitions = await recordStatuses(client, namespace, name);
    await client.create(serverKind, serverObject(namespace, name, { flavorRef: flavor, imageRef: image, keypairRef: key, userData: "#cloud-config\n{}\n" }));
    const server = await serverStatus(client, namespace, name, "ACTIVE");
    await transitions.stop("ACTIVE");

    expect(transitions.seen[0]).toBe("BUILD");
    expect(conditionOf(server)).toMatchObject({ status: "True", reason: "Reconciled" });
    expect(server.status).toMatchObject({ vmState: "active", powerState: 1, virtualMachine: name, flavor: { name: flavor, vcpus: 2, ram: 1024 } });
    expect(server.status?.host).toMatch(/^sim-node-/);
    expect(server.status?.launchedAt).toBeDefined();
    expect(server.status?.addresses?.["pod-network"]?.[0]).toMatchObject({ version: 4, type: "fixed" });
    expect(server.status?.networksSummary).toMatch(/^pod-network=10\.244\./);
    expect(server.status?.console?.vnc).toBe(`/apis/subresources.kubevirt.io/v1/namespaces/${namespace}/virtualmachineinstances/${name}/vnc`);

    // The VM went through the real CRD schema; the VMI the simulator made from it runs the flavor.
    const vm = await client.get<VM>(Upstream.VirtualMachine, name, namespace);
    expect(vm?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Server", name, controller: true });
    const domain = vm?.spec.template.spec?.domain;
    expect(domain?.cpu).toMatchObject({ sockets: 1, cores: 2, threads: 1 });
    expect(domain?.firmware).toEqual({ uuid: server.metadata.uid, bootloader: { efi: { secureBoot: false } } });
    expect(vm?.spec.template.spec?.accessCredentials?.[0]?.sshPublicKey?.source.secret?.secretName).toBe(`${name}-ssh`);
    const secret = await client.get<KubeObject & { data?: Record<string, string> }>(Builtin.Secret, `${name}-ssh`, namespace);
    expect(Buffer.from(secret?.data?.key ?? "", "base64").toString()).toContain("ssh-ed25519");
    const vmi = await client.get<VMI>(Upstream.VirtualMachineInstance, name, namespace);
    expect(vmi?.spec.domain.memory?.guest).toBe("1024Mi");
    const rootDisk = await client.get<DV>(Upstream.DataVolume, `${name}-root`, namespace);
    expect(rootDisk?.spec.sourceRef).toEqual({ kind: "DataSource", name: `${image}.image`, namespace });
    expect(rootDisk?.spec.storage?.resources?.requests?.storage).toBe("2Gi");

    const keypair = await client.get<Keypair>(keypairKind, key, namespace);
    expect(keypair?.status?.fingerprint).toBe("a4:67:95:d6:be:35:43:6a:c9:02:a1:d7:2c:15:55:83");
  });

  it("moves through Nova's power states as spec.powerState changes", async () => {
    const name = unique("power");
    await client.create(serverKind, serverObject(namespace, name, { flavorRef: flavor, imageRef: image }));
    await serverStatus(client, namespace, name, "ACTIVE");
    const setPower = (powerState: Server["spec"]["powerState"]) =>
      client.patch(serverKind, name, namespace, { spec: { powerState } }, "merge");

    await setPower("Shutoff");
    expect((await serverStatus(client, namespace, name, "SHUTOFF")).status).toMatchObject({ vmState: "stopped", powerState: 4 });
    expect(await client.get(Upstream.VirtualMachineInstance, name, namespace)).toBeUndefined();

    await setPower("Active");
    await serverStatus(client, namespace, name, "ACTIVE");

    await setPower("Paused");
    expect((await serverStatus(client, namespace, name, "PAUSED")).status).toMatchObject({ vmState: "paused", powerState: 3 });
    const paused = await client.get<VMI>(Upstream.VirtualMachineInstance, name, namespace);
    expect(paused?.status?.conditions?.find((c) => c.type === "Paused")?.status).toBe("True");

    await setPower("Active");
    await serverStatus(client, namespace, name, "ACTIVE");

    // KubeVirt has no suspend-to-disk: the guest is paused and the server reports SUSPENDED.
    await setPower("Suspended");
    expect((await serverStatus(client, namespace, name, "SUSPENDED")).status).toMatchObject({ vmState: "suspended", powerState: 7 });
    await setPower("Active");
    await serverStatus(client, namespace, name, "ACTIVE");

    await setPower("Shelved");
    const shelved = await serverStatus(client, namespace, name, "SHELVED_OFFLOADED");
    expect(shelved.status?.host).toBeUndefined();
    await setPower("Active");
    await serverStatus(client, namespace, name, "ACTIVE");
  });

  it("refuses power changes while locked", async () => {
    const name = unique("locked");
    await client.create(serverKind, serverObject(namespace, name, { flavorRef: flavor, imageRef: image, locked: true }));
    const refused = await client
      .patch(serverKind, name, namespace, { spec: { powerState: "Shutoff" } }, "merge")
      .catch((e: unknown) => e);
    expect(String(refused)).toContain("the server is locked");
    await client.patch(serverKind, name, namespace, { spec: { locked: false, powerState: "Shutoff" } }, "merge");
    await serverStatus(client, namespace, name, "SHUTOFF");
  });

  it("takes its VirtualMachine and disks with it when deleted", async () => {
    const name = unique("gone");
    await client.create(serverKind, serverObject(namespace, name, { flavorRef: flavor, imageRef: image }));
    await serverStatus(client, namespace, name, "ACTIVE");
    await client.delete(serverKind, name, namespace);
    await eventually("server gone", async () => (await getServer(client, namespace, name)) === undefined);
    await eventually("VM, VMI, root disk and its PVC gone", async () => {
      const left = await Promise.all([
        client.get(Upstream.VirtualMachine, name, namespace),
        client.get(Upstream.VirtualMachineInstance, name, namespace),
        client.get(Upstream.DataVolume, `${name}-root`, namespace),
        client.get(Builtin.PersistentVolumeClaim, `${name}-root`, namespace),
      ]);
      return left.every((o) => o === undefined);
    });
  });
});

describe("a server that cannot be built", () => {
  it("is ERROR when its image import fails, and the image is killed", async () => {
    const badImage = unique("broken");
    await client.create(imageKind, imageObject(namespace, badImage, { source: { http: { url: "http://images.invalid/cirros.img" } } }));
    const name = unique("bad-image");
    await client.create(serverKind, serverObject(namespace, name, { flavorRef: flavor, imageRef: badImage }));
    const server = await serverStatus(client, namespace, name, "ERROR");
    expect(server.status?.fault?.code).toBe(400);
    expect(server.status?.fault?.message).toMatch(new RegExp(`Image ${badImage} is not active \\(killed\\).*no such host`));
    const killed = await client.get<Image>(imageKind, badImage, namespace);
    expect(killed?.status?.status).toBe("killed");
    expect(conditionOf(killed)).toMatchObject({ status: "False", reason: "ImportFailed" });
    expect(await client.get(Upstream.VirtualMachine, name, namespace)).toBeUndefined();
  });

  it.each([
    ["an unknown flavor", { flavorRef: "no-such-flavor" }, 400, /Flavor no-such-flavor could not be found/],
    ["an unknown keypair", { keypairRef: "nokey" }, 400, /Invalid key_name provided/],
    ["a missing boot volume", { imageRef: undefined, bootVolume: { volumeRef: "vol" } }, 400, /Block Device Mapping is Invalid: failed to get volume vol\./],
  ])("is ERROR with nothing created for %s", async (_why, over, code, message) => {
    const name = unique("fault");
    await client.create(serverKind, serverObject(namespace, name, { flavorRef: flavor, imageRef: image, ...over }));
    const server = await serverStatus(client, namespace, name, "ERROR");
    expect(server.status?.fault?.code).toBe(code);
    expect(server.status?.fault?.message).toMatch(message);
    expect(conditionOf(server)?.status).toBe("False");
    expect(await client.get(Upstream.VirtualMachine, name, namespace)).toBeUndefined();
  });

  it("is refused with Nova's overLimit message beyond the cores quota, and builds once there is room", async () => {
    const { namespace: ns, name: project } = await readyProject(client, "quota", { quotas: { cores: 3 } });
    const img = await activeImage(client, ns);
    const first = unique("q1");
    await client.create(serverKind, serverObject(ns, first, { flavorRef: flavor, imageRef: img }));
    await serverStatus(client, ns, first, "ACTIVE");
    const second = unique("q2");
    await client.create(serverKind, serverObject(ns, second, { flavorRef: flavor, imageRef: img }));
    const refused = await serverStatus(client, ns, second, "ERROR");
    expect(refused.status?.fault).toMatchObject({ code: 403, message: "Quota exceeded for cores: Requested 2, but already used 2 of 3 cores" });
    expect(conditionOf(refused)?.reason).toBe("QuotaExceeded");
    expect(await client.get(Upstream.VirtualMachine, second, ns)).toBeUndefined();

    await client.patch(projectKind, project, undefined, { spec: { quotas: { cores: 4 } } }, "merge");
    await serverStatus(client, ns, second, "ACTIVE");
  });

  it("cannot use another project's private image, but can use its public one", async () => {
    const { name: owner, namespace: ownerNs } = await readyProject(client, "img-owner");
    const privateImage = await activeImage(client, ownerNs, { visibility: "private" });
    const publicImage = await activeImage(client, ownerNs, { visibility: "public" });

    const denied = unique("private");
    await client.create(serverKind, serverObject(namespace, denied, { flavorRef: flavor, imageRef: `${owner}/${privateImage}` }));
    const server = await serverStatus(client, namespace, denied, "ERROR");
    expect(server.status?.fault?.message).toBe(`Image ${owner}/${privateImage} could not be found, or is not visible to this project.`);
    expect(await client.get(Upstream.VirtualMachine, denied, namespace)).toBeUndefined();

    const allowed = unique("public");
    await client.create(serverKind, serverObject(namespace, allowed, { flavorRef: flavor, imageRef: `${owner}/${publicImage}` }));
    await serverStatus(client, namespace, allowed, "ACTIVE");
    // CDI's cross-namespace clone needs create on datavolumes/source, granted for the public image's volume only.
    const binding = await client.get<KubeObject & { subjects?: { name: string }[] }>(
      Builtin.RoleBinding,
      `altostack:image-clone:${publicImage}.image`,
      ownerNs,
    );
    expect(binding?.subjects?.map((s) => s.name)).toEqual(["system:serviceaccounts"]);
    expect(await client.get(Builtin.RoleBinding, `altostack:image-clone:${privateImage}.image`, ownerNs)).toBeUndefined();
  });
});
