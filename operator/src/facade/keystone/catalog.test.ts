import { describe, expect, it } from "vitest";
import { buildCatalog, catalogEndpoints } from "./catalog.js";
import { roleByIdOrName, roleId, tokenView, withImpliedRoles } from "./views.js";

const opts = { publicUrl: "http://cloud:5000", region: "RegionOne" };

describe("the service catalog", () => {
  it("lists every service with region and region_id on every endpoint, in three interfaces", () => {
    const catalog = buildCatalog(opts, "p1");
    expect(catalog.map((c) => c.type)).toEqual(["identity", "compute", "network", "image", "block-storage", "volumev3", "container"]);
    for (const entry of catalog) {
      expect(entry.endpoints.map((e) => e.interface)).toEqual(["public", "internal", "admin"]);
      for (const e of entry.endpoints) expect(e).toMatchObject({ region: "RegionOne", region_id: "RegionOne" });
    }
    const url = (type: string) => catalog.find((c) => c.type === type)?.endpoints[0]?.url;
    expect(url("compute")).toBe("http://cloud:5000/compute/v2.1");
    expect(url("network")).toBe("http://cloud:5000/network");
    expect(url("block-storage")).toBe("http://cloud:5000/volume/v3/p1");
    expect(url("container")).toBe("http://cloud:5000/container/v1");
  });

  it("leaves project URLs out without a project, and ids are stable", () => {
    expect(buildCatalog(opts, undefined).map((c) => c.type)).toEqual(["identity", "compute", "network", "image", "container"]);
    expect(buildCatalog(opts, "p1")[0]?.id).toBe(buildCatalog(opts, "p2")[0]?.id);
    expect(catalogEndpoints(opts).find((e) => e.url.includes("volume"))?.url).toBe("http://cloud:5000/volume/v3/$(project_id)s");
  });
});

describe("roles", () => {
  it("implies member and reader from admin, reader from member", () => {
    expect(withImpliedRoles(["admin"])).toEqual(["admin", "member", "reader"]);
    expect(withImpliedRoles(["member"])).toEqual(["member", "reader"]);
    expect(withImpliedRoles(["reader", "reader"])).toEqual(["reader"]);
  });

  it("finds roles by id or name", () => {
    expect(roleByIdOrName(roleId("member"))).toBe("member");
    expect(roleByIdOrName("Reader")).toBe("reader");
    expect(roleByIdOrName("owner")).toBeUndefined();
  });

  it("shows unscoped tokens without roles or catalog", () => {
    const user = { apiVersion: "altostack.io/v1alpha1" as const, kind: "User", metadata: { name: "alice", uid: "u1" }, spec: {} };
    const view = tokenView({
      methods: ["password"],
      user,
      project: undefined,
      domainScoped: false,
      roles: [],
      issuedAt: new Date(0),
      expiresAt: new Date(1000),
      auditIds: ["a"],
      catalog: buildCatalog(opts, undefined),
      applicationCredential: undefined,
    });
    expect(Object.keys(view.token).sort()).toEqual(["audit_ids", "expires_at", "issued_at", "methods", "user"]);
    expect(view.token.user).toEqual({ id: "u1", name: "alice", domain: { id: "default", name: "Default" }, password_expires_at: null });
  });
});
