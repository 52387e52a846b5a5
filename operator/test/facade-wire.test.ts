// The facade on the wire, as clients and Tempest check it: version documents, microversion negotiation with both
// headers echoed, each service's own fault body for bad input (never a 5xx, nothing written), pagination, `name`
// lookups and Neutron's `fields`, and Keystone's token details.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { networkKind, serverKind } from "../src/api/index.js";
import { http, issueToken, projectWithUser, startFacadeEnv, type FacadeEnv, type HttpResult } from "./facade-helpers.js";
import { testClient } from "./helpers.js";

let env: FacadeEnv;
let user: Awaited<ReturnType<typeof projectWithUser>>;
let token: string;
let namespace: string;

beforeAll(async () => {
  env = await startFacadeEnv();
  user = await projectWithUser(env, { role: "member" });
  token = await issueToken(env, user);
  namespace = `project-${user.project}`;
});

afterAll(async () => {
  await env.stop();
});

const get = (path: string, headers: Record<string, string> = {}) => http(env, "GET", path, { token, headers });

describe("version documents", () => {
  it("Keystone answers 300 at its root and 200 at /v3, with a self link clients accept", async () => {
    const root = await http(env, "GET", "/identity");
    expect(root.status).toBe(300);
    const [v3] = (root.body as { versions: { values: { id: string; status: string; links: { rel: string; href: string }[] }[] } }).versions.values;
    expect(v3).toMatchObject({ id: "v3.14", status: "stable" });
    expect(v3?.links.find((l) => l.rel === "self")?.href).toBe(`${env.facade.url}/identity/v3/`);
    const doc = await http(env, "GET", "/identity/v3");
    expect(doc.status).toBe(200);
    expect(doc.body).toHaveProperty("version.id", "v3.14");
  });

  it("Nova lists v2.0 first (deprecated) and v2.1 current with the maximum microversion", async () => {
    const root = await http(env, "GET", "/compute/");
    expect(root.status).toBe(200);
    expect((root.body as { versions: unknown[] }).versions).toEqual([
      expect.objectContaining({ id: "v2.0", status: "DEPRECATED", version: "", min_version: "" }),
      expect.objectContaining({ id: "v2.1", status: "CURRENT", version: "2.79", min_version: "2.1" }),
    ]);
    const v21 = await http(env, "GET", "/compute/v2.1/");
    expect(v21.body).toHaveProperty("version.links.0.href", `${env.facade.url}/compute/v2.1/`);
  });

  it("Neutron, Glance and Cinder describe their versions", async () => {
    expect((await http(env, "GET", "/network/")).body).toEqual({ versions: [{ id: "v2.0", status: "CURRENT", links: [{ rel: "self", href: `${env.facade.url}/network/v2.0/` }] }] });
    const image = await http(env, "GET", "/image/");
    expect(image.status).toBe(300);
    expect((image.body as { versions: { id: string; status: string }[] }).versions[0]).toMatchObject({ status: "CURRENT" });
    const volume = await http(env, "GET", "/volume/");
    expect(volume.status).toBe(300);
    expect(volume.body).toHaveProperty("versions.0.version", "3.67");
    expect(volume.body).toHaveProperty("versions.0.min_version", "3.0");
  });
});

