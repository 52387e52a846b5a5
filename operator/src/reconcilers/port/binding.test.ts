import { describe, expect, it } from "vitest";
import type { Container } from "../../api/index.js";
import { NS, port, server } from "../network/fixtures.js";
import { allocationFailureVerdict, deviceOwner, portBinding, portNeutronStatus } from "./binding.js";

const older = { ...server("older"), metadata: { ...server("older").metadata, creationTimestamp: "2026-01-01T00:00:00Z" } };
const newer = { ...server("newer"), metadata: { ...server("newer").metadata, creationTimestamp: "2026-02-01T00:00:00Z" } };

describe("port binding", () => {
  it("binds an auto-created port to its owner, an explicit one to the oldest instance naming it", () => {
    expect(portBinding({ kind: "Server", object: newer }, [{ kind: "Server", object: older }])?.deviceId).toBe("newer-uid");
    expect(portBinding(undefined, [{ kind: "Server", object: newer }, { kind: "Server", object: older }])?.deviceId).toBe("older-uid");
    expect(portBinding(undefined, [])).toBeUndefined();
  });

  it("uses Neutron's device owners", () => {
    expect(deviceOwner({ kind: "Server", object: server("s", { availabilityZone: "az1" }) })).toBe("compute:az1");
    expect(deviceOwner({ kind: "Server", object: server("s") })).toBe("compute:nova");
    expect(deviceOwner({ kind: "Container", object: {} as Container })).toBe("container");
  });

  it("is ACTIVE only when ready, bound and administratively up", () => {
    const binding = portBinding(undefined, [{ kind: "Server", object: older }]);
    expect(portNeutronStatus(port("p"), true, binding)).toBe("ACTIVE");
    expect(portNeutronStatus(port("p"), true, undefined)).toBe("DOWN");
    expect(portNeutronStatus(port("p"), false, binding)).toBe("DOWN");
    expect(portNeutronStatus(port("p", { adminStateUp: false }), true, binding)).toBe("DOWN");
  });
});

describe("allocation failures in Neutron's terms", () => {
  const heldBy = (namespace: string) => ({ kind: "Port", namespace, name: "other-port", uid: "u" });
  it.each([
    [{ key: "k", ok: false, why: "exhausted" } as const, "subnet a", "IpAddressGenerationFailure", /no more IP addresses available on subnet a/],
    [{ key: "k", ok: false, why: "taken", value: "10.0.0.5", heldBy: heldBy(NS) } as const, "subnet a", "IpAddressAlreadyAllocated", /10.0.0.5 on subnet a is already allocated to port other-port/],
    [{ key: "k", ok: false, why: "taken", value: "fa:16:3e:00:00:01", heldBy: heldBy(NS) } as const, "mac", "MacAddressInUse", /fa:16:3e:00:00:01 is already in use by port other-port/],
    [{ key: "k", ok: false, why: "exhausted" } as const, "mac", "MacAddressInUse", /every generated MAC address tried is in use/],
  ])("%#", (outcome, what, reason, message) => {
    const verdict = allocationFailureVerdict(outcome, what, NS);
    expect(verdict.reason).toBe(reason);
    expect(verdict.message).toMatch(message);
  });

  it("never names another project's port", () => {
    const verdict = allocationFailureVerdict({ key: "k", ok: false, why: "taken", value: "10.0.0.5", heldBy: heldBy("project-secret") }, "subnet a", NS);
    expect(verdict.message).toContain("a port of another project");
    expect(verdict.message).not.toContain("other-port");
  });
});
