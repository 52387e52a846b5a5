// Zun's API over Container objects, driven by the real `openstack appcontainer` CLI (python-zunclient from the
// pinned venv) and raw HTTP, against the facade, the operator and the simulated kubelet.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerKind, type Container } from "../src/api/index.js";
import { http, issueToken, openstackBinDir, openstackCli, openstackJson, openstackSdk, projectWithUser, startFacadeEnv, type FacadeEnv } from "./facade-helpers.js";
import { eventually, testClient } from "./helpers.js";

type Row = Record<string, unknown>;
type Person = Awaited<ReturnType<typeof projectWithUser>>;

let env: FacadeEnv;
let demo: Person;
let other: Person;
let reader: Person;
let networkId: string;

beforeAll(async () => {
  await openstackBinDir();
  env = await startFacadeEnv({ simulator: true });
  demo = await projectWithUser(env, { role: "member" });
  other = await projectWithUser(env, { role: "member" });
  reader = await projectWithUser(env, { project: demo.project, existingProject: true, role: "reader" });
  const network = await openstackJson<Row>(env, demo, ["network", "create", "apps"]);
  networkId = String(network.id);
  await openstackJson(env, demo, ["subnet", "create", "--network", "apps", "--subnet-range", "10.77.0.0/24", "apps-v4"]);
}, 300_000);

afterAll(async () => {
  await env.stop();
});

const show = (name: string) => openstackJson<Row>(env, demo, ["appcontainer", "show", name]);
const statusBecomes = (name: string, status: string) =>
  eventually(`container ${name} ${status}`, async () => {
    const shown = await show(name);
    return shown.status === status ? shown : undefined;
  });

describe("openstack appcontainer (python-zunclient)", () => {
  let uuid: string;

  it("runs a container on a tenant network, lists it, and shows it Running with its address", async () => {
    // The image's words after it are its command, so the output format goes before it.
    const run = await openstackCli(env, demo, ["appcontainer", "run", "-f", "json", "--name", "web", "--net", `network=${networkId}`, "--cpu", "0.5", "--memory", "128", "--environment", "GREETING=hi", "nginx"]);
    expect(run.code, run.stderr).toBe(0);
    const created = JSON.parse(run.stdout) as Row;
    expect(created).toMatchObject({ name: "web", image: "nginx", cpu: 0.5, memory: "128", command: [], environment: { GREETING: "hi" }, project_id: demo.projectId, user_id: demo.userId });
    uuid = String(created.uuid);
    const stored = await testClient().list<Container>(containerKind, { namespace: `project-${demo.project}` });
    expect(stored.items.map((c) => [c.metadata.uid, c.spec.state, c.spec.networks])).toEqual([[uuid, "Running", [{ networkRef: "apps" }]]]);

    const listed = await openstackJson<Row[]>(env, demo, ["appcontainer", "list"]);
    expect(listed).toEqual([expect.objectContaining({ uuid, name: "web", image: "nginx" })]);
    // openstacksdk has no Zun resources, only its generic proxy for the service (conn.container).
    const viaSdk = await openstackSdk<Row[]>(env, demo, "print(json.dumps(conn.container.get('/containers').json()['containers']))");
    expect(viaSdk).toEqual([expect.objectContaining({ uuid, name: "web" })]);

    // The CLI prints the addresses joined, and the networks they are on.
    const running = await statusBecomes("web", "Running");
    expect(running).toMatchObject({ addresses: expect.stringMatching(/^10\.77\.0\.\d+$/) as unknown, networks: networkId });
    const raw = await http(env, "GET", `/container/v1/containers/${uuid}`, { token: await issueToken(env, demo) });
    const port = (await openstackJson<Row[]>(env, demo, ["port", "list", "--network", "apps"]))[0];
    expect((raw.body as Row).addresses).toEqual({
      [networkId]: [{ addr: running.addresses, version: 4, subnet_id: expect.any(String) as unknown, port: port?.ID, preserve_on_delete: false }],
    });
  });

  it("stops, starts and restarts it (spec.state, spec.restartGeneration); a stop of a stopped container is Zun's 409", async () => {
    await openstackCli(env, demo, ["appcontainer", "stop", "web"]);
    await statusBecomes("web", "Stopped");
    const token = await issueToken(env, demo);
    const again = await http(env, "POST", `/container/v1/containers/${uuid}/stop`, { token });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ errors: [expect.objectContaining({ status: 409, title: `Cannot stop container ${uuid} in Stopped state.` })] });
    await openstackCli(env, demo, ["appcontainer", "start", "web"]);
    await statusBecomes("web", "Running");
    // restart (Zun's reboot) raises spec.restartGeneration: the reconciler replaces the Pod.
    await openstackCli(env, demo, ["appcontainer", "restart", "web"]);
    const stored = await testClient().get<Container>(containerKind, "web", `project-${demo.project}`);
    expect(stored?.spec).toMatchObject({ state: "Running", restartGeneration: 1 });
    await statusBecomes("web", "Running");
  });

  it("refuses to delete a running container unless asked to stop it; delete --stop removes it", async () => {
    const token = await issueToken(env, demo);
    const refused = await http(env, "DELETE", `/container/v1/containers/web`, { token });
    expect(refused.status).toBe(409);
    await openstackCli(env, demo, ["appcontainer", "delete", "--stop", "web"]);
    await eventually("container web gone", async () => {
      const listed = await openstackJson<Row[]>(env, demo, ["appcontainer", "list"]);
      return listed.length === 0;
    });
    const gone = await openstackCli(env, demo, ["appcontainer", "show", "web"]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain("Container web could not be found.");
  });
});

