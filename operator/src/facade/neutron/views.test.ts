import { describe, expect, it } from "vitest";
import { API_VERSION, type Network, type Port, type SecurityGroup, type Subnet } from "../../api/index.js";
import { networkView, portView, ruleId, ruleView, subnetView } from "./views.js";

const meta = (name: string, uid: string) => ({ name, uid, namespace: "project-demo", creationTimestamp: "2026-01-01T00:00:00Z", generation: 2 });

describe("Neutron views", () => {
  it("networks: defaults as Neutron shows them, provider attributes only for admins", () => {
    const network: Network = { apiVersion: API_VERSION, kind: "Network", metadata: meta("net", "n-1"), spec: {}, status: { networkType: "vlan", segmentationId: 101, physicalNetwork: "physnet1" } };
    const view = networkView({ network, projectId: "p", subnetIds: ["s-1"], admin: false });
    expect(view).toMatchObject({ id: "n-1", name: "net", status: "ACTIVE", admin_state_up: true, shared: false, "router:external": false, mtu: 1500, subnets: ["s-1"], project_id: "p", tenant_id: "p", revision_number: 2 });
    expect(view).not.toHaveProperty("provider:network_type");
    expect(networkView({ network, projectId: "p", subnetIds: [], admin: true })).toMatchObject({ "provider:network_type": "vlan", "provider:segmentation_id": 101, "provider:physical_network": "physnet1" });
  });

  it("subnets: gateway and pools as the subnet controller computes them, before it has reported", () => {
    const subnet: Subnet = { apiVersion: API_VERSION, kind: "Subnet", metadata: meta("sub", "s-1"), spec: { networkRef: "net", cidr: "10.1.0.0/24", ipVersion: 4 } };
    expect(subnetView({ subnet, projectId: "p", networkId: "n-1" })).toMatchObject({ gateway_ip: "10.1.0.1", allocation_pools: [{ start: "10.1.0.2", end: "10.1.0.254" }], enable_dhcp: true, network_id: "n-1" });
    const noGateway = { ...subnet, spec: { ...subnet.spec, noGateway: true } };
    expect(subnetView({ subnet: noGateway, projectId: "p", networkId: "n-1" }).gateway_ip).toBeNull();
  });

  it("ports: addresses from status with subnet ids, security group ids", () => {
    const port: Port = {
      apiVersion: API_VERSION,
      kind: "Port",
      metadata: meta("p", "p-1"),
      spec: { networkRef: "net" },
      status: { status: "ACTIVE", macAddress: "fa:16:3e:00:00:01", fixedIPs: [{ subnet: "sub", ipAddress: "10.1.0.5" }], deviceId: "s-9", deviceOwner: "compute:nova" },
    };
    expect(portView({ port, projectId: "p", networkId: "n-1", subnetIds: new Map([["sub", "s-1"]]), securityGroupIds: ["g-1"], admin: false })).toMatchObject({
      status: "ACTIVE",
      mac_address: "fa:16:3e:00:00:01",
      fixed_ips: [{ subnet_id: "s-1", ip_address: "10.1.0.5" }],
      device_id: "s-9",
      device_owner: "compute:nova",
      security_groups: ["g-1"],
      "binding:vnic_type": "normal",
    });
  });

  it("rule ids are stable for a rule's content and differ between groups and rules", () => {
    const rule = { direction: "ingress" as const, protocol: "tcp", portRangeMin: 22, portRangeMax: 22 };
    expect(ruleId("g-1", rule)).toBe(ruleId("g-1", { ...rule, description: "ssh" }));
    expect(ruleId("g-1", rule)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ruleId("g-2", rule)).not.toBe(ruleId("g-1", rule));
    expect(ruleId("g-1", { ...rule, portRangeMax: 23 })).not.toBe(ruleId("g-1", rule));
    const group: SecurityGroup = { apiVersion: API_VERSION, kind: "SecurityGroup", metadata: meta("default", "g-1"), spec: {} };
    expect(ruleView({ group, rule: { direction: "egress", protocol: "any" }, projectId: "p", remoteGroupId: null })).toMatchObject({
      protocol: null,
      ethertype: "IPv4",
      port_range_min: null,
      belongs_to_default_sg: true,
    });
  });
});
