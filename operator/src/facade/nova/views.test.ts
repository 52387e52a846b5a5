import { describe, expect, it } from "vitest";
import { API_VERSION, type Flavor, type Keypair, type Server } from "../../api/index.js";
import { parseMicroversion, type Microversion } from "../common/microversion.js";
import { flavorView, hostId, keypairView, limitsView, quotaSetView, serverView, type ServerViewInput } from "./views.js";

const v = (text: string): Microversion => parseMicroversion(text) ?? { major: 0, minor: 0 };
const URL = "http://cloud/compute";

const flavor = (spec: Partial<Flavor["spec"]> = {}): Flavor => ({
  apiVersion: API_VERSION,
  kind: "Flavor",
  metadata: { name: "m1.small", uid: "f-1" },
  spec: { vcpus: 1, ram: 2048, disk: 20, ...spec },
});

const server = (spec: Partial<Server["spec"]> = {}, status?: Server["status"]): Server => ({
  apiVersion: API_VERSION,
  kind: "Server",
  metadata: { name: "web", namespace: "project-demo", uid: "s-1", creationTimestamp: "2026-01-01T00:00:00Z", annotations: { "altostack.io/user-id": "u-1" } },
  spec: { flavorRef: "m1.small", imageRef: "cirros", ...spec },
  ...(status === undefined ? {} : { status }),
});

const input = (s: Server, overrides: Partial<ServerViewInput> = {}): ServerViewInput => ({
  server: s,
  computeUrl: URL,
  projectId: "p-1",
  flavor: flavor(),
  imageId: "i-1",
  securityGroups: ["default"],
  keyName: undefined,
  volumes: [],
  admin: false,
  availabilityZone: "nova",
  ...overrides,
});

describe("flavors by microversion", () => {
  it("shows no swap as '' before 2.75 and as 0 from 2.75; description from 2.55; extra_specs from 2.61", () => {
    expect(flavorView(flavor(), v("2.1"), URL)).toMatchObject({ swap: "", "os-flavor-access:is_public": true, "OS-FLV-EXT-DATA:ephemeral": 0 });
    expect(flavorView(flavor(), v("2.1"), URL)).not.toHaveProperty("description");
    expect(flavorView(flavor({ description: "d" }), v("2.55"), URL)).toMatchObject({ description: "d" });
    expect(flavorView(flavor(), v("2.60"), URL)).not.toHaveProperty("extra_specs");
    expect(flavorView(flavor({ extraSpecs: { "hw:cpu_policy": "dedicated" } }), v("2.61"), URL)).toMatchObject({ extra_specs: { "hw:cpu_policy": "dedicated" } });
    expect(flavorView(flavor(), v("2.75"), URL)).toMatchObject({ swap: 0 });
    expect(flavorView(flavor({ swap: 512 }), v("2.1"), URL)).toMatchObject({ swap: 512 });
  });

  it("uses the uid as id, the OpenStack name as name, and links to v2.1", () => {
    const view = flavorView(flavor({ name: "Small One" }), v("2.1"), URL);
    expect(view).toMatchObject({ id: "f-1", name: "Small One" });
    expect(view.links).toEqual([
      { rel: "self", href: `${URL}/v2.1/flavors/f-1` },
      { rel: "bookmark", href: `${URL}/flavors/f-1` },
    ]);
  });
});

