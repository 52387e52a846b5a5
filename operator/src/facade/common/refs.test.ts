import { describe, expect, it } from "vitest";
import type { KubeObject, ResourceType } from "../../kube/index.js";
import { ApiError } from "./errors.js";
import { byIdOrUniqueName, imageRefById, networkRefById, refFrom } from "./refs.js";
import type { FacadeStore } from "./store.js";

const obj = (namespace: string, name: string, uid: string, spec: Record<string, unknown> = {}) => ({ metadata: { namespace, name, uid }, spec });
const objects: Record<string, KubeObject> = {
  "net-own": obj("project-a", "private", "net-own"),
  "net-shared": obj("project-b", "public", "net-shared", { shared: true }),
  "net-closed": obj("project-b", "secret", "net-closed"),
  "img-public": obj("project-b", "cirros", "img-public", { visibility: "public" }),
  "img-private": obj("project-b", "mine", "img-private", { visibility: "private" }),
};
const lookup = (_rt: ResourceType, uid: string): KubeObject | undefined => objects[uid];
const store = { byUid: lookup as FacadeStore["byUid"] };

describe("references a project's specs hold", () => {
  it("names its own objects by name and another project's as project/name", () => {
    expect(refFrom("project-a", obj("project-a", "web", "1"))).toBe("web");
    expect(refFrom("project-a", obj("project-b", "web", "1"))).toBe("b/web");
  });

  it.each([
    ["its own network", "net-own", "private"],
    ["another project's shared network", "net-shared", "b/public"],
    ["another project's private network: none", "net-closed", undefined],
    ["an unknown id: none", "nope", undefined],
  ])("network ids: %s", (_why, id, expected) => {
    expect(networkRefById(store, "project-a", id)).toBe(expected);
  });

  it.each([
    ["another project's public image", "img-public", "b/cirros"],
    ["another project's private image: none", "img-private", undefined],
    ["an unknown id: none", "nope", undefined],
  ])("image ids: %s", (_why, id, expected) => {
    expect(imageRefById(store, "project-a", id)).toBe(expected);
  });

  it("finds by id first, then by a unique name, and refuses an ambiguous name with a 409", () => {
    const groups = [obj("p", "web", "u1"), obj("p", "db-1", "u2", { name: "db" }), obj("p", "db-2", "u3", { name: "db" })];
    expect(byIdOrUniqueName(groups, "u2", "security group")?.metadata.name).toBe("db-1");
    expect(byIdOrUniqueName(groups, "web", "security group")?.metadata.name).toBe("web");
    expect(byIdOrUniqueName(groups, "none", "security group")).toBeUndefined();
    const ambiguous = (() => {
      try {
        return byIdOrUniqueName(groups, "db", "security group");
      } catch (e) {
        return e;
      }
    })();
    expect(ambiguous).toBeInstanceOf(ApiError);
    expect(ambiguous).toMatchObject({ status: 409, message: "Multiple security groups named db exist; use its id." });
  });
});
