// The tenant wall, through the facade and through kubectl: a user of project B gets 404 for every resource of
// project A (show, update, delete, and lists leave them out) and nothing of A changes; kubectl --as B's user is
// refused by RBAC while A's user is let in; a reader reads but cannot write; expired, revoked and role-less tokens
// get Keystone's 401.
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { keypairKind, serverKind, snapshotKind, volumeKind, type Snapshot, type Volume } from "../src/api/index.js";
import { http, issueToken, projectWithUser, startFacadeEnv, type FacadeEnv, type HttpResult } from "./facade-helpers.js";
import { eventually, testClient, unique } from "./helpers.js";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ1bm8uZXhhbXBsZS5rZXkuZm9yLnRlc3Rpbmcub25seQ test@example";

let env: FacadeEnv;
let alice: Awaited<ReturnType<typeof projectWithUser>>;
let bob: Awaited<ReturnType<typeof projectWithUser>>;
let carol: Awaited<ReturnType<typeof projectWithUser>>;
let aliceToken: string;
let bobToken: string;

type Style = "nova" | "neutron" | "glance" | "cinder";

interface Resource {
  what: string;
  style: Style;
  show: string;
  list?: { path: string; ids: (body: unknown) => string[] };
  update?: { method: "PUT" | "PATCH"; body: unknown; contentType?: string };
  delete?: string;
  id: string;
}

const resources: Resource[] = [];
let adminToken: string;

function expectNotFound(result: HttpResult, style: Style, what: string): void {
  expect(result.status, `${what}: ${result.text}`).toBe(404);
  const body = result.body as Record<string, Record<string, unknown>>;
  if (style === "nova" || style === "cinder") expect(body.itemNotFound?.code).toBe(404);
  if (style === "neutron") expect(String(body.NeutronError?.type)).toMatch(/NotFound$/);
  if (style === "glance") expect((body as unknown as { code: string }).code).toBe("404 Not Found");
}

async function created(result: HttpResult, what: string): Promise<Record<string, unknown>> {
  expect([200, 201, 202], `${what}: ${result.text}`).toContain(result.status);
  return Promise.resolve(result.body as Record<string, unknown>);
}

