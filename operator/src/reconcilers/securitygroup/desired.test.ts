import { describe, expect, it } from "vitest";
import type { SecurityGroupRule } from "../../api/index.js";
import { network, NS, port, securityGroup } from "../network/fixtures.js";
import {
  baselinePolicyName,
  defaultGroupRules,
  desiredGroupPolicies,
  networksOfGroup,
  networksWithPortSecurity,
  policyName,
  policyPeer,
  portSecurityBaseline,
  translateRule,
  type PolicyNetwork,
} from "./desired.js";
import { instanceSecurityLabels, portSecurityLabel, securityGroupLabel } from "./labels.js";

const GROUPS = new Set(["default", "web", "db"]);
const FRONT: PolicyNetwork = { networkKey: `${NS}/front`, nadRef: `${NS}/front` };
const BACK: PolicyNetwork = { networkKey: `${NS}/back`, nadRef: `${NS}/back` };
/** A shared network of another project, attached here under its uid-based NAD name. */
const SHARED: PolicyNetwork = { networkKey: "project-other/front", nadRef: `${NS}/net-1234` };
const LABEL_KEY = /^altostack\.io\/[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;

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
      "any protocol from a remote group (placed on a network by policyPeer)",
      { direction: "ingress", ethertype: "IPv6", remoteGroupRef: "web" },
      { direction: "ingress", peer: { remoteGroup: "web" }, ports: undefined },
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
    ["a remote group that does not exist", { direction: "ingress", remoteGroupRef: "ops" }, /remote group ops \(not found\)/],
    ["a prefix of the other family", { direction: "ingress", ethertype: "IPv4", remoteIPPrefix: "fd00::/8" }, /not an IPv4 prefix/],
  ])("reports, never widens: %s", (_name, rule, problem) => {
    const t = translateRule(rule, GROUPS);
    expect(t.ok).toBe(false);
    expect(t.ok ? "" : t.problem).toMatch(problem);
  });
});

describe("a remote group on a network", () => {
  it("is the pods with a port in that group on the same network, in this namespace only", () => {
    expect(policyPeer({ remoteGroup: "web" }, FRONT.networkKey)).toEqual({
      podSelector: { matchLabels: { [securityGroupLabel("web", FRONT.networkKey)]: "true" } },
    });
    expect(policyPeer({ remoteGroup: "web" }, BACK.networkKey)).not.toEqual(policyPeer({ remoteGroup: "web" }, FRONT.networkKey));
    expect(policyPeer({ ipBlock: { cidr: "::/0" } }, FRONT.networkKey)).toEqual({ ipBlock: { cidr: "::/0" } });
  });
});

