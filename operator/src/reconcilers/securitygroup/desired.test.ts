import { describe, expect, it } from "vitest";
import type { SecurityGroupRule } from "../../api/index.js";
import { network, NS, port, securityGroup } from "../network/fixtures.js";
import { defaultGroupRules, desiredGroupPolicy, policyName, portSecurityBaseline, translateRule } from "./desired.js";
import { instanceSecurityLabels, securityGroupLabel } from "./labels.js";

const GROUPS = new Set(["default", "web"]);
const NADS = [`${NS}/private`, `${NS}/net-1234`];

describe("security group rules → MultiNetworkPolicy rules", () => {
  it.each<[string, SecurityGroupRule, unknown]>([
    [
      "ssh from anywhere (IPv4)",
      { direction: "ingress", protocol: "tcp", portRangeMin: 22, portRangeMax: 22, remoteIPPrefix: "0.0.0.0/0" },
      { direction: "ingress", peer: { ipBlock: { cidr: "0.0.0.0/0" } }, ports: [{ protocol: "TCP", port: 22 }] },
    ],
    [
      "a small range, expanded port by port (v1beta1 has no endPort)",
      { direction: "ingress", protocol: "udp", portRangeMin: 5000, portRangeMax: 5002, remoteIPPrefix: "10.1.2.3/16" },
      {
        direction: "ingress",
        peer: { ipBlock: { cidr: "10.1.0.0/16" } },
        ports: [{ protocol: "UDP", port: 5000 }, { protocol: "UDP", port: 5001 }, { protocol: "UDP", port: 5002 }],
      },
    ],
    [
      "all ports of a protocol, by number",
      { direction: "egress", protocol: "6", portRangeMin: 1, portRangeMax: 65535 },
      { direction: "egress", peer: { ipBlock: { cidr: "0.0.0.0/0" } }, ports: [{ protocol: "TCP" }] },
    ],
    [
      "any protocol from a remote group: its members' pods, this namespace only",
      { direction: "ingress", ethertype: "IPv6", remoteGroupRef: "web" },
      { direction: "ingress", peer: { podSelector: { matchLabels: { "altostack.io/sg-web": "true" } } }, ports: undefined },
    ],
    [
      "IPv6 without prefix: ::/0, so an IPv6 rule does not open IPv4",
      { direction: "egress", ethertype: "IPv6", protocol: "sctp" },
      { direction: "egress", peer: { ipBlock: { cidr: "::/0" } }, ports: [{ protocol: "SCTP" }] },
    ],
  ])("%s", (_name, rule, expected) => {
    expect(translateRule(rule, GROUPS)).toEqual({ ok: true, ...(expected as object) });
  });

  it.each<[string, SecurityGroupRule, RegExp]>([
    ["ICMP (NetworkPolicy knows TCP, UDP and SCTP only)", { direction: "ingress", protocol: "icmp" }, /protocol icmp/],
    ["another IP protocol", { direction: "ingress", protocol: "47" }, /protocol 47/],
    ["a range too wide to expand", { direction: "ingress", protocol: "tcp", portRangeMin: 1000, portRangeMax: 5000 }, /port range 1000-5000/],
    ["a remote group that does not exist", { direction: "ingress", remoteGroupRef: "db" }, /remote group db \(not found\)/],
    ["a prefix of the other family", { direction: "ingress", ethertype: "IPv4", remoteIPPrefix: "fd00::/8" }, /not an IPv4 prefix/],
  ])("reports, never widens: %s", (_name, rule, problem) => {
    const t = translateRule(rule, GROUPS);
    expect(t.ok).toBe(false);
    expect(t.ok ? "" : t.problem).toMatch(problem);
  });
});

