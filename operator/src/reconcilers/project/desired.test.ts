import { describe, expect, it } from "vitest";
import type { Project } from "../../api/index.js";
import { desiredChildren, effectiveQuotas, roleRules } from "./desired.js";
import { describeRemaining, readyCondition } from "./status.js";

const project = (spec: Project["spec"] = {}): Project => ({
  apiVersion: "altostack.io/v1alpha1",
  kind: "Project",
  metadata: { name: "demo", uid: "u-1", generation: 1 },
  spec,
});

describe("project desired state", () => {
  it("puts everything in the prefixed namespace, labelled with the project", () => {
    const children = desiredChildren(project());
    expect(children.namespace.metadata.name).toBe("project-demo");
    for (const obj of [children.resourceQuota, ...children.roles, ...children.roleBindings]) {
      expect(obj.metadata.namespace).toBe("project-demo");
      expect(obj.metadata.labels?.["altostack.io/project"]).toBe("demo");
    }
  });

  it.each([
    ["defaults", {}, { "count/servers.altostack.io": "10", "requests.storage": "1000Gi", "count/ports.altostack.io": "500" }],
    ["overrides", { instances: 3, gigabytes: 50 }, { "count/servers.altostack.io": "3", "requests.storage": "50Gi" }],
  ])("quota hard limits: %s", (_name, quotas, expected) => {
    const hard = desiredChildren(project({ quotas })).resourceQuota.spec.hard;
    expect(hard).toMatchObject(expected);
  });

  it("leaves unlimited (-1) quotas out of the ResourceQuota and keeps cores/ram for the server reconciler", () => {
    const p = project({ quotas: { instances: -1, cores: 4 } });
    const hard = desiredChildren(p).resourceQuota.spec.hard;
    expect(hard["count/servers.altostack.io"]).toBeUndefined();
    expect(Object.keys(hard).some((k) => k.includes("cpu"))).toBe(false);
    expect(effectiveQuotas(p)).toMatchObject({ instances: -1, cores: 4, ram: 51200 });
  });

  it("binds each role to its impersonation group and to the members named in the spec", () => {
    const p = project({
      members: [
        { user: "alice", role: "admin" },
        { group: "ops", role: "reader" },
      ],
    });
    const bindings = desiredChildren(p).roleBindings;
    const admin = bindings.find((b) => b.metadata.name === "altostack:admin");
    const reader = bindings.find((b) => b.metadata.name === "altostack:reader");
    expect(admin?.subjects?.map((s) => `${s.kind}:${s.name}`)).toEqual([
      "Group:altostack:project:demo:admin",
      "User:alice",
    ]);
    expect(reader?.subjects?.map((s) => `${s.kind}:${s.name}`)).toEqual([
      "Group:altostack:project:demo:reader",
      "Group:ops",
    ]);
  });

  it("gives readers no write verbs and members write on tenant kinds but never on status", () => {
    const writes = (role: "reader" | "member") =>
      roleRules(role).filter((r) => r.verbs.includes("create")).flatMap((r) => r.resources);
    expect(writes("reader")).toEqual([]);
    expect(writes("member")).toContain("servers");
    expect(writes("member").some((r) => r.endsWith("/status"))).toBe(false);
    // The image API uploads image data with a CDI upload token asked for as the member.
    expect(roleRules("member")).toContainEqual({ apiGroups: ["upload.cdi.kubevirt.io"], resources: ["uploadtokenrequests"], verbs: ["create"] });
    const consoles = { apiGroups: ["subresources.kubevirt.io"], resources: ["virtualmachineinstances/console", "virtualmachineinstances/vnc"], verbs: ["get"] };
    expect(roleRules("member")).toContainEqual(consoles);
    expect(roleRules("reader")).not.toContainEqual(consoles);
    // Image download: members export volumes as themselves, with a token Secret they may create but never read.
    const exports = { apiGroups: ["export.kubevirt.io"], resources: ["virtualmachineexports"], verbs: ["get", "list", "watch", "create", "delete"] };
    expect(roleRules("member")).toContainEqual(exports);
    expect(roleRules("member").filter((r) => r.resources.includes("secrets"))).toEqual([{ apiGroups: [""], resources: ["secrets"], verbs: ["create"] }]);
    expect(roleRules("reader")).not.toContainEqual(exports);
  });

  it("lets project members read only their own Project object", () => {
    const rule = desiredChildren(project()).clusterRole.rules?.find((r) => r.resources.includes("projects"));
    expect(rule?.resourceNames).toEqual(["demo"]);
  });
});

describe("project Ready condition", () => {
  const base = { namespaceName: "project-demo", namespaceConflict: false, deleting: false, remaining: {}, cascade: false };

  it.each([
    ["ready", base, "True", "Reconciled"],
    ["namespace taken", { ...base, namespaceConflict: true }, "False", "NamespaceConflict"],
    ["deleting, empty", { ...base, deleting: true }, "False", "Progressing"],
    ["deleting, holds things", { ...base, deleting: true, remaining: { servers: 2 } }, "False", "DeletionBlocked"],
    ["cascade", { ...base, deleting: true, cascade: true, remaining: { volumes: 1 } }, "False", "CascadeDeleting"],
  ])("%s", (_name, observation, status, reason) => {
    const verdict = readyCondition(observation);
    expect(verdict.status).toBe(status);
    expect(verdict.reason).toBe(reason);
  });

  it("names what blocks the deletion and how to proceed", () => {
    const verdict = readyCondition({ ...base, deleting: true, remaining: { servers: 2, volumes: 1, ports: 0 } });
    expect(verdict.message).toContain("2 servers, 1 volume");
    expect(verdict.message).toContain("deletionPolicy: Cascade");
    expect(describeRemaining({ ports: 0 })).toBe("");
  });
});
