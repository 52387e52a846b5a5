// GitOps on the real apiserver with the operator, the facade and the simulator, driven by the real kubectl:
// examples/gitops/overlays/prod applied with kustomize + server-side apply converges; an edit re-applied
// converges to the new state; a server and its port removed from the overlay are pruned (applyset) and their
// addresses released; objects made through the OpenStack facade come back from `kubectl get -o yaml` through
// hack/kubectl-neat.mjs as clean YAML that applies back without changing anything.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import {
  ALL_KINDS,
  API_VERSION,
  allocationKind,
  containerKind,
  flavorKind,
  imageKind,
  portKind,
  projectNamespace,
  serverKind,
  volumeKind,
  type Allocation,
  type AnyKind,
  type Container,
  type Image,
  type Port,
  type Server,
  type Volume,
} from "../src/api/index.js";
import { repoRoot } from "../src/devenv/crds.js";
import { Builtin, type KubeObject } from "../src/kube/index.js";
import { AllocationLabel } from "../src/reconcilers/ipam/arbiter.js";
import { http, issueToken, startFacadeEnv, waitForProjectReady, type FacadeEnv } from "./facade-helpers.js";
import { conditionOf, eventually, testClient, unique } from "./helpers.js";

const client = testClient();
const GITOPS_EXAMPLE = path.join(repoRoot(), "examples", "gitops");
const NEAT = path.join(repoRoot(), "hack", "kubectl-neat.mjs");
const APPLYSET = "gitops";
const CONVERGE_MS = 60_000;

let env: FacadeEnv;
let workDir: string;

beforeAll(async () => {
  env = await startFacadeEnv({ simulator: true });
  workDir = await mkdtemp(path.join(os.tmpdir(), "altostack-gitops-"));
});
afterAll(async () => {
  await env.stop();
  await rm(workDir, { recursive: true, force: true });
});

function run(command: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { ...process.env, ...extraEnv }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`${path.basename(command)} ${args.join(" ")} failed: ${stderr}`));
    });
  });
}

/** The real kubectl (the control plane's version) against the test cluster. */
function kubectl(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  return run(inject("kubectl"), ["--kubeconfig", inject("kubeconfigPath"), ...args], extraEnv);
}

/** What the README tells GitOps users to run every time: server-side apply, pruning through an applyset. */
function applyWithPrune(dir: string, namespace: string): Promise<string> {
  return kubectl(["apply", "-k", dir, "--server-side", "--prune", `--applyset=${APPLYSET}`, "-n", namespace], { KUBECTL_APPLYSET: "true" });
}

function kindOf(obj: KubeObject): AnyKind | undefined {
  return ALL_KINDS.find((k) => k.kind === obj.kind && obj.apiVersion === API_VERSION);
}

async function rendered(dir: string): Promise<KubeObject[]> {
  return parseAllDocuments(await kubectl(["kustomize", dir])).map((d) => d.toJS() as KubeObject);
}

/** Every Altostack object of the rendered overlay is Ready=True for its current generation. */
async function allConverged(objects: KubeObject[], namespace: string): Promise<void> {
  for (const obj of objects) {
    const kind = kindOf(obj);
    if (kind === undefined) continue; // the Namespace
    const name = obj.metadata.name ?? "";
    await eventually(
      `${obj.kind} ${name} Ready for its generation`,
      async () => {
        const live = await client.get(kind, name, kind.namespaced ? namespace : undefined);
        const ready = conditionOf(live);
        const observed = (live as { status?: { observedGeneration?: number } } | undefined)?.status?.observedGeneration;
        return ready?.status === "True" && observed === live?.metadata.generation ? live : undefined;
      },
      CONVERGE_MS,
    );
  }
}

interface KustomizationFile {
  resources?: string[];
  patches?: { target?: Record<string, string>; patch?: string; path?: string }[];
  replacements?: unknown[];
  [key: string]: unknown;
}