describe("a group's policies", () => {
  it("one per network with ports in the group, for that network's NAD only, default-deny both ways, allowing what the rules allow", () => {
    const group = securityGroup("web", {
      rules: [
        { direction: "ingress", protocol: "tcp", portRangeMin: 443, portRangeMax: 443 },
        { direction: "ingress", protocol: "icmp" },
        { direction: "egress" },
      ],
    });
    const { policies, unenforced } = desiredGroupPolicies(group, [FRONT, SHARED], GROUPS);
    expect(policies.map((p) => p.metadata.annotations?.["k8s.v1.cni.cncf.io/policy-for"])).toEqual([`${NS}/front`, `${NS}/net-1234`]);
    const [front, shared] = policies;
    expect(front?.metadata).toMatchObject({
      name: policyName("web", FRONT.nadRef),
      namespace: NS,
      labels: { "altostack.io/security-group-uid": "web-uid", "app.kubernetes.io/managed-by": "altostack" },
    });
    expect(front?.metadata.name).toMatch(/^sg-web\.front-[0-9a-f]{10}$/);
    expect(front?.spec).toEqual({
      podSelector: { matchLabels: { [securityGroupLabel("web", FRONT.networkKey)]: "true" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] }],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }],
    });
    expect(shared?.spec?.podSelector).toEqual({ matchLabels: { [securityGroupLabel("web", SHARED.networkKey)]: "true" } });
    expect(shared?.metadata.name).not.toBe(front?.metadata.name);
    expect(unenforced).toEqual(["rule 2: protocol icmp (MultiNetworkPolicy filters only TCP, UDP and SCTP)"]);
  });

  it("none without ports in the group, still naming what cannot be enforced", () => {
    const group = securityGroup("web", { rules: [{ direction: "ingress", protocol: "icmp" }] });
    expect(desiredGroupPolicies(group, [], GROUPS)).toEqual({
      policies: [],
      unenforced: ["rule 1: protocol icmp (MultiNetworkPolicy filters only TCP, UDP and SCTP)"],
    });
  });

  it("enforces OpenStack's default group completely, members reaching members on the same network", () => {
    const { policies, unenforced } = desiredGroupPolicies(securityGroup("default", { rules: defaultGroupRules() }), [BACK], GROUPS);
    expect(unenforced).toEqual([]);
    const members = { podSelector: { matchLabels: { [securityGroupLabel("default", BACK.networkKey)]: "true" } } };
    expect(policies[0]?.spec?.ingress).toEqual([{ from: [members] }, { from: [members] }]);
    expect(policies[0]?.spec?.egress).toEqual([{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }, { to: [{ ipBlock: { cidr: "::/0" } }] }]);
  });

  it("says stateless groups are not supported", () => {
    expect(desiredGroupPolicies(securityGroup("x", { stateful: false }), [FRONT], GROUPS).unenforced[0]).toMatch(/stateless/);
  });

  it("keeps DHCP working on each network where a pod has a port with port security, under any rule set", () => {
    const baseline = portSecurityBaseline(NS, FRONT, securityGroup("default"));
    expect(baseline.metadata.name).toBe(baselinePolicyName(FRONT.nadRef));
    expect(baseline.metadata.annotations).toEqual({ "k8s.v1.cni.cncf.io/policy-for": `${NS}/front` });
    expect(baseline.spec).toEqual({
      podSelector: { matchLabels: { [portSecurityLabel(FRONT.networkKey)]: "enabled" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ ports: [{ protocol: "UDP", port: 68 }, { protocol: "UDP", port: 546 }] }],
      egress: [{ ports: [{ protocol: "UDP", port: 67 }, { protocol: "UDP", port: 547 }] }],
    });
  });

  it("keeps policy names valid, unique and within the object name limit", () => {
    const long = policyName("g".repeat(253), `${NS}/${"n".repeat(253)}`);
    expect(long.length).toBeLessThanOrEqual(253);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(policyName("g".repeat(253), `${NS}/${"n".repeat(252)}m`)).not.toBe(long);
    // Dots in names cannot make two (group, NAD) pairs collide.
    expect(policyName("a.b", `${NS}/c`)).not.toBe(policyName("a", `${NS}/b.c`));
    expect(baselinePolicyName(`${NS}/${"n".repeat(253)}`).length).toBeLessThanOrEqual(253);
  });
});

describe("which networks a group's policies are for", () => {
  const front = network("front");
  const back = network("back");
  const open = network("open", { spec: { portSecurityEnabled: false } });
  const ports = [
    { port: port("a", { networkRef: "front", securityGroupRefs: ["web"] }), network: front, nadRef: `${NS}/front` },
    { port: port("b", { networkRef: "back", securityGroupRefs: ["db"] }), network: back, nadRef: `${NS}/back` },
    { port: port("c", { networkRef: "back" }), network: back, nadRef: `${NS}/back` },
    { port: port("d", { networkRef: "open", securityGroupRefs: ["web"] }), network: open, nadRef: `${NS}/open` },
    { port: port("e", { networkRef: "front", securityGroupRefs: ["web"], portSecurityEnabled: false }), network: front, nadRef: `${NS}/front` },
  ];

  it.each<[string, string, PolicyNetwork[]]>([
    ["a named group: the networks of its ports, once each", "web", [FRONT]],
    ["another group: its own network only", "db", [BACK]],
    ["default: the networks of ports that name no group", "default", [BACK]],
    ["a group without ports", "ops", []],
  ])("%s", (_name, group, expected) => {
    expect(networksOfGroup(group, ports)).toEqual(expected);
  });

  it("the baseline: networks with ports with port security (the port's setting, else the network's)", () => {
    expect(networksWithPortSecurity(ports)).toEqual([BACK, FRONT]);
    expect(networksWithPortSecurity(ports.slice(3))).toEqual([]);
  });
});