describe("microversions", () => {
  const expectVersion = (result: HttpResult, version: string) => {
    expect(result.headers.get("openstack-api-version")).toBe(`compute ${version}`);
    expect(result.headers.get("x-openstack-nova-api-version")).toBe(version);
    expect(result.headers.get("vary")).toContain("OpenStack-API-Version");
  };

  it("negotiates Nova's version from either header and echoes both", async () => {
    expectVersion(await get("/compute/v2.1/flavors"), "2.1");
    expectVersion(await get("/compute/v2.1/flavors", { "OpenStack-API-Version": "compute 2.79" }), "2.79");
    expectVersion(await get("/compute/v2.1/flavors", { "X-OpenStack-Nova-API-Version": "2.60" }), "2.60");
    expectVersion(await get("/compute/v2.1/flavors", { "OpenStack-API-Version": "compute latest" }), "2.79");
    // The standard header wins over the legacy one.
    expectVersion(await get("/compute/v2.1/flavors", { "OpenStack-API-Version": "compute 2.50", "X-OpenStack-Nova-API-Version": "2.10" }), "2.50");
  });

  it("refuses versions it does not implement with 406 and malformed ones with 400, in Nova's and Cinder's format", async () => {
    const tooNew = await get("/compute/v2.1/servers", { "OpenStack-API-Version": "compute 2.200" });
    expect(tooNew.status).toBe(406);
    expect(tooNew.body).toEqual({ computeFault: { code: 406, message: "Version 2.200 is not supported by the API. Minimum is 2.1 and maximum is 2.79." } });
    const malformed = await get("/compute/v2.1/servers", { "X-OpenStack-Nova-API-Version": "two" });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toHaveProperty("badRequest.code", 400);
    const volume = await get(`/volume/v3/${user.projectId}/volumes`, { "OpenStack-API-Version": "volume 3.99" });
    expect(volume.status).toBe(406);
    expect(volume.body).toHaveProperty("computeFault.message", "Version 3.99 is not supported by the API. Minimum is 3.0 and maximum is 3.67.");
    expect((await get(`/volume/v3/${user.projectId}/volumes`, { "OpenStack-API-Version": "volume 3.60" })).headers.get("openstack-api-version")).toBe("volume 3.60");
  });

  it("changes what responses contain: swap as '' before 2.75, the flavor embedded in servers from 2.47", async () => {
    const adminToken = await issueToken(env, env.admin);
    const flavor = await http(env, "POST", "/compute/v2.1/flavors", { token: adminToken, body: { flavor: { name: "wire.small", vcpus: 1, ram: 128, disk: 1 } } });
    const id = (flavor.body as { flavor: { id: string } }).flavor.id;
    expect((await get(`/compute/v2.1/flavors/${id}`)).body).toHaveProperty("flavor.swap", "");
    expect((await get(`/compute/v2.1/flavors/${id}`, { "OpenStack-API-Version": "compute 2.75" })).body).toHaveProperty("flavor.swap", 0);
    expect((await get(`/compute/v2.1/flavors/${id}`, { "OpenStack-API-Version": "compute 2.61" })).body).toHaveProperty("flavor.extra_specs", {});

    const image = await http(env, "POST", "/image/v2/images", { token, body: { name: "wire-image", disk_format: "raw", container_format: "bare" } });
    const server = await http(env, "POST", "/compute/v2.1/servers", {
      token,
      body: { server: { name: "wire-vm", flavorRef: id, imageRef: (image.body as { id: string }).id, networks: "none" } },
      headers: { "OpenStack-API-Version": "compute 2.79" },
    });
    expect(server.status, server.text).toBe(202);
    const serverId = (server.body as { server: { id: string } }).server.id;
    expect(server.headers.get("location")).toBe(`${env.facade.url}/compute/v2.1/servers/${serverId}`);
    const old = await get(`/compute/v2.1/servers/${serverId}`, { "OpenStack-API-Version": "compute 2.46" });
    expect(old.body).toHaveProperty("server.flavor.id", id);
    const current = await get(`/compute/v2.1/servers/${serverId}`, { "OpenStack-API-Version": "compute 2.79" });
    expect((current.body as { server: Record<string, unknown> }).server).toMatchObject({
      flavor: { original_name: "wire.small", vcpus: 1, ram: 128, disk: 1, ephemeral: 0, swap: 0, extra_specs: {} },
      locked: false,
      locked_reason: null,
      description: null,
      tags: [],
      trusted_image_certificates: null,
      server_groups: [],
      status: "BUILD",
      tenant_id: user.projectId,
      user_id: user.userId,
    });
    // Nova's server detail has exactly these keys for a non-admin at 2.79 (Tempest's schema forbids others).
    expect(Object.keys((current.body as { server: Record<string, unknown> }).server).sort()).toEqual(
      [
        "OS-DCF:diskConfig", "OS-EXT-AZ:availability_zone", "OS-EXT-STS:power_state", "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state",
        "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at", "accessIPv4", "accessIPv6", "addresses", "config_drive", "created",
        "description", "flavor", "hostId", "id", "image", "key_name", "links", "locked", "locked_reason", "metadata", "name",
        "os-extended-volumes:volumes_attached", "progress", "security_groups", "server_groups", "status", "tags", "tenant_id",
        "trusted_image_certificates", "updated", "user_id",
      ].sort(),
    );
    await http(env, "DELETE", `/compute/v2.1/servers/${serverId}`, { token });
  });
});