async function editYaml<T>(file: string, edit: (doc: T) => T): Promise<void> {
  await writeFile(file, stringify(edit(parse(await readFile(file, "utf8")) as T)));
}

describe("examples/gitops with kubectl -k, server-side apply and applyset prune", () => {
  let project: string;
  let namespace: string;
  let overlay: string;
  let wrapper: string;

  beforeAll(async () => {
    // A copy of the example to edit, and a kustomization over its prod overlay that renames the project the
    // way the overlays do, with the overlay's own replacements (tests share one cluster; flavors are cluster-wide).
    await cp(GITOPS_EXAMPLE, path.join(workDir, "gitops"), { recursive: true });
    overlay = path.join(workDir, "gitops", "overlays", "prod");
    project = unique("gitops");
    namespace = projectNamespace(project);
    wrapper = workDir; // its kustomization.yaml is written below, beside the copy
    const prod = parse(await readFile(path.join(overlay, "kustomization.yaml"), "utf8")) as KustomizationFile;
    expect(prod.replacements, "the prod overlay renames the project with replacements").toBeDefined();
    await writeFile(
      path.join(wrapper, "kustomization.yaml"),
      stringify({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: ["gitops/overlays/prod"],
        patches: [{ target: { kind: "Project", name: "shop-prod" }, patch: JSON.stringify([{ op: "replace", path: "/metadata/name", value: project }]) }],
        replacements: prod.replacements,
      }),
    );
  });

  it("both overlays render: their own project, namespace and private flavors", async () => {
    for (const [name, expected] of [
      ["dev", { project: "shop-dev", servers: ["db", "web-1"], dbFlavor: "shop-dev.small" }],
      ["prod", { project: "shop-prod", servers: ["db", "web-1", "web-2"], dbFlavor: "shop-prod.large" }],
    ] as const) {
      const objects = await rendered(path.join(GITOPS_EXAMPLE, "overlays", name));
      const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
      expect(byKind("Project").map((o) => o.metadata.name)).toEqual([expected.project]);
      expect(byKind("Namespace").map((o) => [o.metadata.name, o.metadata.labels?.["altostack.io/project"]])).toEqual([
        [projectNamespace(expected.project), expected.project],
      ]);
      const flavors = byKind("Flavor") as (KubeObject & { spec: { projects: string[] } })[];
      expect(flavors.map((f) => f.metadata.name).sort()).toEqual([`${expected.project}.large`, `${expected.project}.small`]);
      expect(flavors.every((f) => f.spec.projects.join() === expected.project)).toBe(true);
      const servers = byKind("Server") as (KubeObject & { spec: { flavorRef: string } })[];
      expect(servers.map((s) => s.metadata.name).sort()).toEqual([...expected.servers]);
      expect(servers.every((s) => s.spec.flavorRef.startsWith(`${expected.project}.`))).toBe(true);
      expect(servers.find((s) => s.metadata.name === "db")?.spec.flavorRef).toBe(expected.dbFlavor);
      const namespaced = objects.filter((o) => kindOf(o)?.namespaced === true);
      expect(namespaced.every((o) => o.metadata.namespace === projectNamespace(expected.project))).toBe(true);
      const clusterScoped = objects.filter((o) => kindOf(o)?.namespaced === false);
      expect(clusterScoped.map((o) => o.metadata.namespace)).toEqual(clusterScoped.map(() => undefined));
    }
    // The overlays share one replacements block (kustomize cannot load it from outside an overlay): it must not drift.
    const replacementsOf = async (name: string) =>
      (parse(await readFile(path.join(GITOPS_EXAMPLE, "overlays", name, "kustomization.yaml"), "utf8")) as KustomizationFile).replacements;
    expect(await replacementsOf("dev")).toEqual(await replacementsOf("prod"));
  });

  it("one apply creates the whole project and everything converges Ready", async () => {
    // First apply of a new project: no prune yet — the applyset's parent Secret lives in the project's
    // namespace, which this apply creates (README, "GitOps").
    const first = await kubectl(["apply", "-k", wrapper, "--server-side"]);
    expect(first).toContain(`namespace/${namespace} serverside-applied`);
    await applyWithPrune(wrapper, namespace);
    const objects = await rendered(wrapper);
    expect(objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining(["Namespace", "Project", "Flavor", "Keypair", "Image", "Network", "Subnet", "SecurityGroup", "Volume", "Port", "Server", "Container"]),
    );
    await allConverged(objects, namespace);

    await waitForProjectReady(project);
    for (const name of ["web-1", "web-2", "db"]) {
      const server = await client.get<Server>(serverKind, name, namespace);
      expect(server?.status?.status, `server ${name}`).toBe("ACTIVE");
    }
    const web1 = await client.get<Server>(serverKind, "web-1", namespace);
    expect(web1?.status?.flavor).toMatchObject({ name: `${project}.small`, vcpus: 2, ram: 2048 });
    expect(JSON.stringify(web1?.status?.addresses)).toContain("10.30.0.11");
    const cache = await client.get<Container>(containerKind, "cache", namespace);
    expect(cache?.status?.status).toBe("Running");
    expect(JSON.stringify(cache?.status?.addresses)).toContain("10.31.0.30");
    // Ready is about the volume itself; attaching to db finishes on its own schedule.
    const db = await eventually("db-data in-use", async () => {
      const v = await client.get<Volume>(volumeKind, "db-data", namespace);
      return v?.status?.status === "in-use" ? v : undefined;
    }, CONVERGE_MS);
    expect(db.status?.size).toBe(4);
    // The Project adopted the declared namespace instead of reporting a conflict.
    const ns = await client.get(Builtin.Namespace, namespace);
    expect(ns?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Project", name: project, controller: true });
  });

  it("an edit in git re-applied converges: a server's flavor (a resize) and a volume's size", async () => {
    const before = await client.get<Server>(serverKind, "web-1", namespace);
    await editYaml<KustomizationFile>(path.join(overlay, "kustomization.yaml"), (k) => ({
      ...k,
      patches: [
        ...(k.patches ?? []),
        { target: { kind: "Server", name: "web-1" }, patch: JSON.stringify([{ op: "replace", path: "/spec/flavorRef", value: "shop.large" }]) },
      ],
    }));
    await editYaml<Volume>(path.join(overlay, "volumes.yaml"), (v) => ({ ...v, spec: { ...v.spec, size: 5 } }));
    const output = await applyWithPrune(wrapper, namespace);
    expect(output).toContain("server.altostack.io/web-1 serverside-applied");

    const resized = await eventually(
      "web-1 ACTIVE on the large flavor",
      async () => {
        const s = await client.get<Server>(serverKind, "web-1", namespace);
        const ready = conditionOf(s)?.status === "True" && s?.status?.observedGeneration === s?.metadata.generation;
        return ready && s?.status?.status === "ACTIVE" && s.status.taskState === undefined && s.status.flavor?.vcpus === 4 ? s : undefined;
      },
      CONVERGE_MS,
    );
    expect(resized.spec.flavorRef).toBe(`${project}.large`);
    expect(resized.status?.flavor).toMatchObject({ name: `${project}.large`, vcpus: 4, ram: 4096 });
    expect(resized.metadata.uid).toBe(before?.metadata.uid);
    const grown = await eventually(
      "db-data grown to 5 GiB",
      async () => {
        const v = await client.get<Volume>(volumeKind, "db-data", namespace);
        return v?.status?.size === 5 && conditionOf(v)?.status === "True" && v.status.observedGeneration === v.metadata.generation ? v : undefined;
      },
      CONVERGE_MS,
    );
    expect(grown.status?.status).toBe("in-use");
  });

  it("a server and its port removed from the overlay are pruned and the port's addresses released", async () => {
    const port = await client.get<Port>(portKind, "web-2", namespace);
    const portUid = port?.metadata.uid ?? "";
    const held = async () =>
      (await client.list<Allocation>(allocationKind, { labelSelector: `${AllocationLabel.holderUid}=${portUid}` })).items.map((a) => a.spec.value);
    expect(await held()).toContain("10.30.0.12");

    await editYaml<KustomizationFile>(path.join(overlay, "kustomization.yaml"), (k) => ({
      ...k,
      resources: (k.resources ?? []).filter((r) => r !== "web-2.yaml"),
    }));
    const output = await applyWithPrune(wrapper, namespace);
    expect(output).toContain("server.altostack.io/web-2 pruned");
    expect(output).toContain("port.altostack.io/web-2 pruned");

    await eventually("server web-2 gone", async () => (await client.get(serverKind, "web-2", namespace)) === undefined, CONVERGE_MS);
    await eventually("port web-2 gone", async () => (await client.get(portKind, "web-2", namespace)) === undefined, CONVERGE_MS);
    await eventually("web-2's allocations released", async () => (await held()).length === 0, CONVERGE_MS);
    // Nothing else was pruned: the rest of the project is still there and Ready.
    await allConverged(await rendered(wrapper), namespace);
    const servers = await client.list<Server>(serverKind, { namespace });
    expect(servers.items.map((s) => s.metadata.name).sort()).toEqual(["db", "web-1"]);
  });
});

describe("objects made through the OpenStack facade, as YAML to commit", () => {
  it("come back from kubectl get -o yaml without noise and apply back without any change", async () => {
    const admin = { ...env.admin, project: env.admin.project ?? "" };
    const projectObject = await waitForProjectReady(admin.project);
    const namespace = projectNamespace(projectObject.metadata.name ?? "");
    const token = await issueToken(env, admin);
    const flavor = unique("gitops-flavor");
    await client.create(flavorKind, { apiVersion: API_VERSION, kind: "Flavor", metadata: { name: flavor }, spec: { vcpus: 1, ram: 256, disk: 1 } });
    const imageName = unique("img");
    await client.create<Image>(imageKind, {
      apiVersion: API_VERSION,
      kind: "Image",
      metadata: { name: imageName, namespace },
      spec: { source: { http: { url: "https://download.cirros-cloud.net/0.6.2/cirros-0.6.2-x86_64-disk.img" } }, diskFormat: "qcow2" },
    });
    const image = await eventually("image active", async () => {
      const i = await client.get<Image>(imageKind, imageName, namespace);
      return i?.status?.status === "active" ? i : undefined;
    });
    const flavorUid = (await client.get(flavorKind, flavor))?.metadata.uid ?? "";

    const post = async (pathname: string, body: unknown, key: string) => {
      const result = await http(env, "POST", pathname, { token, body });
      expect(result.status, result.text).toBeLessThan(300);
      return (result.body as Record<string, { id: string }>)[key] as { id: string };
    };
    const network = await post("/network/v2.0/networks", { network: { name: "committed-net" } }, "network");
    await post("/network/v2.0/subnets", { subnet: { network_id: network.id, cidr: "10.77.0.0/24", ip_version: 4, name: "committed-v4" } }, "subnet");
    const created = await post(
      "/compute/v2.1/servers",
      { server: { name: "committed-vm", flavorRef: flavorUid, imageRef: image.metadata.uid, networks: [{ uuid: network.id }] } },
      "server",
    );
    const server = await eventually(
      "the facade's server ACTIVE",
      async () => {
        const s = (await client.list<Server>(serverKind, { namespace })).items.find((i) => i.metadata.uid === created.id);
        return s?.status?.status === "ACTIVE" && conditionOf(s)?.status === "True" ? s : undefined;
      },
      CONVERGE_MS,
    );
    const serverName = server.metadata.name ?? "";

    const live = await kubectl(["get", "networks,subnets,servers,ports", "-n", namespace, "-o", "yaml"]);
    const neatFile = path.join(workDir, "committed.yaml");
    const neat = await new Promise<{ yaml: string; stderr: string }>((resolve, reject) => {
      const child = execFile(process.execPath, [NEAT], (error, stdout, stderr) => {
        if (error === null) resolve({ yaml: stdout, stderr });
        else reject(new Error(`kubectl-neat failed: ${stderr}`));
      });
      child.stdin?.end(live);
    });
    await writeFile(neatFile, neat.yaml);
    const docs = parseAllDocuments(neat.yaml).map((d) => d.toJS() as KubeObject & { spec?: unknown; status?: unknown });
    const committedServer = docs.find((d) => d.kind === "Server" && d.metadata.name === serverName);
    expect(committedServer, "the facade's server is in the YAML").toBeDefined();
    // An OpenStack name that is a valid object name becomes metadata.name (else spec.name).
    const openstackName = (d: KubeObject & { spec?: unknown }) => (d.spec as { name?: string } | undefined)?.name ?? d.metadata.name;
    expect(docs.filter((d) => d.kind === "Network").map(openstackName)).toContain("committed-net");
    expect(docs.filter((d) => d.kind === "Subnet").map(openstackName)).toContain("committed-v4");
    // The port Nova-style networking made for the server belongs to the server: left out, and said so.
    expect(docs.filter((d) => d.kind === "Port")).toEqual([]);
    expect(neat.stderr).toMatch(/left out Port\//);

    for (const doc of docs) {
      expect(Object.keys(doc).sort(), `${doc.kind} ${doc.metadata.name ?? ""}`).toEqual(["apiVersion", "kind", "metadata", "spec"]);
      expect(Object.keys(doc.metadata).filter((k) => !["name", "namespace", "labels", "annotations"].includes(k))).toEqual([]);
      // What remains is meaningful: who created it (Nova's and Cinder's user_id), nothing the facade uses internally.
      expect(Object.keys(doc.metadata.annotations ?? {}).filter((k) => k !== "altostack.io/user-id")).toEqual([]);
      expect(doc.metadata.labels ?? {}).toEqual({});
    }
    // The one annotation left is what Nova reports as the server's user_id.
    const shown = await http(env, "GET", `/compute/v2.1/servers/${created.id}`, { token });
    const userId = (shown.body as { server: { user_id: string } }).server.user_id;
    expect(userId).not.toBe("");
    expect(committedServer?.metadata.annotations).toEqual({ "altostack.io/user-id": userId });

    const before = new Map(docs.map((d) => [`${d.kind}/${d.metadata.name ?? ""}`, d]));
    const liveBefore = await Promise.all(
      docs.map(async (d) => {
        const kind = kindOf(d);
        if (kind === undefined) throw new Error(`unexpected ${d.kind}`);
        return client.get<KubeObject & { spec?: unknown }>(kind, d.metadata.name ?? "", namespace);
      }),
    );
    const applied = await kubectl(["apply", "--server-side", "-f", neatFile]);
    expect(applied).toContain(`server.altostack.io/${serverName} serverside-applied`);
    for (const [index, doc] of docs.entries()) {
      const kind = kindOf(doc);
      if (kind === undefined) continue;
      const after = await client.get<KubeObject & { spec?: unknown }>(kind, doc.metadata.name ?? "", namespace);
      const previous = liveBefore[index];
      expect(after?.metadata.generation, `${doc.kind} ${doc.metadata.name ?? ""} generation`).toBe(previous?.metadata.generation);
      expect(after?.spec).toEqual(previous?.spec);
      expect(after?.spec).toEqual(before.get(`${doc.kind}/${doc.metadata.name ?? ""}`)?.spec);
    }
  });
});
