import { describe, expect, it } from "vitest";
import { server } from "../network/fixtures.js";
import { desiredInstancePorts } from "./instance-ports.js";

describe("ports created for an instance's network entries", () => {
  it("one per {networkRef} entry, with the fixed IP asked for and the instance's security groups; none for portRef", () => {
    const ports = desiredInstancePorts(
      server("web", {
        securityGroupRefs: ["web"],
        networks: [{ networkRef: "front", fixedIP: "10.0.0.20" }, { portRef: "mine" }, { networkRef: "other/shared" }],
      }),
    );
    expect(ports.map((p) => [p.metadata.name, p.spec])).toEqual([
      ["web-front", { networkRef: "front", fixedIPs: [{ ipAddress: "10.0.0.20" }], securityGroupRefs: ["web"] }],
      ["web-other.shared", { networkRef: "other/shared", securityGroupRefs: ["web"] }],
    ]);
    expect(ports[0]?.metadata.labels).toMatchObject({ "altostack.io/project": "demo" });
  });

  it("puts ports in the default group when the instance names none, as Nova does", () => {
    expect(desiredInstancePorts(server("web", { networks: [{ networkRef: "front" }] }))[0]?.spec.securityGroupRefs).toEqual(["default"]);
  });
});