describe("bad input gets the service's own 4xx and writes nothing", () => {
  /** Names of the project's servers and networks: bad requests must not add any. */
  const existing = async () => [
    ...(await testClient().list(serverKind, { namespace })).items.map((s) => `server/${s.metadata.name ?? ""}`),
    ...(await testClient().list(networkKind, { namespace })).items.map((n) => `network/${n.metadata.name ?? ""}`),
  ];

  it("malformed JSON, wrong types, wrong media types and oversized bodies", async () => {
    const before = await existing();
    const cases: { what: string; method: string; path: string; raw?: string; body?: unknown; headers?: Record<string, string>; status: number; check: (body: unknown) => void }[] = [
      { what: "nova malformed", method: "POST", path: "/compute/v2.1/servers", raw: "{not json", status: 400, check: (b) => { expect(b).toHaveProperty("badRequest.code", 400); } },
      { what: "nova wrong type", method: "POST", path: "/compute/v2.1/servers", body: { server: { name: 42, flavorRef: "x" } }, status: 400, check: (b) => { expect((b as { badRequest: { message: string } }).badRequest.message).toContain("server.name"); } },
      { what: "nova missing body", method: "POST", path: "/compute/v2.1/servers", body: {}, status: 400, check: (b) => { expect(b).toHaveProperty("badRequest"); } },
      { what: "nova unknown flavor", method: "POST", path: "/compute/v2.1/servers", body: { server: { name: "x", flavorRef: "nope", imageRef: "nope" } }, status: 400, check: (b) => { expect(b).toHaveProperty("badRequest.message", "Flavor nope could not be found."); } },
      { what: "nova media type", method: "POST", path: "/compute/v2.1/servers", raw: "{}", headers: { "Content-Type": "text/plain" }, status: 415, check: (b) => { expect(b).toHaveProperty("badMediaType.code", 415); } },
      { what: "nova oversized", method: "POST", path: "/compute/v2.1/servers", body: { server: { name: "x".repeat(200_000) } }, status: 413, check: (b) => { expect(b).toHaveProperty("overLimit.code", 413); } },
      { what: "nova unknown action", method: "POST", path: "/compute/v2.1/servers/00000000-0000-0000-0000-000000000000/action", body: { fly: null }, status: 404, check: (b) => { expect(b).toHaveProperty("itemNotFound"); } },
      { what: "neutron malformed", method: "POST", path: "/network/v2.0/networks", raw: "[", status: 400, check: (b) => { expect(b).toHaveProperty("NeutronError.type", "HTTPBadRequest"); } },
      { what: "neutron wrong type", method: "POST", path: "/network/v2.0/networks", body: { network: { admin_state_up: "yes" } }, status: 400, check: (b) => { expect(b).toHaveProperty("NeutronError.detail", ""); } },
      { what: "neutron bad cidr", method: "POST", path: "/network/v2.0/subnets", body: { subnet: { network_id: "x", cidr: "10.0.0.0/24", ip_version: 5 } }, status: 400, check: (b) => { expect(b).toHaveProperty("NeutronError"); } },
      { what: "keystone malformed", method: "POST", path: "/identity/v3/auth/tokens", raw: "{", status: 400, check: (b) => { expect(b).toMatchObject({ error: { code: 400, title: "Bad Request" } }); } },
      { what: "keystone wrong shape", method: "POST", path: "/identity/v3/auth/tokens", body: { auth: { identity: { methods: "password" } } }, status: 400, check: (b) => { expect(b).toHaveProperty("error.code", 400); } },
      { what: "glance wrong type", method: "POST", path: "/image/v2/images", body: { name: "x", min_disk: "big" }, status: 400, check: (b) => { expect(b).toMatchObject({ code: "400 Bad Request", title: "Bad Request" }); } },
      { what: "cinder wrong type", method: "POST", path: `/volume/v3/${user.projectId}/volumes`, body: { volume: { size: "huge" } }, status: 400, check: (b) => { expect(b).toHaveProperty("badRequest.code", 400); } },
      { what: "cinder zero size", method: "POST", path: `/volume/v3/${user.projectId}/volumes`, body: { volume: { size: 0 } }, status: 400, check: (b) => { expect(b).toHaveProperty("badRequest"); } },
    ];
    for (const c of cases) {
      const result = await http(env, c.method, c.path, {
        token,
        ...(c.raw === undefined ? {} : { rawBody: c.raw, headers: { "Content-Type": "application/json", ...c.headers } }),
        ...(c.body === undefined ? {} : { body: c.body }),
        ...(c.raw === undefined && c.headers !== undefined ? { headers: c.headers } : {}),
      });
      expect(result.status, `${c.what}: ${result.text}`).toBe(c.status);
      c.check(result.body);
    }
    const added = (await existing()).filter((name) => !before.includes(name));
    expect(added).toEqual([]);
  });

  it("unknown paths are 404 and wrong methods 405, in the service's format", async () => {
    const missing = await get("/compute/v2.1/no-such-thing");
    expect(missing.status).toBe(404);
    expect(missing.body).toHaveProperty("itemNotFound.code", 404);
    const method = await http(env, "PATCH", "/network/v2.0/networks", { token, body: {} });
    expect(method.status).toBe(405);
    expect(method.headers.get("allow")).toContain("GET");
    expect(method.body).toHaveProperty("NeutronError.type", "HTTPMethodNotAllowed");
    const nowhere = await http(env, "GET", "/nowhere");
    expect(nowhere.status).toBe(404);
  });

  it("accepts explicit nulls where clients send them", async () => {
    const volume = await http(env, "POST", `/volume/v3/${user.projectId}/volumes`, {
      token,
      body: { volume: { size: 1, name: "nulls", snapshot_id: null, source_volid: null, imageRef: null, volume_type: null, availability_zone: null, metadata: null } },
    });
    expect(volume.status, volume.text).toBe(202);
    const network = await http(env, "POST", "/network/v2.0/networks", { token, body: { network: { name: "nulls", description: null, mtu: null } } });
    expect(network.status, network.text).toBe(201);
  });
});

