import { describe, expect, it } from "vitest";
import { CLOUD_ADMIN_GROUP as FACADE_CLOUD_ADMIN_GROUP } from "../../facade/keystone/identity.js";
import { CLOUD_ADMIN_GROUP, FACADE_IMPERSONATION_ROLE, desiredImpersonationRole } from "./desired.js";

describe("facade impersonation allowlist", () => {
  it("names every user and the three role groups of every project, sorted and without duplicates", () => {
    const role = desiredImpersonationRole(["bob", "alice", "bob"], ["demo", "admin"]);
    expect(role.metadata.name).toBe(FACADE_IMPERSONATION_ROLE);
    expect(role.rules).toEqual([
      { apiGroups: [""], resources: ["users"], verbs: ["impersonate"], resourceNames: ["alice", "bob"] },
      {
        apiGroups: [""],
        resources: ["groups"],
        verbs: ["impersonate"],
        resourceNames: [
          "altostack:cloud-admin",
          "altostack:project:admin:admin",
          "altostack:project:admin:member",
          "altostack:project:admin:reader",
          "altostack:project:demo:admin",
          "altostack:project:demo:member",
          "altostack:project:demo:reader",
        ],
      },
    ]);
  });

  it("never emits a rule with empty resourceNames (that would allow every name)", () => {
    const role = desiredImpersonationRole([], []);
    for (const rule of role.rules) expect(rule.resourceNames.length).toBeGreaterThan(0);
    expect(role.rules.map((r) => r.resources[0])).toEqual(["groups"]);
  });

  it("never lists system users or groups", () => {
    const names = desiredImpersonationRole(["carol"], ["p"]).rules.flatMap((r) => r.resourceNames);
    expect(names.some((n) => n.startsWith("system:"))).toBe(false);
  });

  it("uses the facade's cloud-admin group", () => {
    expect(CLOUD_ADMIN_GROUP).toBe(FACADE_CLOUD_ADMIN_GROUP);
  });
});
