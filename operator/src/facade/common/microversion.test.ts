import { describe, expect, it } from "vitest";
import { ApiError } from "./errors.js";
import { atLeast, microversionHeaders, negotiateMicroversion, parseMicroversion, type MicroversionSpec } from "./microversion.js";

const nova: MicroversionSpec = { serviceType: "compute", legacyHeader: "X-OpenStack-Nova-API-Version", min: { major: 2, minor: 1 }, max: { major: 2, minor: 79 } };
const cinder: MicroversionSpec = { serviceType: "volume", min: { major: 3, minor: 0 }, max: { major: 3, minor: 67 } };

const failure = (fn: () => unknown): ApiError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("did not throw");
};

describe("microversions", () => {
  it("parses X.Y and nothing else", () => {
    expect(parseMicroversion("2.79")).toEqual({ major: 2, minor: 79 });
    expect(parseMicroversion(" 3.0 ")).toEqual({ major: 3, minor: 0 });
    for (const bad of ["2", "2.", "v2.1", "2.01", "a.b", "2.1.1", ""]) expect(parseMicroversion(bad), bad).toBeUndefined();
  });

  it("compares numerically, not as text", () => {
    expect(atLeast({ major: 2, minor: 100 }, "2.47")).toBe(true);
    expect(atLeast({ major: 2, minor: 9 }, "2.47")).toBe(false);
    expect(atLeast({ major: 3, minor: 0 }, "2.99")).toBe(true);
  });

  const table: [string, Record<string, string>, MicroversionSpec, string][] = [
    ["no header: the minimum", {}, nova, "2.1"],
    ["standard header", { "openstack-api-version": "compute 2.60" }, nova, "2.60"],
    ["legacy header", { "x-openstack-nova-api-version": "2.12" }, nova, "2.12"],
    ["standard wins over legacy", { "openstack-api-version": "compute 2.50", "x-openstack-nova-api-version": "2.10" }, nova, "2.50"],
    ["another service's entry is ignored", { "openstack-api-version": "volume 3.10" }, nova, "2.1"],
    ["several entries in one header", { "openstack-api-version": "volume 3.10, compute 2.30" }, nova, "2.30"],
    ["latest", { "openstack-api-version": "compute latest" }, nova, "2.79"],
    ["Cinder", { "openstack-api-version": "volume 3.42" }, cinder, "3.42"],
  ];
  for (const [name, headers, spec, expected] of table) {
    it(`negotiates: ${name}`, () => {
      const v = negotiateMicroversion(headers, spec);
      expect(`${v.major}.${v.minor}`).toBe(expected);
    });
  }

  it("refuses out-of-range versions with 406 and malformed ones with 400, as Nova words them", () => {
    const tooNew = failure(() => negotiateMicroversion({ "openstack-api-version": "compute 2.80" }, nova));
    expect(tooNew.status).toBe(406);
    expect(tooNew.message).toBe("Version 2.80 is not supported by the API. Minimum is 2.1 and maximum is 2.79.");
    expect(failure(() => negotiateMicroversion({ "x-openstack-nova-api-version": "2.0" }, nova)).status).toBe(406);
    const malformed = failure(() => negotiateMicroversion({ "x-openstack-nova-api-version": "latest-ish" }, nova));
    expect(malformed.status).toBe(400);
    expect(malformed.message).toContain("is of invalid format");
  });

  it("echoes both headers for Nova and one for Cinder, with Vary", () => {
    expect(microversionHeaders(nova, { major: 2, minor: 79 })).toEqual({
      "OpenStack-API-Version": "compute 2.79",
      "X-OpenStack-Nova-API-Version": "2.79",
      Vary: "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
    });
    expect(microversionHeaders(cinder, { major: 3, minor: 5 })).toEqual({ "OpenStack-API-Version": "volume 3.5", Vary: "OpenStack-API-Version" });
  });
});
