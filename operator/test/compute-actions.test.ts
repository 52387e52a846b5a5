// Nova's server actions on the real apiserver + simulator, from both worlds: ServerActions (what the facade
// creates for Nova's action endpoints) and spec changes (GitOps). Each action's states are recorded from
// the server's watch events, so transient ones (REBOOT, RESIZE, MIGRATING…) are seen, not guessed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageKind, serverActionKind, serverKind, type Image, type Server, type ServerAction } from "../src/api/index.js";
import { Builtin, Upstream, type KubeObject } from "../src/kube/index.js";
import type { VMI } from "../src/simulator/types.js";
import {
  actionPhase,
  activeImage,
  createAction,
  createFlavor,
  getServer,
  readyProject,
  recordStatuses,
  serverObject,
  serverStatus,
  startComputeEnv,
  type ComputeEnv,
} from "./compute-fixtures.js";
import { eventually, testClient, unique } from "./helpers.js";

const client = testClient();
let env: ComputeEnv;
let namespace: string;
let small: string;
let medium: string;
let image: string;

beforeAll(async () => {
  env = await startComputeEnv(client);
  ({ namespace } = await readyProject(client, "actions", { quotas: { instances: 40, cores: 80, ram: 81920 } }));
  small = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 }, "small");
  medium = await createFlavor(client, { vcpus: 2, ram: 1024, disk: 3 }, "medium");
  image = await activeImage(client, namespace);
});
afterAll(async () => {
  await env.stop();
});

async function activeServer(spec: Partial<Server["spec"]> = {}): Promise<string> {
  const name = unique("srv");
  await client.create(serverKind, serverObject(namespace, name, { flavorRef: small, imageRef: image, ...spec }));
  await serverStatus(client, namespace, name, "ACTIVE");
  return name;
}

function watchStatus(name: string): ReturnType<typeof recordStatuses> {
  return recordStatuses(client, namespace, name);
}

const vmiOf = (name: string) => client.get<VMI>(Upstream.VirtualMachineInstance, name, namespace);