describe("Zun over raw HTTP", () => {
  it("answers the version documents zunclient negotiates from", async () => {
    const root = await http(env, "GET", "/container/");
    expect(root.status).toBe(200);
    expect(root.body).toMatchObject({ versions: [{ id: "v1", status: "CURRENT", min_version: "1.1", max_version: "1.40", links: [{ rel: "self", href: `${env.facade.url}/container/v1/` }] }] });
    const token = await issueToken(env, demo);
    const tooNew = await http(env, "GET", "/container/v1/containers", { token, headers: { "OpenStack-API-Version": "container 1.99" } });
    expect(tooNew.status).toBe(406);
    const ok = await http(env, "GET", "/container/v1/containers", { token, headers: { "OpenStack-API-Version": "container 1.40" } });
    expect(ok.headers.get("openstack-api-version")).toBe("container 1.40");
  });

  it("keeps tenants apart: another project's container is 404, a reader may look but not write", async () => {
    const token = await issueToken(env, demo);
    const created = await http(env, "POST", "/container/v1/containers", { token, body: { name: "quiet", image: "busybox", nets: [] } });
    expect(created.status).toBe(202);
    const id = String((created.body as Row).uuid);
    expect(created.body).toMatchObject({ name: "quiet", status: "Creating" });

    const otherToken = await issueToken(env, other);
    for (const [method, path] of [
      ["GET", `/container/v1/containers/${id}`],
      ["GET", "/container/v1/containers/quiet"],
      ["POST", `/container/v1/containers/${id}/start`],
      ["DELETE", `/container/v1/containers/${id}`],
    ] as const) {
      const result = await http(env, method, path, { token: otherToken });
      expect(result.status, `${method} ${path}`).toBe(404);
      expect(result.body).toEqual({ errors: [expect.objectContaining({ status: 404, code: "client" })] });
    }
    const otherList = await http(env, "GET", "/container/v1/containers", { token: otherToken });
    expect(otherList.body).toEqual({ containers: [] });
    const allProjects = await http(env, "GET", "/container/v1/containers?all_projects=1", { token: otherToken });
    expect(allProjects.status).toBe(403);

    const readerToken = await issueToken(env, reader);
    const seen = await http(env, "GET", `/container/v1/containers/${id}`, { token: readerToken });
    expect(seen.status).toBe(200);
    const write = await http(env, "POST", "/container/v1/containers", { token: readerToken, body: { image: "busybox" } });
    expect(write.status).toBe(403);
    // The policy is checked before the state: 403 even where the state alone would be a 409.
    for (const [method, path] of [
      ["DELETE", `/container/v1/containers/${id}?force=true`],
      ["DELETE", `/container/v1/containers/${id}`],
      ["POST", `/container/v1/containers/${id}/start`],
      ["POST", `/container/v1/containers/${id}/kill`],
    ] as const) {
      const result = await http(env, method, path, { token: readerToken });
      expect(result.status, `${method} ${path}`).toBe(403);
      expect(result.body).toEqual({ errors: [expect.objectContaining({ status: 403, title: expect.stringContaining("Policy doesn't allow container:") as unknown })] });
    }
    const renamed = await eventually("quiet updated once Stopped", async () => {
      const result = await http(env, "PATCH", `/container/v1/containers/${id}`, { token, body: { name: "quiet2", memory: "64" } });
      return result.status === 200 ? result.body : undefined;
    });
    expect(renamed).toMatchObject({ uuid: id, name: "quiet2", memory: "64", status: "Stopped" });

    const removed = await http(env, "DELETE", `/container/v1/containers/${id}?force=true`, { token });
    expect(removed.status).toBe(204);
  });

  it("answers bad input with Zun's 400 fault body, and stores nothing", async () => {
    const token = await issueToken(env, demo);
    const before = (await testClient().list<Container>(containerKind, { namespace: `project-${demo.project}` })).items.length;
    for (const body of [{ image: "" }, { image: "nginx", memory: "lots" }, { image: "nginx", nets: [{ network: "no-such-net" }] }, { image: "nginx", privileged: true }]) {
      const result = await http(env, "POST", "/container/v1/containers?run=true", { token, body });
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.body).toEqual({ errors: [expect.objectContaining({ status: 400, code: "client", title: expect.any(String) as unknown, detail: expect.any(String) as unknown })] });
    }
    const after = (await testClient().list<Container>(containerKind, { namespace: `project-${demo.project}` })).items.length;
    expect(after).toBe(before);
  });
});