describe("a group's policy", () => {
  it("selects the group's pods on every project NAD, default-deny both ways, allowing what the rules allow", () => {
    const group = securityGroup("web", {
      rules: [
        { direction: "ingress", protocol: "tcp", portRangeMin: 443, portRangeMax: 443 },
        { direction: "ingress", protocol: "icmp" },
        { direction: "egress" },
      ],
    });
    const { policy, unenforced } = desiredGroupPolicy(group, NADS, GROUPS);
    expect(policy.metadata).toMatchObject({
      name: "sg-web",
      namespace: NS,
      annotations: { "k8s.v1.cni.cncf.io/policy-for": `${NS}/private,${NS}/net-1234` },
      labels: { "altostack.io/security-group-uid": "web-uid", "app.kubernetes.io/managed-by": "altostack" },
    });
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { "altostack.io/sg-web": "true" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] }],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }],
    });
    expect(unenforced).toEqual(["rule 2: protocol icmp (MultiNetworkPolicy filters only TCP, UDP and SCTP)"]);
  });

  it("enforces OpenStack's default group completely", () => {
    const { policy, unenforced } = desiredGroupPolicy(securityGroup("default", { rules: defaultGroupRules() }), NADS, GROUPS);
    expect(unenforced).toEqual([]);
    expect(policy.spec?.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { "altostack.io/sg-default": "true" } } }] },
      { from: [{ podSelector: { matchLabels: { "altostack.io/sg-default": "true" } } }] },
    ]);
    expect(policy.spec?.egress).toEqual([{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }, { to: [{ ipBlock: { cidr: "::/0" } }] }]);
  });

  it("says stateless groups are not supported", () => {
    expect(desiredGroupPolicy(securityGroup("x", { stateful: false }), NADS, GROUPS).unenforced[0]).toMatch(/stateless/);
  });

  it("keeps DHCP working for every pod with port security, under any rule set", () => {
    const baseline = portSecurityBaseline(NS, NADS, securityGroup("default"));
    expect(baseline.spec).toEqual({
      podSelector: { matchLabels: { "altostack.io/port-security": "enabled" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ ports: [{ protocol: "UDP", port: 68 }, { protocol: "UDP", port: 546 }] }],
      egress: [{ ports: [{ protocol: "UDP", port: 67 }, { protocol: "UDP", port: 547 }] }],
    });
  });

  it("keeps policy names within the object name limit", () => {
    expect(policyName("g".repeat(253)).length).toBeLessThanOrEqual(253);
  });
});

describe("pod labels", () => {
  it("are valid label keys, also for long group names", () => {
    expect(securityGroupLabel("web")).toBe("altostack.io/sg-web");
    const long = securityGroupLabel(`${"a".repeat(100)}.b`);
    expect(long.length - "altostack.io/".length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^altostack\.io\/[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/);
    expect(securityGroupLabel(`${"a".repeat(100)}.c`)).not.toBe(long);
  });

  it("come from ports with port security only (the port's setting, else the network's)", () => {
    const labels = instanceSecurityLabels([
      { port: port("a", { securityGroupRefs: ["web"] }), network: network() },
      { port: port("b", { securityGroupRefs: ["db"] }), network: network("n", { spec: { portSecurityEnabled: false } }) },
      { port: port("c", { securityGroupRefs: ["ops"], portSecurityEnabled: false }), network: network() },
    ]);
    expect(labels).toEqual({ "altostack.io/port-security": "enabled", "altostack.io/sg-web": "true" });
    expect(instanceSecurityLabels([{ port: port("c", { portSecurityEnabled: false }), network: network() }])).toEqual({});
  });

  it("put a port that names no groups in the project's default group, as Neutron does", () => {
    expect(instanceSecurityLabels([{ port: port("a"), network: network() }])).toEqual({
      "altostack.io/port-security": "enabled",
      "altostack.io/sg-default": "true",
    });
    expect(instanceSecurityLabels([{ port: port("a", { securityGroupRefs: [] }), network: network() }])).toEqual({
      "altostack.io/port-security": "enabled",
    });
  });
});