describe("reboot", () => {
  it.each([
    ["SOFT", "REBOOT", "sim.altostack.io/soft-reboots"],
    ["HARD", "HARD_REBOOT", "sim.altostack.io/resets"],
  ] as const)("%s goes through %s and reaches the guest through virt-api", async (type, transient, record) => {
    const name = await activeServer();
    const states = await watchStatus(name);
    const action = await createAction(client, namespace, { serverRef: name, action: "reboot", type });
    const done = await actionPhase(client, namespace, action, "Succeeded");
    await serverStatus(client, namespace, name, "ACTIVE");
    await states.stop("ACTIVE");
    expect(states.seen).toEqual(expect.arrayContaining([transient, "ACTIVE"]));
    expect(done.status).toMatchObject({ requestId: `req-${done.metadata.uid ?? ""}`, startTime: expect.any(String) as unknown });
    expect((await vmiOf(name))?.metadata.annotations?.[record]).toBe("1");
    // The action belongs to its server.
    expect(done.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Server", name });
  });
});

describe("resize", () => {
  it("goes RESIZE → VERIFY_RESIZE → ACTIVE on confirm, with the new flavor, a bigger disk and spec.flavorRef updated", async () => {
    const name = await activeServer();
    const states = await watchStatus(name);
    const resize = await createAction(client, namespace, { serverRef: name, action: "resize", flavorRef: medium });
    await actionPhase(client, namespace, resize, "Succeeded");
    const verifying = await serverStatus(client, namespace, name, "VERIFY_RESIZE");
    expect(verifying.status?.flavor?.name).toBe(medium);
    expect(verifying.status?.resize?.oldFlavor.name).toBe(small);
    expect((await vmiOf(name))?.spec.domain.cpu?.sockets).toBe(2);
    const claim = await client.get<KubeObject & { spec?: { resources?: { requests?: { storage?: string } } } }>(
      Builtin.PersistentVolumeClaim,
      `${name}-root`,
      namespace,
    );
    expect(claim?.spec?.resources?.requests?.storage).toBe("3Gi");

    const confirm = await createAction(client, namespace, { serverRef: name, action: "confirmResize" });
    await actionPhase(client, namespace, confirm, "Succeeded");
    const confirmed = await serverStatus(client, namespace, name, "ACTIVE");
    await states.stop("ACTIVE");
    expect(states.seen).toEqual(["ACTIVE", "RESIZE", "VERIFY_RESIZE", "ACTIVE"]);
    expect(confirmed.spec.flavorRef).toBe(medium);
    expect(confirmed.status?.resize).toBeUndefined();
  });

  it("goes back to the old flavor on revert (REVERT_RESIZE)", async () => {
    const name = await activeServer();
    const states = await watchStatus(name);
    const resize = await createAction(client, namespace, { serverRef: name, action: "resize", flavorRef: medium });
    await actionPhase(client, namespace, resize, "Succeeded");
    const revert = await createAction(client, namespace, { serverRef: name, action: "revertResize" });
    await actionPhase(client, namespace, revert, "Succeeded");
    const reverted = await serverStatus(client, namespace, name, "ACTIVE");
    await states.stop("ACTIVE");
    expect(states.seen).toEqual(["ACTIVE", "RESIZE", "VERIFY_RESIZE", "REVERT_RESIZE", "ACTIVE"]);
    expect(reverted.status?.flavor?.name).toBe(small);
    expect(reverted.spec.flavorRef).toBe(small);
    expect((await vmiOf(name))?.spec.domain.cpu?.sockets).toBe(1);
  });

  it("completes by itself when spec.flavorRef changes (GitOps)", async () => {
    const name = await activeServer();
    const states = await watchStatus(name);
    await client.patch(serverKind, name, namespace, { spec: { flavorRef: medium } }, "merge");
    await eventually("resized", async () => (await getServer(client, namespace, name))?.status?.flavor?.name === medium);
    const resized = await serverStatus(client, namespace, name, "ACTIVE");
    await states.stop("ACTIVE");
    expect(states.seen).toEqual(["ACTIVE", "RESIZE", "ACTIVE"]);
    expect(resized.status?.resize).toBeUndefined();
    expect((await vmiOf(name))?.spec.domain.memory?.guest).toBe("1024Mi");
  });

  it("refuses confirmResize when there is nothing to confirm, in Nova's words", async () => {
    const name = await activeServer();
    const confirm = await createAction(client, namespace, { serverRef: name, action: "confirmResize" });
    const failed = await actionPhase(client, namespace, confirm, "Failed");
    const server = await getServer(client, namespace, name);
    expect(failed.status).toMatchObject({ code: 409, message: `Cannot 'confirmResize' instance ${server?.metadata.uid ?? ""} while it is in vm_state active` });
  });

  it("refuses to shrink the disk", async () => {
    const name = await activeServer({ flavorRef: medium });
    const resize = await createAction(client, namespace, { serverRef: name, action: "resize", flavorRef: small });
    const failed = await actionPhase(client, namespace, resize, "Failed");
    expect(failed.status?.message).toContain("Unable to resize disk down");
    expect((await getServer(client, namespace, name))?.status?.status).toBe("ACTIVE");
  });
});

describe("rebuild", () => {
  it("replaces the root disk and keeps the server's id (ServerAction, same image)", async () => {
    const name = await activeServer();
    const before = await getServer(client, namespace, name);
    const states = await watchStatus(name);
    const rebuild = await createAction(client, namespace, { serverRef: name, action: "rebuild" });
    await actionPhase(client, namespace, rebuild, "Succeeded");
    const after = await serverStatus(client, namespace, name, "ACTIVE");
    await states.stop("ACTIVE");
    expect(states.seen).toEqual(["ACTIVE", "REBUILD", "ACTIVE"]);
    expect(after.metadata.uid).toBe(before?.metadata.uid);
    expect(after.status?.rootDisk).toBe(`${name}-root-1`);
    expect((await vmiOf(name))?.spec.volumes?.find((v) => v.name === "root")?.dataVolume?.name).toBe(`${name}-root-1`);
    expect((await vmiOf(name))?.spec.domain.firmware?.uuid).toBe(before?.metadata.uid);
    await eventually("old root disk deleted", async () => (await client.get(Upstream.DataVolume, `${name}-root`, namespace)) === undefined);
  });

  it("happens when spec.imageRef changes (GitOps)", async () => {
    const other = await activeImage(client, namespace, { properties: { hw_disk_bus: "scsi" } });
    const name = await activeServer();
    await client.patch(serverKind, name, namespace, { spec: { imageRef: other } }, "merge");
    await eventually("rebuilt", async () => (await getServer(client, namespace, name))?.status?.image?.ref === other);
    const rebuilt = await serverStatus(client, namespace, name, "ACTIVE");
    expect(rebuilt.status?.rootDisk).toBe(`${name}-root-1`);
    expect((await vmiOf(name))?.spec.domain.devices.disks?.find((d) => d.name === "root")?.disk?.bus).toBe("scsi");
  });
});

describe("migration", () => {
  it.each(["liveMigrate", "migrate"] as const)("%s moves the server to another node (MIGRATING)", async (action) => {
    const name = await activeServer();
    const host = (await getServer(client, namespace, name))?.status?.host;
    const states = await watchStatus(name);
    const migration = await createAction(client, namespace, { serverRef: name, action });
    const done = await actionPhase(client, namespace, migration, "Succeeded");
    const moved = await serverStatus(client, namespace, name, "ACTIVE");
    await states.stop("ACTIVE");
    expect(states.seen).toEqual(["ACTIVE", "MIGRATING", "ACTIVE"]);
    expect(moved.status?.host).toBeDefined();
    expect(moved.status?.host).not.toBe(host);
    expect(done.status?.migration).toBe(migration);
    const vmim = await client.get<KubeObject & { status?: { phase?: string } }>(Upstream.VirtualMachineInstanceMigration, migration, namespace);
    expect(vmim?.status?.phase).toBe("Succeeded");
  });
});

describe("createImage", () => {
  it("snapshots the root disk into a new private Image that servers can boot from", async () => {
    const name = await activeServer();
    const server = await getServer(client, namespace, name);
    const action = await createAction(client, namespace, { serverRef: name, action: "createImage", imageName: "my snapshot", imageMetadata: { purpose: "test" } });
    const done = await actionPhase(client, namespace, action, "Succeeded");
    const snapshotName = done.status?.image?.name ?? "";
    const snapshot = await client.get<Image>(imageKind, snapshotName, namespace);
    expect(snapshot?.status?.status).toBe("active");
    expect(snapshot?.spec).toMatchObject({
      name: "my snapshot",
      visibility: "private",
      minDisk: 1,
      source: { serverRef: name },
      properties: { image_type: "snapshot", instance_uuid: server?.metadata.uid, purpose: "test" },
    });
    expect(done.status?.image?.id).toBe(snapshot?.metadata.uid);
    await eventually("the VolumeSnapshot is gone once the image is active", async () =>
      (await client.get(Upstream.VolumeSnapshot, `${snapshotName}.image`, namespace)) === undefined,
    );

    const clone = unique("from-snap");
    await client.create(serverKind, serverObject(namespace, clone, { flavorRef: small, imageRef: snapshotName }));
    await serverStatus(client, namespace, clone, "ACTIVE");
  });
});

describe("action rules", () => {
  it("fails actions on a locked server with Nova's 409", async () => {
    const name = await activeServer({ locked: true });
    const server = await getServer(client, namespace, name);
    const action = await createAction(client, namespace, { serverRef: name, action: "reboot" });
    const failed = await actionPhase(client, namespace, action, "Failed");
    expect(failed.status).toMatchObject({ code: 409, message: `Instance ${server?.metadata.uid ?? ""} is locked` });
  });

  it("runs a server's actions one at a time, in order", async () => {
    const name = await activeServer();
    const first = await createAction(client, namespace, { serverRef: name, action: "reboot" });
    const second = await createAction(client, namespace, { serverRef: name, action: "reboot", type: "HARD" });
    const a = await actionPhase(client, namespace, first, "Succeeded");
    const b = await actionPhase(client, namespace, second, "Succeeded");
    expect((b.status?.startTime ?? "") >= (a.status?.finishTime ?? "")).toBe(true);
  });

  it("is a one-shot request: its spec cannot be changed", async () => {
    const name = await activeServer();
    const action = await createAction(client, namespace, { serverRef: name, action: "reboot" });
    const refused = await client.patch(serverActionKind, action, namespace, { spec: { type: "HARD" } }, "merge").catch((e: unknown) => e);
    expect(String(refused)).toContain("a ServerAction is a one-shot request: its spec cannot be changed");
  });

  it("fails for a server that does not exist, and actions go with their server", async () => {
    const missing = await createAction(client, namespace, { serverRef: "no-such-server", action: "reboot" });
    expect((await actionPhase(client, namespace, missing, "Failed")).status?.code).toBe(404);

    const name = await activeServer();
    const action = await createAction(client, namespace, { serverRef: name, action: "reboot" });
    await actionPhase(client, namespace, action, "Succeeded");
    await client.delete(serverKind, name, namespace);
    await eventually("the action is garbage-collected with its server", async () =>
      (await client.get<ServerAction>(serverActionKind, action, namespace)) === undefined,
    );
  });
});
