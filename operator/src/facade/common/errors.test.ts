import { describe, expect, it } from "vitest";
import { faultBody, reasonPhrase, unauthorized } from "./errors.js";

describe("fault bodies, per service", () => {
  const cases: [string, Parameters<typeof faultBody>, unknown][] = [
    ["Nova 404", ["nova", 404, "Instance x could not be found."], { itemNotFound: { code: 404, message: "Instance x could not be found." } }],
    ["Nova 400", ["nova", 400, "bad"], { badRequest: { code: 400, message: "bad" } }],
    ["Nova 409", ["nova", 409, "locked"], { conflictingRequest: { code: 409, message: "locked" } }],
    ["Nova 413", ["nova", 413, "big"], { overLimit: { code: 413, message: "big" } }],
    ["Nova 415", ["nova", 415, "type"], { badMediaType: { code: 415, message: "type" } }],
    ["Nova 406 has no own name", ["nova", 406, "v"], { computeFault: { code: 406, message: "v" } }],
    ["Nova 500", ["nova", 500, "oops"], { computeFault: { code: 500, message: "oops" } }],
    ["Cinder 404 like Nova", ["cinder", 404, "Volume x could not be found."], { itemNotFound: { code: 404, message: "Volume x could not be found." } }],
    ["Neutron with a type", ["neutron", 404, "Network x could not be found.", "NetworkNotFound"], { NeutronError: { type: "NetworkNotFound", message: "Network x could not be found.", detail: "" } }],
    ["Neutron default type", ["neutron", 400, "bad"], { NeutronError: { type: "HTTPBadRequest", message: "bad", detail: "" } }],
    ["Neutron policy", ["neutron", 403, "no"], { NeutronError: { type: "PolicyNotAuthorized", message: "no", detail: "" } }],
    ["Keystone", ["keystone", 401, "auth"], { error: { code: 401, title: "Unauthorized", message: "auth" } }],
    ["Glance (webob JSON)", ["glance", 404, "No image found"], { message: "No image found", code: "404 Not Found", title: "Not Found" }],
  ];
  for (const [name, args, body] of cases) {
    it(name, () => {
      expect(faultBody(...args)).toEqual(body);
    });
  }

  it("names HTTP reasons as Keystone's titles do", () => {
    expect(reasonPhrase(413)).toBe("Request Entity Too Large");
    expect(reasonPhrase(599)).toBe("Error");
  });

  it("tells 401 clients where to authenticate", () => {
    const error = unauthorized("needs auth", "http://h/identity");
    expect(error.status).toBe(401);
    expect(error.headers["WWW-Authenticate"]).toBe('Keystone uri="http://h/identity"');
  });
});