describe("pod labels", () => {
  it("are valid label keys, unique per (group, network), also for long names, dots and shared networks", () => {
    const web = securityGroupLabel("web", `${NS}/front`);
    expect(web).toMatch(/^altostack\.io\/sg-web\.front-[0-9a-f]{10}$/);
    const long = securityGroupLabel(`${"a".repeat(100)}.b`, `${NS}/${"n".repeat(200)}`);
    for (const key of [web, long, portSecurityLabel(`${NS}/${"x".repeat(300)}`)]) {
      expect(key.length - "altostack.io/".length).toBeLessThanOrEqual(63);
      expect(key).toMatch(LABEL_KEY);
    }
    expect(securityGroupLabel(`${"a".repeat(100)}.c`, `${NS}/${"n".repeat(200)}`)).not.toBe(long);
    expect(securityGroupLabel("a.b", `${NS}/c`)).not.toBe(securityGroupLabel("a", `${NS}/b.c`));
    // Another project's `front` shared into this one is not this project's `front`.
    expect(securityGroupLabel("web", "project-other/front")).not.toBe(web);
    expect(portSecurityLabel("project-other/front")).not.toBe(portSecurityLabel(`${NS}/front`));
  });

  it("a server with two NICs in two groups: each group only on its own port's network", () => {
    const labels = instanceSecurityLabels([
      { port: port("a", { networkRef: "front", securityGroupRefs: ["web"] }), network: network("front") },
      { port: port("b", { networkRef: "back", securityGroupRefs: ["db"] }), network: network("back") },
    ]);
    expect(labels).toEqual({
      [portSecurityLabel(`${NS}/front`)]: "enabled",
      [securityGroupLabel("web", `${NS}/front`)]: "true",
      [portSecurityLabel(`${NS}/back`)]: "enabled",
      [securityGroupLabel("db", `${NS}/back`)]: "true",
    });
    expect(labels[securityGroupLabel("db", `${NS}/front`)]).toBeUndefined();
  });

  it("come from ports with port security only (the port's setting, else the network's): the others' networks stay unfiltered", () => {
    const labels = instanceSecurityLabels([
      { port: port("a", { securityGroupRefs: ["web"] }), network: network() },
      { port: port("b", { networkRef: "n", securityGroupRefs: ["db"] }), network: network("n", { spec: { portSecurityEnabled: false } }) },
      { port: port("c", { networkRef: "m", securityGroupRefs: ["ops"], portSecurityEnabled: false }), network: network("m") },
    ]);
    expect(labels).toEqual({ [portSecurityLabel(`${NS}/private`)]: "enabled", [securityGroupLabel("web", `${NS}/private`)]: "true" });
    expect(instanceSecurityLabels([{ port: port("c", { portSecurityEnabled: false }), network: network() }])).toEqual({});
  });

  it("put a port that names no groups in the project's default group, as Neutron does", () => {
    expect(instanceSecurityLabels([{ port: port("a"), network: network() }])).toEqual({
      [portSecurityLabel(`${NS}/private`)]: "enabled",
      [securityGroupLabel("default", `${NS}/private`)]: "true",
    });
    expect(instanceSecurityLabels([{ port: port("a", { securityGroupRefs: [] }), network: network() }])).toEqual({
      [portSecurityLabel(`${NS}/private`)]: "enabled",
    });
  });

  it("key a port on another project's shared network by that network", () => {
    const shared = network("front", { meta: { namespace: "project-other" } });
    expect(instanceSecurityLabels([{ port: port("a", { networkRef: "other/front" }), network: shared }])).toEqual({
      [portSecurityLabel("project-other/front")]: "enabled",
      [securityGroupLabel("default", "project-other/front")]: "true",
    });
  });
});