beforeAll(async () => {
  env = await startFacadeEnv();
  alice = await projectWithUser(env, { role: "member" });
  bob = await projectWithUser(env, { role: "member" });
  carol = await projectWithUser(env, { project: alice.project, existingProject: true, role: "reader" });
  aliceToken = await issueToken(env, alice);
  bobToken = await issueToken(env, bob);
  adminToken = await issueToken(env, env.admin);
  const a = (method: string, path: string, body?: unknown) => http(env, method, path, { token: aliceToken, ...(body === undefined ? {} : { body }) });

  const flavor = (await created(await http(env, "POST", "/compute/v2.1/flavors", { token: adminToken, body: { flavor: { name: unique("iso"), vcpus: 1, ram: 256, disk: 1 } } }), "flavor")).flavor as { id: string };
  const keypairName = unique("key");
  await created(await a("POST", "/compute/v2.1/os-keypairs", { keypair: { name: keypairName, public_key: KEY } }), "keypair");
  const network = (await created(await a("POST", "/network/v2.0/networks", { network: { name: "net" } }), "network")).network as { id: string };
  const subnet = (await created(await a("POST", "/network/v2.0/subnets", { subnet: { network_id: network.id, cidr: "10.9.0.0/24", ip_version: 4 } }), "subnet")).subnet as { id: string };
  const port = (await created(await a("POST", "/network/v2.0/ports", { port: { network_id: network.id, name: "p" } }), "port")).port as { id: string };
  const group = (await created(await a("POST", "/network/v2.0/security-groups", { security_group: { name: "web" } }), "security group")).security_group as { id: string };
  const rule = (await created(await a("POST", "/network/v2.0/security-group-rules", { security_group_rule: { security_group_id: group.id, direction: "ingress", protocol: "tcp", port_range_min: 22, port_range_max: 22 } }), "rule")).security_group_rule as { id: string };
  const image = (await created(await a("POST", "/image/v2/images", { name: "img", disk_format: "qcow2", container_format: "bare" }), "image")) as { id: string };
  const server = (await created(await a("POST", "/compute/v2.1/servers", { server: { name: "vm", imageRef: image.id, flavorRef: flavor.id, networks: [{ uuid: network.id }], key_name: keypairName } }), "server")).server as { id: string };
  const volume = (await created(await a("POST", `/volume/v3/${alice.projectId}/volumes`, { volume: { size: 1, name: "v", snapshot_id: null, imageRef: null } }), "volume")).volume as { id: string };
  // No storage here, so the volume stays creating: Cinder refuses a snapshot of it, with nothing written...
  const refused = await a("POST", `/volume/v3/${alice.projectId}/snapshots`, { snapshot: { volume_id: volume.id, name: "s" } });
  expect(refused.status, refused.text).toBe(400);
  expect(refused.body).toHaveProperty("badRequest.message", `Invalid volume: Volume ${volume.id} status must be available, but current status is: creating.`);
  const namespace = `project-${alice.project}`;
  expect((await testClient().list(snapshotKind, { namespace })).items).toEqual([]);
  // ...while a Snapshot declared through the Kubernetes API (GitOps) waits for its volume: A's user declares one.
  const volumeName = (await testClient().list<Volume>(volumeKind, { namespace })).items.find((v) => v.metadata.uid === volume.id)?.metadata.name ?? "";
  const declared = await testClient()
    .impersonate({ user: alice.user })
    .create<Snapshot>(snapshotKind, { apiVersion: snapshotKind.apiVersion, kind: snapshotKind.kind, metadata: { name: "s", namespace }, spec: { volumeRef: volumeName } });
  const snapshot = { id: declared.metadata.uid ?? "" };
  await eventually("A's declared snapshot through the facade", async () => ((await a("GET", `/volume/v3/${alice.projectId}/snapshots/${snapshot.id}`)).status === 200 ? true : undefined));

  const ids = (key: string) => (body: unknown) => ((body as Record<string, { id: string }[]>)[key] ?? []).map((i) => i.id);
  // Cinder URLs carry the caller's own project id: B asks in its own project for A's ids.
  const vol = `/volume/v3/${bob.projectId}`;
  resources.push(
    { what: "server", style: "nova", id: server.id, show: `/compute/v2.1/servers/${server.id}`, list: { path: "/compute/v2.1/servers/detail", ids: ids("servers") }, update: { method: "PUT", body: { server: { name: "stolen" } } }, delete: `/compute/v2.1/servers/${server.id}` },
    { what: "keypair", style: "nova", id: keypairName, show: `/compute/v2.1/os-keypairs/${keypairName}`, list: { path: "/compute/v2.1/os-keypairs", ids: (body) => ((body as { keypairs: { keypair: { name: string } }[] }).keypairs).map((k) => k.keypair.name) }, delete: `/compute/v2.1/os-keypairs/${keypairName}` },
    { what: "network", style: "neutron", id: network.id, show: `/network/v2.0/networks/${network.id}`, list: { path: "/network/v2.0/networks", ids: ids("networks") }, update: { method: "PUT", body: { network: { name: "stolen" } } }, delete: `/network/v2.0/networks/${network.id}` },
    { what: "subnet", style: "neutron", id: subnet.id, show: `/network/v2.0/subnets/${subnet.id}`, list: { path: "/network/v2.0/subnets", ids: ids("subnets") }, update: { method: "PUT", body: { subnet: { name: "stolen" } } }, delete: `/network/v2.0/subnets/${subnet.id}` },
    { what: "port", style: "neutron", id: port.id, show: `/network/v2.0/ports/${port.id}`, list: { path: "/network/v2.0/ports", ids: ids("ports") }, update: { method: "PUT", body: { port: { name: "stolen" } } }, delete: `/network/v2.0/ports/${port.id}` },
    { what: "security group", style: "neutron", id: group.id, show: `/network/v2.0/security-groups/${group.id}`, list: { path: "/network/v2.0/security-groups", ids: ids("security_groups") }, update: { method: "PUT", body: { security_group: { name: "stolen" } } }, delete: `/network/v2.0/security-groups/${group.id}` },
    { what: "security group rule", style: "neutron", id: rule.id, show: `/network/v2.0/security-group-rules/${rule.id}`, list: { path: "/network/v2.0/security-group-rules", ids: ids("security_group_rules") }, delete: `/network/v2.0/security-group-rules/${rule.id}` },
    { what: "image", style: "glance", id: image.id, show: `/image/v2/images/${image.id}`, list: { path: "/image/v2/images", ids: ids("images") }, update: { method: "PATCH", body: [{ op: "replace", path: "/name", value: "stolen" }], contentType: "application/openstack-images-v2.1-json-patch" }, delete: `/image/v2/images/${image.id}` },
    { what: "volume", style: "cinder", id: volume.id, show: `${vol}/volumes/${volume.id}`, list: { path: `${vol}/volumes/detail`, ids: ids("volumes") }, update: { method: "PUT", body: { volume: { name: "stolen" } } }, delete: `${vol}/volumes/${volume.id}` },
    { what: "snapshot", style: "cinder", id: snapshot.id, show: `${vol}/snapshots/${snapshot.id}`, list: { path: `${vol}/snapshots/detail`, ids: ids("snapshots") }, update: { method: "PUT", body: { snapshot: { name: "stolen" } } }, delete: `${vol}/snapshots/${snapshot.id}` },
  );
});