describe("lists: pagination, name lookups and fields", () => {
  it("pages Neutron networks with limit/marker and next links, and filters by name and fields", async () => {
    for (const name of ["page-a", "page-b", "page-c"]) {
      expect((await http(env, "POST", "/network/v2.0/networks", { token, body: { network: { name } } })).status).toBe(201);
    }
    const first = await get("/network/v2.0/networks?limit=2&sort_key=name&sort_dir=asc");
    const body = first.body as { networks: { name: string; id: string }[]; networks_links: { rel: string; href: string }[] };
    expect(body.networks).toHaveLength(2);
    const next = new URL(body.networks_links[0]?.href ?? "");
    expect(next.searchParams.get("marker")).toBe(body.networks[1]?.id);
    const rest = await get(`${next.pathname}?${next.searchParams.toString()}`);
    const seen = [...body.networks, ...(rest.body as { networks: { name: string }[] }).networks].map((n) => n.name);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen)).toEqual(new Set(["nulls", "page-a", "page-b", "page-c"]));

    const named = await get("/network/v2.0/networks?name=page-b&fields=id&fields=name");
    expect((named.body as { networks: Record<string, unknown>[] }).networks).toEqual([{ id: expect.any(String) as unknown, name: "page-b" }]);
    const badMarker = await get("/network/v2.0/networks?marker=00000000-0000-0000-0000-000000000000");
    expect(badMarker.status).toBe(404);
  });

  it("finds by id first and by ?name= second, as the CLI's find does (a name is a 404 as an id, never a 400)", async () => {
    const byName = await get("/compute/v2.1/os-keypairs/none-such");
    expect(byName.status).toBe(404);
    const asId = await get("/network/v2.0/networks/page-a");
    expect(asId.status).toBe(404);
    expect(asId.body).toHaveProperty("NeutronError.type", "NetworkNotFound");
    const serverName = await get("/compute/v2.1/servers/page-a");
    expect(serverName.status).toBe(404);
  });

  it("pages Nova flavors with limit/marker", async () => {
    const page = await get("/compute/v2.1/flavors?limit=1");
    const body = page.body as { flavors: unknown[]; flavors_links?: { rel: string }[] };
    expect(body.flavors).toHaveLength(1);
    expect(body.flavors_links?.[0]?.rel).toBe("next");
    const bad = await get("/compute/v2.1/flavors?limit=-1");
    expect(bad.status).toBe(400);
    expect(bad.body).toHaveProperty("badRequest");
  });
});

