import { describe, expect, it } from "vitest";
import { sharingInUseVerdict } from "./status.js";

describe("a network unshared while other projects use it", () => {
  it("is not Ready, in Neutron's words, naming the projects and saying what to do", () => {
    const verdict = sharingInUseVerdict(["project-b", "kube-system"]);
    expect(verdict.status).toBe("False");
    expect(verdict.reason).toBe("SharingInUse");
    expect(verdict.message).toMatch(/^unable to reconfigure sharing settings: other projects are using the network: /);
    expect(verdict.message).toContain("b (namespace project-b)");
    expect(verdict.message).toContain("namespace kube-system");
    expect(verdict.message).toMatch(/Delete their ports .*, or set shared: true again$/);
  });

  it("keeps the message short when many projects use it", () => {
    const namespaces = Array.from({ length: 8 }, (_, i) => `project-p${i}`);
    const { message } = sharingInUseVerdict(namespaces);
    expect(message).toContain("p4 (namespace project-p4) and 3 more");
    expect(message).not.toContain("project-p5");
  });
});
