import { describe, expect, it } from "vitest";
import { ApiError } from "../common/errors.js";
import { parseWith } from "../common/http.js";
import {
  commandWords,
  containerCreateSchema,
  containerUpdateSchema,
  killRefusal,
  planContainerCreate,
  planContainerUpdate,
  stateRefusal,
  type ContainerResolver,
} from "./requests.js";

const resolver = (over: Partial<ContainerResolver> = {}): ContainerResolver => ({
  network: (id) => ({ "net-id": "private", private: "private", "shared-id": "ops/shared" })[id],
  port: (id) => (id === "port-id" ? "my-port" : undefined),
  securityGroup: (g) => (g === "default" ? "default" : g === "web-id" ? "web" : undefined),
  volume: (v) => (v === "data" ? "data" : undefined),
  autoNetworks: () => ["private"],
  availabilityZones: () => ["nova"],
  ...over,
});
const plan = (body: Record<string, unknown>, run = true, r = resolver()) => planContainerCreate(parseWith(containerCreateSchema, body), run, r);
const status = (f: () => unknown): number | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof ApiError ? e.status : -1;
  }
};

describe("container create requests", () => {
  it("maps what the CLI sends for `appcontainer run --net network=… nginx` (empty maps and lists included)", () => {
    const p = plan({ image: "nginx", name: "web", nets: [{ network: "net-id" }], environment: {}, labels: {}, hints: {}, mounts: [], auto_remove: false });
    expect(p).toEqual({ name: "web", spec: { image: "nginx", networks: [{ networkRef: "private" }], state: "Running" } });
  });

  it.each([
    { name: "command list → args, entrypoint → command", body: { command: ["sh", "-c", "echo hi"], entrypoint: ["/init"] }, want: { args: ["sh", "-c", "echo hi"], command: ["/init"] } },
    { name: "pre-1.20 quoted command string", body: { command: '"sh" "-c" "echo hi"' }, want: { args: ["sh", "-c", "echo hi"] } },
    { name: "cpu and memory as strings, memory with a unit", body: { cpu: "1.5", memory: "1g" }, want: { cpu: 1.5, memory: 1024 } },
    { name: "memory as a number of MiB", body: { memory: 512 }, want: { memory: 512 } },
    { name: "restart policy", body: { restart_policy: { Name: "on-failure", MaximumRetryCount: "0" } }, want: { restartPolicy: "on-failure" } },
    { name: "restart policy no is the default", body: { restart_policy: { Name: "no", MaximumRetryCount: 0 } }, want: {} },
    { name: "environment, labels, workdir", body: { environment: { A: "1" }, labels: { app: "web" }, workdir: "/srv" }, want: { env: { A: "1" }, labels: { app: "web" }, workdir: "/srv" } },
    { name: "a port, a shared network with a fixed IP", body: { nets: [{ port: "port-id" }, { network: "shared-id", "v4-fixed-ip": "10.0.0.9" }] }, want: { networks: [{ portRef: "my-port" }, { networkRef: "ops/shared", fixedIP: "10.0.0.9" }] } },
    { name: "Zun's sample with empty strings in nets", body: { nets: [{ network: "", port: "port-id", "v4-fixed-ip": "", "v6-fixed-ip": "" }] }, want: { networks: [{ portRef: "my-port" }] } },
    { name: "security groups by name or id, once each", body: { security_groups: ["default", "web-id", "default"] }, want: { securityGroupRefs: ["default", "web"] } },
    { name: "a volume mount", body: { mounts: [{ source: "data", destination: "/data" }] }, want: { volumes: [{ volumeRef: "data", mountPath: "/data" }] } },
    { name: "defaults Zun's sample sends are accepted", body: { image_driver: "docker", runtime: "runc", interactive: false, tty: false, privileged: false, auto_heal: false, availability_zone: "nova", disk: 0 }, want: {} },
  ])("maps $name", ({ body, want }) => {
    expect(plan({ image: "nginx", ...body }).spec).toEqual({ image: "nginx", networks: [{ networkRef: "private" }], state: "Running", ...want });
  });

  it("create without run leaves it stopped until start; no nets: the project's only network, or none", () => {
    expect(plan({ image: "nginx" }, false).spec.state).toBe("Stopped");
    expect(plan({ image: "nginx" }, true, resolver({ autoNetworks: () => [] })).spec).toEqual({ image: "nginx", state: "Running" });
    expect(status(() => plan({ image: "nginx" }, true, resolver({ autoNetworks: () => ["a", "b"] })))).toBe(400);
  });

  it.each([
    { name: "no image", body: { name: "x" } },
    { name: "an empty image", body: { image: "" } },
    { name: "a name Zun refuses", body: { image: "nginx", name: "-bad name" } },
    { name: "memory below 4 MiB", body: { image: "nginx", memory: "2" } },
    { name: "memory with an unknown unit", body: { image: "nginx", memory: "5t" } },
    { name: "negative cpu", body: { image: "nginx", cpu: -1 } },
    { name: "an unknown restart policy", body: { image: "nginx", restart_policy: { Name: "sometimes" } } },
    { name: "an invalid fixed IP", body: { image: "nginx", nets: [{ network: "net-id", "v4-fixed-ip": "10.0.0.300" }] } },
    { name: "a relative mount destination", body: { image: "nginx", mounts: [{ source: "data", destination: "data" }] } },
    { name: "not an object", body: ["nginx"] },
  ])("400 for bad input: $name", ({ body }) => {
    expect(status(() => parseWith(containerCreateSchema, body))).toBe(400);
  });

  it.each([
    { name: "an unknown network", body: { nets: [{ network: "nope" }] } },
    { name: "network and port together", body: { nets: [{ network: "net-id", port: "port-id" }] } },
    { name: "neither network nor port", body: { nets: [{}] } },
    { name: "a fixed IP with a port", body: { nets: [{ port: "port-id", "v4-fixed-ip": "10.0.0.1" }] } },
    { name: "an unknown security group", body: { security_groups: ["nope"] } },
    { name: "an unknown volume", body: { mounts: [{ source: "nope", destination: "/x" }] } },
    { name: "a bind mount", body: { mounts: [{ type: "bind", source: "ZmlsZQ==", destination: "/x" }] } },
    { name: "a mount that creates a volume", body: { mounts: [{ size: 1, destination: "/x" }] } },
    { name: "a retry count", body: { restart_policy: { Name: "on-failure", MaximumRetryCount: "3" } } },
    { name: "privileged", body: { privileged: true } },
    { name: "interactive", body: { interactive: true } },
    { name: "auto_remove", body: { auto_remove: true } },
    { name: "exposed ports", body: { exposed_ports: { "80/tcp": {} } } },
    { name: "scheduler hints", body: { hints: { a: "b" } } },
    { name: "a host", body: { host: "node-1" } },
    { name: "an unknown zone", body: { availability_zone: "mars" } },
    { name: "the glance image driver", body: { image_driver: "glance" } },
    { name: "a disk size", body: { disk: 10 } },
  ])("400 for what cannot be done: $name", ({ body }) => {
    expect(status(() => plan({ image: "nginx", ...body }))).toBe(400);
  });
});

