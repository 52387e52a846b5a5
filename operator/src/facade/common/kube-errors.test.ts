import { describe, expect, it } from "vitest";
import { KubeApiError, KubeRequestError } from "../../kube/index.js";
import { fromKubeError } from "./kube-errors.js";

const action = { policy: "os_compute_api:servers:create", subject: "server web" };
const quota = new KubeApiError({
  statusCode: 403,
  reason: "Forbidden",
  message: 'servers.altostack.io "web" is forbidden: exceeded quota: altostack-quota, requested: count/servers.altostack.io=1, used: count/servers.altostack.io=10, limited: count/servers.altostack.io=10',
});

describe("apiserver refusals in OpenStack terms", () => {
  it("quota: Nova 403, Neutron 409 OverQuota, Cinder 413", () => {
    expect(fromKubeError(quota, "nova", action)).toMatchObject({ status: 403 });
    expect(fromKubeError(quota, "nova", action).message).toContain("Quota exceeded for server web");
    expect(fromKubeError(quota, "neutron", action)).toMatchObject({ status: 409, neutronType: "OverQuota" });
    expect(fromKubeError(quota, "cinder", action)).toMatchObject({ status: 413 });
  });

  it("RBAC refusals are the policy's 403", () => {
    const e = fromKubeError(new KubeApiError({ statusCode: 403, reason: "Forbidden", message: "forbidden" }), "nova", action);
    expect(e.status).toBe(403);
    expect(e.message).toBe("Policy doesn't allow os_compute_api:servers:create to be performed.");
  });

  it("validation failures are 400 with the CEL/schema messages", () => {
    const invalid = new KubeApiError({
      statusCode: 422,
      reason: "Invalid",
      message: "Server.altostack.io is invalid",
      details: { causes: [{ field: "spec", message: "a server boots from exactly one of imageRef or bootVolume" }] },
    });
    const e = fromKubeError(invalid, "nova", action);
    expect(e.status).toBe(400);
    expect(e.message).toBe("Invalid server web: spec: a server boots from exactly one of imageRef or bootVolume");
  });

  it("conflicts, absences and outages", () => {
    expect(fromKubeError(new KubeApiError({ statusCode: 409, reason: "AlreadyExists", message: "x" }), "nova", action).message).toBe("server web already exists.");
    expect(fromKubeError(new KubeApiError({ statusCode: 409, reason: "Conflict", message: "x" }), "nova", action).message).toContain("changed concurrently");
    expect(fromKubeError(new KubeApiError({ statusCode: 404, message: "x" }), "nova", action).status).toBe(404);
    expect(fromKubeError(new KubeApiError({ statusCode: 500, message: "x" }), "nova", action).status).toBe(503);
    expect(fromKubeError(new KubeRequestError("refused", "GET", "/x"), "nova", action).status).toBe(503);
  });

  it("leaves other errors alone", () => {
    expect(() => fromKubeError(new TypeError("bug"), "nova", action)).toThrow(TypeError);
  });
});