afterAll(async () => {
  await env.stop();
});

describe("project B cannot see or touch project A's resources through the facade", () => {
  it("covers every resource kind of the matrix", () => {
    expect(resources.map((r) => r.what)).toEqual(["server", "keypair", "network", "subnet", "port", "security group", "security group rule", "image", "volume", "snapshot"]);
  });

  it("show, update and delete are 404 in each service's own format, lists leave A out, and A's objects are unchanged", async () => {
    for (const r of resources) {
      expectNotFound(await http(env, "GET", r.show, { token: bobToken }), r.style, `${r.what} show`);
      if (r.update !== undefined) {
        const result = await http(env, r.update.method, r.show, {
          token: bobToken,
          body: r.update.body,
          ...(r.update.contentType === undefined ? {} : { headers: { "Content-Type": r.update.contentType } }),
        });
        expectNotFound(result, r.style, `${r.what} update`);
      }
      if (r.delete !== undefined) expectNotFound(await http(env, "DELETE", r.delete, { token: bobToken }), r.style, `${r.what} delete`);
      if (r.list !== undefined) {
        const listed = await http(env, "GET", r.list.path, { token: bobToken });
        expect(listed.status, `${r.what} list: ${listed.text}`).toBe(200);
        expect(r.list.ids(listed.body)).not.toContain(r.id);
      }
      // A still sees it, unchanged.
      const ownShow = r.show.replace(`/volume/v3/${bob.projectId}`, `/volume/v3/${alice.projectId}`);
      const own = await http(env, "GET", ownShow, { token: aliceToken });
      expect(own.status, `${r.what} as its owner: ${own.text}`).toBe(200);
      expect(own.text).not.toContain("stolen");
    }
  });

  it("a cloud admin's Glance list has every project's images, as Glance's does (how `server list --all-projects` names them)", async () => {
    const image = resources.find((r) => r.what === "image");
    const list = image?.list;
    if (image === undefined || list === undefined) throw new Error("the matrix lost its image");
    const asAdmin = await http(env, "GET", list.path, { token: adminToken });
    expect(asAdmin.status, asAdmin.text).toBe(200);
    expect(list.ids(asAdmin.body)).toContain(image.id);
    const publicOnly = await http(env, "GET", `${list.path}?visibility=public`, { token: adminToken });
    expect(list.ids(publicOnly.body)).not.toContain(image.id);
    // A regular user of another project never gets it, whatever the filter.
    for (const filter of ["", "?visibility=all", "?visibility=private", "?visibility=shared"]) {
      expect(list.ids((await http(env, "GET", `${list.path}${filter}`, { token: bobToken })).body)).not.toContain(image.id);
    }
  });

  it("B cannot address A's project in Cinder URLs or read A's quotas", async () => {
    const result = await http(env, "GET", `/volume/v3/${alice.projectId}/volumes`, { token: bobToken });
    expect(result.status).toBe(400);
    expect((result.body as { badRequest: { message: string } }).badRequest.message).toBe("Malformed request url");
    const quota = await http(env, "GET", `/compute/v2.1/os-quota-sets/${alice.projectId}`, { token: bobToken });
    expect(quota.status).toBe(403);
    expect(quota.body).toHaveProperty("forbidden.code", 403);
  });
});

describe("the same wall through kubectl --as", () => {
  const kubectl = (user: string, args: string[]): Promise<{ code: number; out: string }> =>
    new Promise((resolve) => {
      execFile(inject("kubectl"), ["--kubeconfig", inject("kubeconfigPath"), `--as=${user}`, ...args], (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : 1, out: stdout + stderr });
      });
    });

  it("B's user is refused by RBAC in A's namespace, A's user is let in", async () => {
    const namespace = `project-${alice.project}`;
    for (const resource of ["servers", "keypairs", "networks", "subnets", "ports", "securitygroups", "images", "volumes", "snapshots"]) {
      const denied = await kubectl(bob.user, ["get", `${resource}.altostack.io`, "-n", namespace]);
      expect(denied.code, `${resource}: ${denied.out}`).toBe(1);
      expect(denied.out).toMatch(/forbidden/i);
    }
    const deleteAttempt = await kubectl(bob.user, ["delete", "servers.altostack.io", "--all", "-n", namespace]);
    expect(deleteAttempt.out).toMatch(/forbidden/i);
    const allowed = await kubectl(alice.user, ["get", "servers.altostack.io", "-n", namespace, "-o", "name"]);
    expect(allowed.code, allowed.out).toBe(0);
    expect(allowed.out).toContain("server");
  });
});