describe("Keystone tokens on the wire", () => {
  it("POST /v3/auth/tokens: 201, X-Subject-Token, timestamps with microseconds and a literal Z, a catalog with region and region_id", async () => {
    const result = await http(env, "POST", "/identity/v3/auth/tokens", {
      body: { auth: { identity: { methods: ["password"], password: { user: { name: user.user, domain: { name: "Default" }, password: user.password } } }, scope: { project: { id: user.projectId } } } },
    });
    expect(result.status).toBe(201);
    const subject = result.headers.get("x-subject-token");
    expect(subject).toBeTruthy();
    const t = (result.body as { token: Record<string, unknown> }).token;
    expect(t.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(t.issued_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(t).toMatchObject({ methods: ["password"], project: { id: user.projectId, name: user.project, domain: { id: "default", name: "Default" } }, user: { id: user.userId, name: user.user } });
    expect(t.roles).toEqual([{ id: expect.any(String) as unknown, name: "member" }, { id: expect.any(String) as unknown, name: "reader" }]);
    const catalog = t.catalog as { type: string; endpoints: { region: string; region_id: string; url: string }[] }[];
    for (const entry of catalog) for (const e of entry.endpoints) expect(e).toMatchObject({ region: "RegionOne", region_id: "RegionOne" });
    expect(catalog.find((c) => c.type === "block-storage")?.endpoints[0]?.url).toBe(`${env.facade.url}/volume/v3/${user.projectId}`);

    const validated = await http(env, "GET", "/identity/v3/auth/tokens", { token, headers: { "X-Subject-Token": subject ?? "" } });
    expect(validated.status).toBe(200);
    expect(validated.headers.get("x-subject-token")).toBe(subject);
    expect((await http(env, "HEAD", "/identity/v3/auth/tokens", { token, headers: { "X-Subject-Token": subject ?? "" } })).status).toBe(200);
  });

  it("wrong passwords, unknown users and disabled users all get the same 401", async () => {
    const attempt = (name: string, password: string) =>
      http(env, "POST", "/identity/v3/auth/tokens", { body: { auth: { identity: { methods: ["password"], password: { user: { name, domain: { id: "default" }, password } } } } } });
    const wrong = await attempt(user.user, "wrong");
    const unknown = await attempt("nobody-at-all", "wrong");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body).toMatchObject({ error: { code: 401, title: "Unauthorized" } });
  });

  it("rescopes with the token method, keeping the expiry and chaining the audit ids", async () => {
    const unscoped = await http(env, "POST", "/identity/v3/auth/tokens", {
      body: { auth: { identity: { methods: ["password"], password: { user: { id: user.userId, password: user.password } } }, scope: "unscoped" } },
    });
    expect(unscoped.status).toBe(201);
    const first = (unscoped.body as { token: { expires_at: string; audit_ids: string[]; catalog?: unknown } }).token;
    expect(first.catalog).toBeUndefined();
    const scoped = await http(env, "POST", "/identity/v3/auth/tokens", {
      body: { auth: { identity: { methods: ["token"], token: { id: unscoped.headers.get("x-subject-token") } }, scope: { project: { name: user.project, domain: { id: "default" } } } } },
    });
    expect(scoped.status).toBe(201);
    const second = (scoped.body as { token: { expires_at: string; audit_ids: string[] } }).token;
    expect(second.expires_at).toBe(first.expires_at);
    expect(second.audit_ids[1]).toBe(first.audit_ids[0]);
  });
});
