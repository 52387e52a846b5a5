// Containers (Zun's role) on the real apiserver and the simulator (scheduler, kubelet, Multus network-status):
// a container on a tenant network runs as a Pod whose Multus annotation carries its port's IP and MAC; a
// container and a server on the same network both report addresses in that subnet; stop, start and restart
// are declarative; a mounted volume is in-use and cannot be deleted; deletion removes the Pod and frees the
// port's addresses; an image that cannot be pulled and an unknown network are an Error with a clear message.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  ALL_KINDS,
  API_VERSION,
  allocationKind,
  containerKind,
  networkKind,
  portKind,
  serverKind,
  subnetKind,
  volumeKind,
  type Allocation,
  type Container,
  type Network,
  type Port,
  type Server,
  type Subnet,
  type Volume,
} from "../src/api/index.js";
import { Builtin, KubeApiError, Upstream, type KubeEvent, type KubeObject, type ResourceType } from "../src/kube/index.js";
import type { VM } from "../src/simulator/types.js";
import type { PodObject } from "../src/reconcilers/container/desired.js";
import { MULTUS_NETWORKS_ANNOTATION } from "../src/reconcilers/port/instance-networking.js";
import { portSecurityLabel, securityGroupLabel } from "../src/reconcilers/securitygroup/labels.js";
import { activeImage, createFlavor, readyProject, serverObject, serverStatus, startComputeEnv, type ComputeEnv } from "./compute-fixtures.js";
import { conditionOf, eventually, testClient, unique } from "./helpers.js";

const client = testClient();
let env: ComputeEnv;
let namespace: string;
const NETWORK = "tenant";
const CIDR = "10.77.0.0/24";

beforeAll(async () => {
  env = await startComputeEnv(client);
  ({ namespace } = await readyProject(client, "ctr", { deletionPolicy: "Cascade" }));
  await client.create<Network>(networkKind, { apiVersion: API_VERSION, kind: "Network", metadata: { name: NETWORK, namespace }, spec: {} });
  await client.create<Subnet>(subnetKind, {
    apiVersion: API_VERSION,
    kind: "Subnet",
    metadata: { name: `${NETWORK}-v4`, namespace },
    spec: { networkRef: NETWORK, cidr: CIDR, ipVersion: 4 },
  });
  await eventually("network ready", async () => conditionOf(await client.get(networkKind, NETWORK, namespace))?.status === "True");
});
afterAll(async () => {
  await env.stop();
});

async function createContainer(spec: Container["spec"], prefix = "ctr"): Promise<Container> {
  const name = unique(prefix);
  return client.create<Container>(containerKind, { apiVersion: API_VERSION, kind: "Container", metadata: { name, namespace }, spec });
}

async function containerIn(name: string, status: string, timeoutMs = 30_000): Promise<Container> {
  return eventually(
    `container ${name} ${status}`,
    async () => {
      const c = await client.get<Container>(containerKind, name, namespace);
      const ready = c?.status?.conditions?.find((x) => x.type === "Ready");
      return c?.status?.status === status && ready?.observedGeneration === c.metadata.generation ? c : undefined;
    },
    timeoutMs,
  );
}

const getPod = (name: string) => client.get<PodObject>(Builtin.Pod, name, namespace);
const inSubnet = (ip: string | undefined): boolean => ip?.startsWith("10.77.0.") === true;