describe("servers by microversion", () => {
  it("embeds the flavor from 2.47 (from the server's own snapshot when it has one) and links it before", () => {
    expect(serverView(input(server()), v("2.46"), { show: true }).flavor).toEqual({ id: "f-1", links: [{ rel: "bookmark", href: `${URL}/flavors/f-1` }] });
    const snapshot = { name: "old.name", vcpus: 4, ram: 4096, disk: 40 };
    expect(serverView(input(server({}, { flavor: snapshot })), v("2.47"), { show: true }).flavor).toEqual({
      vcpus: 4, ram: 4096, disk: 40, ephemeral: 0, swap: 0, original_name: "old.name", extra_specs: {},
    });
    expect(serverView(input(server()), v("2.79"), { show: true }).flavor).toMatchObject({ original_name: "m1.small", vcpus: 1, ram: 2048 });
  });

  it("adds fields as their microversions arrive, and server_groups only on show", () => {
    const at = (text: string, show = true) => serverView(input(server()), v(text), { show });
    expect(at("2.1")).not.toHaveProperty("locked");
    expect(at("2.9")).toMatchObject({ locked: false });
    expect(at("2.19")).toMatchObject({ description: null });
    expect(at("2.26")).toMatchObject({ tags: [] });
    expect(at("2.63")).toMatchObject({ trusted_image_certificates: null });
    expect(at("2.71")).toMatchObject({ server_groups: [] });
    expect(at("2.71", false)).not.toHaveProperty("server_groups");
    expect(at("2.73")).toMatchObject({ locked_reason: null });
    expect(at("2.79")["os-extended-volumes:volumes_attached"]).toEqual([]);
  });

  it("is BUILD (scheduling) until the compute reconciler reports, then shows its status and addresses", () => {
    expect(serverView(input(server()), v("2.79"), { show: true })).toMatchObject({
      status: "BUILD", "OS-EXT-STS:vm_state": "building", "OS-EXT-STS:task_state": "scheduling", "OS-EXT-STS:power_state": 0, progress: 0,
    });
    const running = server({}, {
      status: "ACTIVE",
      host: "node-1",
      addresses: { net: [{ addr: "10.0.0.5", version: 4, type: "fixed", macAddr: "fa:16:3e:00:00:01" }] },
    });
    const view = serverView(input(running), v("2.79"), { show: true });
    expect(view).toMatchObject({ status: "ACTIVE", "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:power_state": 1, progress: 100, hostId: hostId("p-1", "node-1") });
    expect(view.addresses).toEqual({ net: [{ addr: "10.0.0.5", version: 4, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01" }] });
  });

  it("shows image '' (never null) when booting from a volume, and the ids the route resolved", () => {
    const bfv = serverView(input(server({ imageRef: undefined, bootVolume: { volumeRef: "root" } }), { imageId: undefined }), v("2.79"), { show: true });
    expect(bfv.image).toBe("");
    expect(serverView(input(server()), v("2.79"), { show: true }).image).toEqual({ id: "i-1", links: [{ rel: "bookmark", href: `${URL}/images/i-1` }] });
  });

  it("hides host attributes from non-admins and shows them to admins", () => {
    const running = server({}, { status: "ACTIVE", host: "node-1" });
    expect(Object.keys(serverView(input(running), v("2.79"), { show: true })).filter((k) => k.startsWith("OS-EXT-SRV-ATTR"))).toEqual([]);
    const admin = serverView(input(running, { admin: true }), v("2.79"), { show: true });
    expect(admin).toMatchObject({ "OS-EXT-SRV-ATTR:host": "node-1", host_status: "UP", "OS-EXT-SRV-ATTR:hostname": "web" });
  });

  it("reports a fault only in ERROR, and the deleting task while being deleted", () => {
    const failed = server({}, { status: "ERROR", fault: { code: 500, message: "No valid host was found." } });
    expect(serverView(input(failed), v("2.79"), { show: true }).fault).toMatchObject({ code: 500, message: "No valid host was found." });
    const deleting = { ...server({}, { status: "ACTIVE" }), metadata: { ...server().metadata, deletionTimestamp: "2026-01-01T01:00:00Z" } };
    expect(serverView(input(deleting), v("2.79"), { show: true })["OS-EXT-STS:task_state"]).toBe("deleting");
  });

  it("hashes project and host into hostId, and leaves it empty without a host", () => {
    expect(hostId("p", "h")).toMatch(/^[0-9a-f]{56}$/);
    expect(hostId("p", "h")).not.toBe(hostId("q", "h"));
    expect(hostId("p", undefined)).toBe("");
  });
});

describe("keypairs, limits and quota sets", () => {
  const keypair: Keypair = { apiVersion: API_VERSION, kind: "Keypair", metadata: { name: "k", uid: "k-1" }, spec: { publicKey: "ssh-ed25519 AAAA x" } };
  it("shows the key type from 2.2", () => {
    const inputs = { keypair, fingerprint: "aa", keyType: "ssh", userId: "u" };
    expect(keypairView(inputs, v("2.1"))).toEqual({ name: "k", public_key: "ssh-ed25519 AAAA x", fingerprint: "aa" });
    expect(keypairView(inputs, v("2.2"))).toMatchObject({ type: "ssh" });
  });

  it("drops the network and personality limits at 2.36 and 2.57", () => {
    const quotas = { instances: 10, cores: 20, ram: 51200 };
    const usage = { instances: 1, cores: 2, ram: 512, keypairs: 1 };
    expect(limitsView(quotas, usage, v("2.1")).limits.absolute).toMatchObject({ maxSecurityGroups: -1, maxPersonality: 5, totalCoresUsed: 2 });
    expect(limitsView(quotas, usage, v("2.36")).limits.absolute).not.toHaveProperty("maxSecurityGroups");
    expect(limitsView(quotas, usage, v("2.57")).limits.absolute).not.toHaveProperty("maxPersonality");
    expect(quotaSetView("p", quotas, usage, v("2.79")).quota_set).toMatchObject({ id: "p", cores: { in_use: 2, limit: 20, reserved: 0 } });
    expect(Object.keys(quotaSetView("p", quotas, undefined, v("2.79")).quota_set).sort()).toEqual(
      ["cores", "id", "instances", "key_pairs", "metadata_items", "ram", "server_group_members", "server_groups"].sort(),
    );
  });
});
