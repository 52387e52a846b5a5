import { describe, expect, it } from "vitest";
import { reply, type Route } from "./http.js";
import { Router } from "./router.js";

const route = (method: Route["method"], path: string): Route => ({ method, path, handler: () => Promise.resolve(reply(200, { path })) });
const router = new Router([
  route("GET", "/v2.1/servers/{id}"),
  route("DELETE", "/v2.1/servers/{id}"),
  route("GET", "/v2.1/servers/detail"),
  route("GET", "/v2.1/servers"),
  route("POST", "/v2.1/servers"),
  route("GET", "/v3/{project_id}/volumes"),
  route("GET", "/v3/volumes/{id}"),
]);

describe("router", () => {
  it("prefers literal segments over parameters", () => {
    const detail = router.match("GET", "/v2.1/servers/detail");
    expect(detail.kind === "found" && detail.route.path).toBe("/v2.1/servers/detail");
    const one = router.match("GET", "/v2.1/servers/abc");
    expect(one).toMatchObject({ kind: "found", params: { id: "abc" } });
  });

  it("decodes parameters and ignores trailing slashes", () => {
    expect(router.match("GET", "/v2.1/servers/a%20b/")).toMatchObject({ kind: "found", params: { id: "a b" } });
  });

  it("falls back to the parameter route for other methods on a literal path", () => {
    const deletion = router.match("DELETE", "/v2.1/servers/detail");
    expect(deletion).toMatchObject({ kind: "found", params: { id: "detail" } });
  });

  it("answers 405 with the allowed methods, and not found otherwise", () => {
    expect(router.match("PUT", "/v2.1/servers")).toEqual({ kind: "method-not-allowed", allowed: ["GET", "POST"] });
    expect(router.match("GET", "/v2.1/nothing")).toEqual({ kind: "not-found" });
  });

  it("serves HEAD with the GET route", () => {
    expect(router.match("HEAD", "/v2.1/servers")).toMatchObject({ kind: "found" });
  });

  it("tells project-scoped and project-less Cinder paths apart", () => {
    expect(router.match("GET", "/v3/p1/volumes")).toMatchObject({ kind: "found", params: { project_id: "p1" } });
    expect(router.match("GET", "/v3/volumes/v1")).toMatchObject({ kind: "found", params: { id: "v1" } });
  });

  it("refuses malformed escapes", () => {
    expect(() => router.match("GET", "/v2.1/servers/%E0%A4%A")).toThrow("malformed URL path");
  });
});