describe("a reader reads but cannot write", () => {
  it("lists and shows, and every write is the service's 403 with nothing written", async () => {
    const token = await issueToken(env, carol);
    const server = resources.find((r) => r.what === "server");
    expect((await http(env, "GET", "/compute/v2.1/servers", { token })).status).toBe(200);
    expect((await http(env, "GET", server?.show ?? "", { token })).status).toBe(200);
    const keysBefore = (await testClient().list(keypairKind, { namespace: `project-${alice.project}` })).items.length;

    const keypair = await http(env, "POST", "/compute/v2.1/os-keypairs", { token, body: { keypair: { name: "nope", public_key: KEY } } });
    expect(keypair.status).toBe(403);
    expect(keypair.body).toHaveProperty("forbidden.code", 403);
    const network = await http(env, "POST", "/network/v2.0/networks", { token, body: { network: { name: "nope" } } });
    expect(network.status).toBe(403);
    expect(network.body).toHaveProperty("NeutronError.type", "PolicyNotAuthorized");
    const volume = await http(env, "POST", `/volume/v3/${alice.projectId}/volumes`, { token, body: { volume: { size: 1 } } });
    expect(volume.status).toBe(403);
    expect(volume.body).toHaveProperty("forbidden.code", 403);
    const removal = await http(env, "DELETE", server?.delete ?? "", { token });
    expect(removal.status).toBe(403);

    expect((await testClient().list(keypairKind, { namespace: `project-${alice.project}` })).items.length).toBe(keysBefore);
    expect(await testClient().get(serverKind, (await testClient().list(serverKind, { namespace: `project-${alice.project}` })).items[0]?.metadata.name ?? "", `project-${alice.project}`)).toBeDefined();
  });
});

describe("tokens that are no longer good get 401", () => {
  const expect401 = (result: HttpResult) => {
    expect(result.status, result.text).toBe(401);
    expect(result.body).toHaveProperty("error.code", 401);
    expect(result.headers.get("www-authenticate")).toContain("Keystone uri=");
  };

  it("an expired token", async () => {
    const token = await issueToken(env, alice);
    expect((await http(env, "GET", "/compute/v2.1/servers", { token })).status).toBe(200);
    env.advanceClock(2 * 3600 * 1000);
    try {
      expect401(await http(env, "GET", "/compute/v2.1/servers", { token }));
      expect401(await http(env, "GET", "/network/v2.0/networks", { token }));
    } finally {
      env.advanceClock(-2 * 3600 * 1000);
    }
  });

  it("a revoked token, while the user's other tokens keep working", async () => {
    const revoked = await issueToken(env, alice);
    const other = await issueToken(env, alice);
    const revoke = await http(env, "DELETE", "/identity/v3/auth/tokens", { token: other, headers: { "X-Subject-Token": revoked } });
    expect(revoke.status).toBe(204);
    expect401(await http(env, "GET", "/compute/v2.1/servers", { token: revoked }));
    expect((await http(env, "GET", "/compute/v2.1/servers", { token: other })).status).toBe(200);
    const validate = await http(env, "GET", "/identity/v3/auth/tokens", { token: other, headers: { "X-Subject-Token": revoked } });
    expect(validate.status).toBe(404);
  });

  it("a token whose user lost the role, or changed the password", async () => {
    const dave = await projectWithUser(env, { role: "member" });
    const token = await issueToken(env, dave);
    expect((await http(env, "GET", "/compute/v2.1/servers", { token })).status).toBe(200);
    const adminToken = await issueToken(env, env.admin);
    const roles = await http(env, "GET", "/identity/v3/roles?name=member", { token: adminToken });
    const roleId = (roles.body as { roles: { id: string }[] }).roles[0]?.id ?? "";
    const revoke = await http(env, "DELETE", `/identity/v3/projects/${dave.projectId}/users/${dave.userId}/roles/${roleId}`, { token: adminToken });
    expect(revoke.status).toBe(204);
    expect401(await http(env, "GET", "/compute/v2.1/servers", { token }));

    const aliceOld = await issueToken(env, alice);
    const change = await http(env, "POST", `/identity/v3/users/${alice.userId}/password`, {
      token: aliceOld,
      body: { user: { original_password: alice.password, password: "a-new-password" } },
    });
    expect(change.status).toBe(204);
    expect401(await http(env, "GET", "/compute/v2.1/servers", { token: aliceOld }));
    alice = { ...alice, password: "a-new-password" };
    aliceToken = await issueToken(env, alice);
    expect((await http(env, "GET", "/compute/v2.1/servers", { token: aliceToken })).status).toBe(200);
  });

  it("a forged or truncated token", async () => {
    const token = await issueToken(env, alice);
    expect401(await http(env, "GET", "/compute/v2.1/servers", { token: `${token.slice(0, -4)}AAAA` }));
    expect401(await http(env, "GET", "/compute/v2.1/servers", { token: "not-a-token" }));
    expect401(await http(env, "GET", "/compute/v2.1/servers"));
  });
});
