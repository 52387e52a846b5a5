import { describe, expect, it } from "vitest";
import { isSecurityLabelKey, portSecurityLabel, securityGroupLabel } from "./labels.js";

describe("isSecurityLabelKey", () => {
  const longName = "a-very-long-security-group-name-that-is-shortened.with.dots";
  const cases: [string, string, boolean][] = [
    ["a (group, network) label", securityGroupLabel("web", "ns/front"), true],
    ["a shortened (group, network) label", securityGroupLabel(longName, "other/shared-network-with-a-long-name"), true],
    ["a port-security label", portSecurityLabel("ns/front"), true],
    ["a shortened port-security label", portSecurityLabel(`ns/${longName}`), true],
    ["the earlier per-group label", "altostack.io/sg-web", true],
    ["the earlier port-security label", "altostack.io/port-security", true],
    ["the server label", "altostack.io/server", false],
    ["the project label", "altostack.io/project", false],
    ["the security-group-uid label of policies", "altostack.io/security-group-uid", false],
    ["another prefix", "example.com/sg-web", false],
    ["KubeVirt's labels", "kubevirt.io/created-by", false],
    ["an unprefixed look-alike", "sg-web", false],
  ];
  it.each(cases)("%s", (_name, key, expected) => {
    expect(isSecurityLabelKey(key)).toBe(expected);
  });
});