describe("container updates", () => {
  it.each([
    { body: { name: "web2" }, want: { name: "web2", spec: {} } },
    { body: { cpu: "3", memory: "200" }, want: { spec: { cpu: 3, memory: 200 } } },
    { body: {}, want: { spec: {} } },
  ])("PATCH $body", ({ body, want }) => {
    expect(planContainerUpdate(parseWith(containerUpdateSchema, body))).toEqual(want);
  });

  it("refuses bad values", () => {
    expect(status(() => parseWith(containerUpdateSchema, { memory: "lots" }))).toBe(400);
    expect(status(() => parseWith(containerUpdateSchema, { name: "a b" }))).toBe(400);
  });
});

describe("state checks (Zun's VALID_STATES)", () => {
  it.each([
    { action: "start", from: "Stopped", ok: true },
    { action: "start", from: "Running", ok: false },
    { action: "stop", from: "Running", ok: true },
    { action: "stop", from: "Stopped", ok: false },
    { action: "stop", from: "Creating", ok: false },
    { action: "kill", from: "Running", ok: true },
    { action: "reboot", from: "Stopped", ok: true },
    { action: "reboot", from: "Creating", ok: false },
    { action: "delete", from: "Stopped", ok: true },
    { action: "delete", from: "Running", ok: false },
    { action: "delete_after_stop", from: "Running", ok: true },
    { action: "delete_force", from: "Creating", ok: true },
    { action: "update", from: "Error", ok: false },
  ] as const)("$action from $from: allowed=$ok", ({ action, from, ok }) => {
    const refusal = stateRefusal(action, "u-1", from);
    if (ok) expect(refusal).toBeUndefined();
    else expect(refusal).toMatchObject({ status: 409, message: expect.stringContaining(`in ${from} state`) as unknown });
  });

  it("kill takes only signals that end the container", () => {
    expect(killRefusal(null)).toBeUndefined();
    expect(killRefusal("SIGKILL")).toBeUndefined();
    expect(killRefusal("term")).toBeUndefined();
    expect(killRefusal("SIGHUP")?.status).toBe(400);
  });

  it("splits a pre-1.20 command like a shell", () => {
    expect(commandWords(`"echo" "a b" 'c d' e\\"`)).toEqual(["echo", "a b", "c d", 'e\\"']);
  });
});
