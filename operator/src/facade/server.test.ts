// The HTTP server on its own (no apiserver): routing, authentication before anything else, microversions, body
// limits, and every failure rendered as the service's own fault — never a stack trace, never a 5xx for bad input.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { silentLogger } from "../kube/index.js";
import type { Caller } from "./common/caller.js";
import { ApiError, unauthorized } from "./common/errors.js";
import { reply, type Service } from "./common/http.js";
import { createFacadeHandler } from "./server.js";

const caller = { userId: "u-1", userName: "alice" } as unknown as Caller;
const compute: Service = {
  type: "compute",
  prefix: "/compute",
  faultStyle: "nova",
  microversions: { serviceType: "compute", legacyHeader: "X-OpenStack-Nova-API-Version", min: { major: 2, minor: 1 }, max: { major: 2, minor: 79 } },
  unversionedPaths: ["/"],
  routes: [
    { method: "GET", path: "/", public: true, handler: () => Promise.resolve(reply(200, { versions: [] })) },
    { method: "GET", path: "/v2.1/whoami", handler: (ctx) => Promise.resolve(reply(200, { user: ctx.caller().userName, version: `${ctx.version.major}.${ctx.version.minor}` })) },
    { method: "POST", path: "/v2.1/things", handler: async (ctx) => reply(201, await ctx.body(z.object({ thing: z.object({ size: z.int() }) }))) },
    { method: "GET", path: "/v2.1/boom", handler: () => Promise.reject(new Error("internal detail")) },
  ],
};
const network: Service = {
  type: "network",
  prefix: "/network",
  faultStyle: "neutron",
  routes: [{ method: "GET", path: "/v2.0/networks/{id}", handler: (ctx) => Promise.reject(new ApiError(404, `Network ${ctx.params.id ?? ""} could not be found.`, { neutronType: "NetworkNotFound" })) }],
};

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer(
    createFacadeHandler({
      services: [compute, network],
      authenticate: (token) => (token === "good" ? Promise.resolve(caller) : Promise.reject(unauthorized("The request you have made requires authentication.", undefined))),
      logger: silentLogger(),
      publicUrl: () => base,
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
});

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

describe("the facade's HTTP server", () => {
  it("serves public routes without a token and needs one everywhere else (Keystone's 401 with WWW-Authenticate)", async () => {
    expect((await call("GET", "/compute/")).status).toBe(200);
    const anonymous = await call("GET", "/compute/v2.1/whoami");
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } });
    expect(anonymous.headers.get("www-authenticate")).toBe(`Keystone uri="${base}/identity"`);
    expect((await call("GET", "/compute/v2.1/whoami", { "X-Auth-Token": "bad" })).status).toBe(401);
    const ok = await call("GET", "/compute/v2.1/whoami", { "X-Auth-Token": "good", "OpenStack-API-Version": "compute 2.60" });
    expect(ok.body).toEqual({ user: "alice", version: "2.60" });
    expect(ok.headers.get("x-openstack-nova-api-version")).toBe("2.60");
    expect(ok.headers.get("x-openstack-request-id")).toMatch(/^req-[0-9a-f-]{36}$/);
  });

  it("validates bodies: malformed JSON, wrong types, wrong media type, too large", async () => {
    const post = (body: string, type = "application/json") => call("POST", "/compute/v2.1/things", { "X-Auth-Token": "good", "Content-Type": type }, body);
    expect(await post('{"thing": {"size": 3}}')).toMatchObject({ status: 201, body: { thing: { size: 3 } } });
    expect(await post("{")).toMatchObject({ status: 400, body: { badRequest: { code: 400 } } });
    const wrong = await post('{"thing": {"size": "big"}}');
    expect(wrong.status).toBe(400);
    expect((wrong.body as { badRequest: { message: string } }).badRequest.message).toContain("thing.size");
    expect(await post("{}", "text/xml")).toMatchObject({ status: 415, body: { badMediaType: { code: 415 } } });
    expect(await post(JSON.stringify({ thing: { size: 1, pad: "x".repeat(120_000) } }))).toMatchObject({ status: 413, body: { overLimit: { code: 413 } } });
  });

  it("renders unknown routes, wrong methods, bad versions and handler bugs in the service's format", async () => {
    expect(await call("GET", "/compute/v2.1/nothing", { "X-Auth-Token": "good" })).toMatchObject({ status: 404, body: { itemNotFound: { code: 404 } } });
    const method = await call("DELETE", "/compute/v2.1/things", { "X-Auth-Token": "good" });
    expect(method).toMatchObject({ status: 405, body: { badMethod: { code: 405 } } });
    expect(method.headers.get("allow")).toBe("POST");
    expect(await call("GET", "/compute/v2.1/whoami", { "X-Auth-Token": "good", "OpenStack-API-Version": "compute 9.9" })).toMatchObject({ status: 406 });
    const bug = await call("GET", "/compute/v2.1/boom", { "X-Auth-Token": "good" });
    expect(bug.status).toBe(500);
    expect(JSON.stringify(bug.body)).not.toContain("internal detail");
    expect(await call("GET", "/network/v2.0/networks/n1", { "X-Auth-Token": "good" })).toMatchObject({
      status: 404,
      body: { NeutronError: { type: "NetworkNotFound", message: "Network n1 could not be found.", detail: "" } },
    });
    expect((await call("GET", "/elsewhere")).status).toBe(404);
  });

  it("answers HEAD without a body", async () => {
    const head = await fetch(`${base}/compute/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });
});

describe("the facade's probe endpoints", () => {
  it("answers /healthz and /readyz with 200 and no token, outside every service prefix", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("ok\n");
    }
    expect((await call("GET", "/healthzz")).status).toBe(404);
  });
});