describe("Container", () => {
  it("runs as a Pod on a tenant network with its port's IP and MAC in the Multus annotation", async () => {
    const created = await createContainer({
      image: "nginx:1.27",
      command: ["nginx"],
      args: ["-g", "daemon off;"],
      env: { MODE: "demo" },
      cpu: 0.5,
      memory: 128,
      restartPolicy: "always",
      labels: { app: "web" },
      networks: [{ networkRef: NETWORK }],
    });
    const name = created.metadata.name ?? "";
    const running = await containerIn(name, "Running");
    expect(conditionOf(running)).toMatchObject({ status: "True", reason: "Reconciled" });

    const port = await client.get<Port>(portKind, `${name}-${NETWORK}`, namespace);
    expect(port?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Container", uid: created.metadata.uid, controller: true });
    expect(port?.status).toMatchObject({ deviceId: created.metadata.uid, deviceOwner: "container", status: "ACTIVE" });
    const ip = port?.status?.fixedIPs?.[0]?.ipAddress;
    const mac = port?.status?.macAddress;
    expect(inSubnet(ip)).toBe(true);

    const pod = await getPod(running.status?.podName ?? "");
    const selections = JSON.parse(pod?.metadata.annotations?.[MULTUS_NETWORKS_ANNOTATION] ?? "[]") as { name: string }[];
    expect(selections).toEqual([{ name: selections[0]?.name, namespace, ips: [`${ip ?? ""}/24`], mac, interface: "net1" }]);
    expect(selections[0]?.name).toBeTruthy();
    // The simulated Multus reports the attachment with that address and MAC.
    const networkStatus = JSON.parse(pod?.metadata.annotations?.["k8s.v1.cni.cncf.io/network-status"] ?? "[]") as { interface: string; ips?: string[]; mac: string }[];
    expect(networkStatus.find((s) => s.interface === "net1")).toMatchObject({ ips: [ip], mac });

    expect(pod?.spec?.containers[0]).toMatchObject({
      image: "nginx:1.27",
      command: ["nginx"],
      args: ["-g", "daemon off;"],
      env: [{ name: "MODE", value: "demo" }],
      resources: { requests: { cpu: "500m", memory: "128Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
    });
    expect(pod?.spec?.restartPolicy).toBe("Always");
    expect(pod?.spec?.automountServiceAccountToken).toBe(false);
    // Selected by the default security group's MultiNetworkPolicy like a server's virt-launcher pod.
    expect(pod?.metadata.labels).toMatchObject({
      app: "web",
      [securityGroupLabel("default", `${namespace}/${NETWORK}`)]: "true",
      [portSecurityLabel(`${namespace}/${NETWORK}`)]: "enabled",
    });

    expect(running.status?.addresses).toEqual({ [NETWORK]: [{ addr: ip, version: 4, type: "fixed", macAddr: mac }] });
    expect(running.status?.host).toBe(pod?.spec?.nodeName);
    expect(running.status?.host).toBeTruthy();
  });

  it("and a server on the same network see each other's addresses in status", async () => {
    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 }, "ctr-flavor");
    const image = await activeImage(client, namespace);
    const serverName = unique("vm");
    await client.create<Server>(serverKind, serverObject(namespace, serverName, { flavorRef: flavor, imageRef: image, networks: [{ networkRef: NETWORK }] }));
    const { metadata } = await createContainer({ image: "busybox:1.36", command: ["sleep", "infinity"], networks: [{ networkRef: NETWORK }] }, "peer");
    const container = await containerIn(metadata.name ?? "", "Running");
    const server = await serverStatus(client, namespace, serverName, "ACTIVE", { timeoutMs: 90_000 });

    const containerIp = container.status?.addresses?.[NETWORK]?.[0]?.addr;
    const serverIp = await eventually("server address", async () => (await client.get<Server>(serverKind, serverName, namespace))?.status?.addresses?.[NETWORK]?.[0]?.addr);
    expect(inSubnet(containerIp)).toBe(true);
    expect(inSubnet(serverIp)).toBe(true);
    expect(containerIp).not.toBe(serverIp);
    expect(server.status?.status).toBe("ACTIVE");
  });

  it("stops (no Pod), starts again and restarts (a new Pod) as its spec says, keeping its address", async () => {
    const { metadata } = await createContainer({ image: "busybox:1.36", command: ["sleep", "infinity"], networks: [{ networkRef: NETWORK }] }, "cycle");
    const name = metadata.name ?? "";
    const first = await containerIn(name, "Running");
    const podName = first.status?.podName ?? "";
    const firstPod = await getPod(podName);
    const address = first.status?.addresses;

    await client.patch(containerKind, name, namespace, { spec: { state: "Stopped" } }, "merge");
    await eventually("pod gone after stop", async () => (await getPod(podName)) === undefined);
    const stopped = await eventually("stopped and Ready", async () => {
      const c = await containerIn(name, "Stopped");
      return conditionOf(c)?.status === "True" ? c : undefined;
    });
    expect(stopped.status?.host).toBeUndefined();
    expect(stopped.status?.addresses).toEqual(address);

    await client.patch(containerKind, name, namespace, { spec: { state: "Running" } }, "merge");
    const started = await containerIn(name, "Running");
    const secondPod = await getPod(podName);
    expect(secondPod?.metadata.uid).not.toBe(firstPod?.metadata.uid);
    expect(started.status?.addresses).toEqual(address);

    await client.patch(containerKind, name, namespace, { spec: { restartGeneration: 1 } }, "merge");
    await containerIn(name, "Running");
    const thirdPod = await eventually("a new pod after restart", async () => {
      const p = await getPod(podName);
      return p !== undefined && p.metadata.uid !== secondPod?.metadata.uid && p.status?.phase === "Running" ? p : undefined;
    });
    expect(thirdPod.metadata.annotations?.["altostack.io/restart-generation"]).toBe("1");
    expect((await containerIn(name, "Running")).status?.addresses).toEqual(address);
  });

  it("mounts a volume, which is in-use and cannot be deleted while mounted", async () => {
    const volumeName = unique("data");
    await client.create<Volume>(volumeKind, { apiVersion: API_VERSION, kind: "Volume", metadata: { name: volumeName, namespace }, spec: { size: 1 } });
    const { metadata } = await createContainer({ image: "busybox:1.36", command: ["sleep", "infinity"], volumes: [{ volumeRef: volumeName, mountPath: "/data" }] }, "mnt");
    const name = metadata.name ?? "";
    const running = await containerIn(name, "Running");
    const pod = await getPod(running.status?.podName ?? "");
    expect(pod?.spec?.volumes).toEqual([{ name: "vol-0", persistentVolumeClaim: { claimName: `${volumeName}.volume` } }]);
    expect(pod?.spec?.containers[0]?.volumeMounts).toEqual([{ name: "vol-0", mountPath: "/data" }]);

    const inUse = await eventually("volume in-use", async () => {
      const v = await client.get<Volume>(volumeKind, volumeName, namespace);
      return v?.status?.status === "in-use" ? v : undefined;
    });
    expect(inUse.status?.attachments).toMatchObject([{ serverId: metadata.uid, serverName: name }]);

    await client.delete(volumeKind, volumeName, namespace);
    const busy = await eventually("volume busy", async () => {
      const v = await client.get<Volume>(volumeKind, volumeName, namespace);
      return conditionOf(v, "Deleting")?.reason === "VolumeIsBusy" ? v : undefined;
    });
    expect(conditionOf(busy, "Deleting")?.message).toContain(name);

    // Once the container lets it go, the volume goes.
    await client.delete(containerKind, name, namespace);
    await eventually("volume gone", async () => (await client.get(volumeKind, volumeName, namespace)) === undefined);
  });

  it("holds a single-attach volume against a server: the server waits and says why, and gets it once the container goes", async () => {
    const volumeName = unique("excl");
    await client.create<Volume>(volumeKind, { apiVersion: API_VERSION, kind: "Volume", metadata: { name: volumeName, namespace }, spec: { size: 1 } });
    const claimName = `${volumeName}.volume`;
    const { metadata } = await createContainer({ image: "busybox:1.36", command: ["sleep", "infinity"], volumes: [{ volumeRef: volumeName, mountPath: "/data" }] }, "holder");
    const holder = metadata.name ?? "";
    await containerIn(holder, "Running");
    await eventually("volume in-use by the container", async () => {
      const v = await client.get<Volume>(volumeKind, volumeName, namespace);
      return v?.status?.status === "in-use" && v.status.attachments?.[0]?.serverId === metadata.uid ? v : undefined;
    });

    const flavor = await createFlavor(client, { vcpus: 1, ram: 512, disk: 1 }, "excl-flavor");
    const image = await activeImage(client, namespace);
    const serverName = unique("excl-vm");
    await client.create<Server>(serverKind, serverObject(namespace, serverName, { flavorRef: flavor, imageRef: image, volumes: [{ volumeRef: volumeName }] }));
    await serverStatus(client, namespace, serverName, "ACTIVE", { timeoutMs: 90_000 });
    const carries = async () =>
      ((await client.get<VM>(Upstream.VirtualMachine, serverName, namespace))?.spec.template.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claimName);
    expect(await carries()).toBe(false);
    // The server says why, in Nova's words, as a Warning Event on it.
    const why = await eventually("the server's VolumeAttachPending event", async () => {
      const events = (await client.list<KubeEvent>(Builtin.Event, { namespace })).items;
      return events.find((e) => e.regarding.name === serverName && e.reason === "VolumeAttachPending");
    });
    expect(why.note).toBe(`Invalid volume: volume ${volumeName} is already attached to container ${holder} and is not multiattach.`);
    const stillHeld = await client.get<Volume>(volumeKind, volumeName, namespace);
    expect(stillHeld?.status?.attachments?.map((a) => a.serverId)).toEqual([metadata.uid]);

    // The container goes (its Pod first): the server's VM gets the volume, hot-plugged into the running guest.
    await client.delete(containerKind, holder, namespace);
    await eventually("the server's VM carries the volume", carries, 60_000);
    const inUse = await eventually("volume in-use by the server", async () => {
      const v = await client.get<Volume>(volumeKind, volumeName, namespace);
      return v?.status?.status === "in-use" && v.status.attachments?.length === 1 && v.status.attachments[0]?.serverName === serverName ? v : undefined;
    }, 60_000);
    expect(inUse.status?.attachments?.[0]?.serverName).toBe(serverName);
  });

  it("deleted: its Pod goes first, then its port, and the port's addresses are freed", async () => {
    const { metadata } = await createContainer({ image: "busybox:1.36", command: ["sleep", "infinity"], networks: [{ networkRef: NETWORK }] }, "gone");
    const name = metadata.name ?? "";
    const running = await containerIn(name, "Running");
    const port = await client.get<Port>(portKind, `${name}-${NETWORK}`, namespace);
    const held = async () => (await client.list<Allocation>(allocationKind, { labelSelector: `altostack.io/holder-uid=${port?.metadata.uid ?? ""}` })).items;
    expect((await held()).length).toBeGreaterThan(0);

    await client.delete(containerKind, name, namespace);
    await eventually("container gone", async () => (await client.get(containerKind, name, namespace)) === undefined);
    expect(await getPod(running.status?.podName ?? "")).toBeUndefined();
    await eventually("port gone", async () => (await client.get(portKind, `${name}-${NETWORK}`, namespace)) === undefined);
    await eventually("allocations freed", async () => (await held()).length === 0);
  });

  it("whose image cannot be pulled is in Error with the kubelet's reason, and runs once the image is fixed", async () => {
    const { metadata } = await createContainer({ image: "registry.invalid/team/app:1", restartPolicy: "always" }, "pull");
    const name = metadata.name ?? "";
    const failed = await containerIn(name, "Error");
    expect(conditionOf(failed)).toMatchObject({ status: "False", reason: "ContainerError" });
    expect(conditionOf(failed)?.message).toMatch(/image registry.invalid\/team\/app:1 cannot be run \(ImagePullBackOff: .*no such host\)/);

    await client.patch(containerKind, name, namespace, { spec: { image: "busybox:1.36" } }, "merge");
    const running = await containerIn(name, "Running");
    expect((await getPod(running.status?.podName ?? ""))?.spec?.containers[0]?.image).toBe("busybox:1.36");
  });

  it("refuses the operator's labels, and reports a Pod the apiserver refuses as Error", async () => {
    const refused = await createContainer({ image: "busybox:1.36", labels: { "altostack.io/sg-admin": "true" } }, "sneaky").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((refused as KubeApiError).statusCode).toBe(422);
    expect((refused as KubeApiError).message).toContain("labels under altostack.io/");

    // A label value Kubernetes does not accept (spaces): the Container is stored, its Pod is refused.
    const { metadata } = await createContainer({ image: "busybox:1.36", labels: { tier: "front end" } }, "badlabel");
    const failed = await containerIn(metadata.name ?? "", "Error");
    expect(conditionOf(failed)).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(conditionOf(failed)?.message).toMatch(/^the pod was refused: .*front end/);
  });

  it("on an unknown network is in Error with a clear message, and recovers once the network exists", async () => {
    const missing = unique("nope");
    const { metadata } = await createContainer({ image: "busybox:1.36", networks: [{ networkRef: missing }] }, "lost");
    const name = metadata.name ?? "";
    const failed = await containerIn(name, "Error");
    expect(conditionOf(failed)).toMatchObject({ status: "False", reason: "DependencyNotFound" });
    expect(conditionOf(failed)?.message).toContain(`network ${missing} not found`);
    expect(failed.status?.statusReason).toBe(conditionOf(failed)?.message);
    expect(await getPod(name)).toBeUndefined();

    await client.create<Network>(networkKind, { apiVersion: API_VERSION, kind: "Network", metadata: { name: missing, namespace }, spec: {} });
    await client.create<Subnet>(subnetKind, {
      apiVersion: API_VERSION,
      kind: "Subnet",
      metadata: { name: `${missing}-v4`, namespace },
      spec: { networkRef: missing, cidr: "10.78.0.0/24", ipVersion: 4 },
    });
    const recovered = await containerIn(name, "Running");
    expect(recovered.status?.addresses?.[missing]?.[0]?.addr.startsWith("10.78.0.")).toBe(true);
  });
});

describe("examples/containers", () => {
  it("kubectl apply -f examples/containers/container.yaml gives a running container on its network with its volume in-use", async () => {
    const file = join(import.meta.dirname, "..", "..", "examples", "containers", "container.yaml");
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      const obj = doc.toJS() as KubeObject & { kind: string };
      const rt: ResourceType | undefined = obj.kind === "Namespace" ? Builtin.Namespace : ALL_KINDS.find((k) => k.kind === obj.kind);
      if (rt === undefined) throw new Error(`unknown kind ${obj.kind}`);
      await client.apply(rt, obj, { fieldManager: "kubectl" });
    }
    const ns = "project-ctrdemo";
    const web = await eventually("container web Running", async () => {
      const c = await client.get<Container>(containerKind, "web", ns);
      return c?.status?.status === "Running" ? c : undefined;
    });
    expect(web.status?.addresses?.apps?.[0]?.addr.startsWith("10.40.0.")).toBe(true);
    const pod = await client.get<PodObject>(Builtin.Pod, "web", ns);
    expect(pod?.spec?.containers[0]?.volumeMounts).toEqual([{ name: "vol-0", mountPath: "/usr/share/nginx/html" }]);
    await eventually("volume web-content in-use", async () => (await client.get<Volume>(volumeKind, "web-content", ns))?.status?.status === "in-use");
  });
});
