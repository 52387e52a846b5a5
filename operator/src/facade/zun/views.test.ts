import { describe, expect, it } from "vitest";
import { API_VERSION, type Container, type Port } from "../../api/index.js";
import { faultBody } from "../common/errors.js";
import { containerView, zunAddresses, zunRootDocument } from "./views.js";

const container: Container = {
  apiVersion: API_VERSION,
  kind: "Container",
  metadata: { name: "web", namespace: "project-demo", uid: "c0ffee00-0000-4000-8000-000000000001" },
  spec: { image: "nginx", args: ["nginx", "-g", "daemon off;"], env: { A: "1" }, cpu: 0.5, memory: 256, restartPolicy: "always" },
  status: { status: "Running", host: "node-1", podName: "web" },
};
const port = (uid: string, networkId: string, ips: string[]): Port => ({
  apiVersion: API_VERSION,
  kind: "Port",
  metadata: { name: uid, namespace: "project-demo", uid },
  spec: { networkRef: "net" },
  status: { networkId, fixedIPs: ips.map((ipAddress, i) => ({ subnet: `s${i}`, subnetId: `subnet-${i}`, ipAddress })) },
});
const input = { container, attached: [], securityGroupNames: ["default"], projectId: "p-1", userId: "u-1", serviceUrl: "http://cloud/container", admin: false };

describe("Zun container view", () => {
  it("shows the fields zunclient prints, with Zun's types (memory a string, command the Pod's args)", () => {
    expect(containerView(input)).toMatchObject({
      uuid: "c0ffee00-0000-4000-8000-000000000001",
      name: "web",
      image: "nginx",
      status: "Running",
      status_reason: null,
      command: ["nginx", "-g", "daemon off;"],
      entrypoint: [],
      environment: { A: "1" },
      cpu: 0.5,
      memory: "256",
      restart_policy: { Name: "always", MaximumRetryCount: "0" },
      security_groups: ["default"],
      project_id: "p-1",
      user_id: "u-1",
      hostname: "web",
      links: [
        { href: "http://cloud/container/v1/containers/c0ffee00-0000-4000-8000-000000000001", rel: "self" },
        { href: "http://cloud/container/containers/c0ffee00-0000-4000-8000-000000000001", rel: "bookmark" },
      ],
    });
  });

  it.each([
    { name: "unreconciled: Creating, no reason", status: undefined, want: { status: "Creating", status_reason: null } },
    { name: "an error with its reason", status: { status: "Error" as const, statusReason: "image cannot be pulled" }, want: { status: "Error", status_reason: "image cannot be pulled" } },
    { name: "stopped", status: { status: "Stopped" as const }, want: { status: "Stopped" } },
  ])("status: $name", ({ status, want }) => {
    expect(containerView({ ...input, container: { ...container, status } })).toMatchObject(want);
  });

  it("shows the host to admins only, and defaults for an empty spec", () => {
    expect(containerView(input)).not.toHaveProperty("host");
    expect(containerView({ ...input, admin: true })).toHaveProperty("host", "node-1");
    const bare = containerView({ ...input, container: { ...container, spec: { image: "busybox" } } });
    expect(bare).toMatchObject({ command: [], cpu: null, memory: null, workdir: null, restart_policy: { Name: "no", MaximumRetryCount: "0" } });
  });
});

describe("Zun addresses", () => {
  it.each([
    { name: "no ports yet", attached: [], want: {} },
    { name: "a port not allocated yet", attached: [{ port: undefined, userPort: false }], want: {} },
    {
      name: "v4 and v6 on one network; a user's port is preserved on delete",
      attached: [
        { port: port("p-a", "net-1", ["10.0.0.5", "fd00::5"]), userPort: false },
        { port: port("p-b", "net-2", ["10.1.0.7"]), userPort: true },
      ],
      want: {
        "net-1": [
          { addr: "10.0.0.5", version: 4, subnet_id: "subnet-0", port: "p-a", preserve_on_delete: false },
          { addr: "fd00::5", version: 6, subnet_id: "subnet-1", port: "p-a", preserve_on_delete: false },
        ],
        "net-2": [{ addr: "10.1.0.7", version: 4, subnet_id: "subnet-0", port: "p-b", preserve_on_delete: true }],
      },
    },
  ])("$name", ({ attached, want }) => {
    expect(zunAddresses(attached)).toEqual(want);
  });
});

describe("Zun version document and faults", () => {
  it("answers the range python-zunclient negotiates from, CURRENT, with a self link to /v1", () => {
    const doc = zunRootDocument("http://cloud/container");
    expect(doc.versions).toEqual([{ id: "v1", status: "CURRENT", min_version: "1.1", max_version: "1.40", links: [{ href: "http://cloud/container/v1/", rel: "self" }] }]);
    expect(doc.default_version).toEqual((doc.versions as unknown[])[0]);
  });

  it("renders errors as Zun's errors list (zunclient reads title and detail)", () => {
    expect(faultBody("zun", 404, "Container x could not be found.")).toEqual({
      errors: [{ request_id: "", code: "client", status: 404, title: "Container x could not be found.", detail: "Container x could not be found.", links: [] }],
    });
    expect(faultBody("zun", 503, "down")).toMatchObject({ errors: [{ code: "server", status: 503 }] });
  });
});
