// The scenario, driven by the real python-openstackclient and openstacksdk from PyPI (pinned venv, see
// hack/openstack-venv.sh) against the facade, the operator and the simulator on the test control plane.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageKind, keypairKind, networkKind, serverKind, type Image, type Keypair, type Server } from "../src/api/index.js";
import {
  openstackBinDir,
  openstackCli,
  openstackJson,
  openstackOk,
  openstackSdk,
  startFacadeEnv,
  waitForProjectReady,
  type Credentials,
  type FacadeEnv,
} from "./facade-helpers.js";
import { eventually, testClient, unique } from "./helpers.js";

let env: FacadeEnv;
let demo: Credentials & { project: string };
const names = { project: unique("demo"), user: unique("alice"), flavor: unique("m1.test"), privateFlavor: unique("m1.secret") };

beforeAll(async () => {
  await openstackBinDir(); // first use builds the cached venv (tens of seconds, once per machine)
  env = await startFacadeEnv({ simulator: true });
  demo = { user: names.user, password: unique("pw"), project: names.project };
}, 300_000);

afterAll(async () => {
  await env.stop();
});

type Row = Record<string, unknown>;

describe("the openstack CLI (python-openstackclient)", () => {
  it("issues a token for the admin", async () => {
    const token = await openstackJson<Row>(env, env.admin, ["token", "issue"]);
    expect(typeof token.id).toBe("string");
    expect(token.user_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(String(token.expires)) - Date.now()).toBeGreaterThan(50 * 60 * 1000);
    const catalog = await openstackJson<{ Type: string; Endpoints: { region: string; region_id: string; url: string }[] }[]>(env, env.admin, ["catalog", "list"]);
    expect(catalog.map((c) => c.Type).sort()).toEqual(["block-storage", "compute", "container", "identity", "image", "network", "volumev3"]);
    for (const entry of catalog) for (const endpoint of entry.Endpoints) expect(endpoint.region_id).toBe(endpoint.region);
  });

  it("creates a project and a user, and gives the user a role in it", async () => {
    const project = await openstackJson<Row>(env, env.admin, ["project", "create", names.project, "--description", "CLI scenario"]);
    expect(project).toMatchObject({ name: names.project, domain_id: "default", enabled: true, description: "CLI scenario" });
    const user = await openstackJson<Row>(env, env.admin, ["user", "create", "--password", demo.password, "--project", names.project, names.user]);
    expect(user).toMatchObject({ name: names.user, domain_id: "default", enabled: true, default_project_id: project.id });
    await openstackOk(env, env.admin, ["role", "add", "--project", names.project, "--user", names.user, "member"]);
    const assignments = await openstackJson<Row[]>(env, env.admin, ["role", "assignment", "list", "--project", names.project, "--names"]);
    expect(assignments).toEqual([expect.objectContaining({ Role: "member", User: `${names.user}@Default`, Project: `${names.project}@Default` })]);
    await waitForProjectReady(names.project);
    const own = await openstackJson<Row>(env, demo, ["token", "issue"]);
    expect(own.project_id).toBe(project.id);
  });

  it("lists public flavors and the private ones shared with the project", async () => {
    await openstackOk(env, env.admin, ["flavor", "create", "--vcpus", "1", "--ram", "512", "--disk", "1", names.flavor]);
    await openstackOk(env, env.admin, ["flavor", "create", "--vcpus", "2", "--ram", "1024", "--disk", "2", "--private", names.privateFlavor]);
    const before = await openstackJson<Row[]>(env, demo, ["flavor", "list"]);
    expect(before.map((f) => f.Name)).toContain(names.flavor);
    expect(before.map((f) => f.Name)).not.toContain(names.privateFlavor);
    await openstackOk(env, env.admin, ["flavor", "set", "--project", names.project, names.privateFlavor]);
    const after = await openstackJson<Row[]>(env, demo, ["flavor", "list"]);
    expect(after.find((f) => f.Name === names.privateFlavor)).toMatchObject({ RAM: 1024, Disk: 2, VCPUs: 2, "Is Public": false });
    const shown = await openstackJson<Row>(env, demo, ["flavor", "show", names.flavor]);
    expect(shown).toMatchObject({ name: names.flavor, ram: 512, disk: 1, vcpus: 1, "os-flavor-access:is_public": true });
  });

  it("creates a keypair (generated locally by the CLI) and shows its fingerprint", async () => {
    const privateKey = await openstackOk(env, demo, ["keypair", "create", "demo-key"]);
    expect(privateKey).toContain("PRIVATE KEY");
    const keys = await openstackJson<Row[]>(env, demo, ["keypair", "list"]);
    expect(keys).toEqual([expect.objectContaining({ Name: "demo-key", Type: "ssh", Fingerprint: expect.stringMatching(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/) as unknown })]);
    const stored = await testClient().list<Keypair>(keypairKind, { namespace: `project-${names.project}` });
    expect(stored.items.map((k) => k.metadata.name)).toEqual(["demo-key"]);
  });

  it("creates a network, a subnet, a port and a security group rule", async () => {
    const network = await openstackJson<Row>(env, demo, ["network", "create", "demo-net"]);
    expect(network).toMatchObject({ name: "demo-net", status: "ACTIVE", admin_state_up: true, shared: false, mtu: 1500 });
    const subnet = await openstackJson<Row>(env, demo, ["subnet", "create", "--network", "demo-net", "--subnet-range", "192.168.77.0/24", "demo-subnet"]);
    expect(subnet).toMatchObject({ cidr: "192.168.77.0/24", gateway_ip: "192.168.77.1", ip_version: 4, network_id: network.id, enable_dhcp: true });
    expect(subnet.allocation_pools).toEqual([{ start: "192.168.77.2", end: "192.168.77.254" }]);
    const port = await openstackJson<Row>(env, demo, ["port", "create", "--network", "demo-net", "demo-port"]);
    expect(port).toMatchObject({ name: "demo-port", network_id: network.id });
    const group = await openstackJson<Row>(env, demo, ["security", "group", "create", "web", "--description", "web servers"]);
    const rule = await openstackJson<Row>(env, demo, ["security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "443", "--remote-ip", "0.0.0.0/0", "web"]);
    expect(rule).toMatchObject({ direction: "ingress", protocol: "tcp", port_range_min: 443, port_range_max: 443, remote_ip_prefix: "0.0.0.0/0", security_group_id: group.id });
    const rules = await openstackJson<Row[]>(env, demo, ["security", "group", "rule", "list", "web"]);
    expect(rules).toHaveLength(3); // Neutron's two default egress rules, and ours
    const stored = await testClient().list(networkKind, { namespace: `project-${names.project}` });
    expect(stored.items.map((n) => n.metadata.name)).toEqual(["demo-net"]);
  });

  it("image create --file uploads the data; image show has its size, md5 checksum and sha512 hash; image save gets it back", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "altostack-cli-image-"));
    const file = path.join(dir, "demo.qcow2");
    const data = randomBytes(3 * 1024 * 1024 + 17); // the simulated CDI stores bytes as they come (no qcow2 check)
    await writeFile(file, data);
    try {
      await openstackOk(env, demo, ["image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file", file, "demo-image"]);
      const image = await openstackJson<Row>(env, demo, ["image", "show", "demo-image"]);
      expect(image).toMatchObject({ status: "active", disk_format: "qcow2", size: data.length, checksum: createHash("md5").update(data).digest("hex") });
      // The CLI shows os_hash_* among the properties (as against Glance).
      expect(image.properties).toMatchObject({ os_hash_algo: "sha512", os_hash_value: createHash("sha512").update(data).digest("hex") });
      // Download (through a KubeVirt VirtualMachineExport): the SDK checks the body against Content-MD5 itself.
      const saved = path.join(dir, "saved.img");
      await openstackOk(env, demo, ["image", "save", "--file", saved, "demo-image"]);
      expect(createHash("md5").update(await readFile(saved)).digest("hex")).toBe(createHash("md5").update(data).digest("hex"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("creates a server, which becomes a Server object, and shows it in list and show with the fields the CLI reads", async () => {
    // The image's data path is the storage issue's; an image imported from a URL serves here.
    const namespace = `project-${names.project}`;
    await testClient().create<Image>(imageKind, {
      apiVersion: imageKind.apiVersion,
      kind: imageKind.kind,
      metadata: { name: "cirros", namespace },
      spec: { source: { http: { url: "http://images.example/cirros.qcow2" } }, diskFormat: "qcow2" },
    });
    const created = await openstackJson<Row>(env, demo, ["server", "create", "--flavor", names.flavor, "--image", "cirros", "--network", "demo-net", "--key-name", "demo-key", "--security-group", "web", "demo-vm"]);
    expect(created).toMatchObject({ name: "demo-vm", key_name: "demo-key" });
    expect(["BUILD", "ACTIVE"]).toContain(created.status);
    const servers = await openstackJson<Row[]>(env, demo, ["server", "list"]);
    // At microversion ≥2.47 the CLI prints the flavor's original_name and the image's name.
    expect(servers).toEqual([expect.objectContaining({ Name: "demo-vm", Image: "cirros", Flavor: names.flavor })]);
    const shown = await openstackJson<Row>(env, demo, ["server", "show", "demo-vm"]);
    expect(shown).toMatchObject({ name: "demo-vm", "OS-EXT-AZ:availability_zone": "nova", locked: false });
    expect(shown.security_groups).toEqual([{ name: "web" }]);

    const stored = (await testClient().list<Server>(serverKind, { namespace })).items;
    expect(stored).toHaveLength(1);
    expect(stored[0]?.spec).toMatchObject({
      flavorRef: names.flavor,
      imageRef: "cirros",
      keypairRef: "demo-key",
      networks: [{ networkRef: "demo-net" }],
    });
    expect(stored[0]?.metadata.uid).toBe(created.id);
  });

  it("server create --wait reaches ACTIVE with an address; stop, start and reboot; delete --wait", async () => {
    const server = await openstackJson<Row>(env, demo, ["server", "create", "--wait", "--flavor", names.flavor, "--image", "cirros", "--network", "demo-net", "active-vm"]);
    expect(server).toMatchObject({ name: "active-vm", status: "ACTIVE", "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:power_state": 1 });
    expect(JSON.stringify(server.addresses)).toMatch(/192\.168\.77\.\d+/);
    // `server stop`/`start` have no --wait in the CLI: poll `server show` as a user would.
    const reaches = (status: string) =>
      eventually(`active-vm ${status}`, async () => (await openstackJson<Row>(env, demo, ["server", "show", "active-vm"])).status === status, 60_000);
    await openstackOk(env, demo, ["server", "stop", "active-vm"]);
    await reaches("SHUTOFF");
    await openstackOk(env, demo, ["server", "start", "active-vm"]);
    await reaches("ACTIVE");
    await openstackOk(env, demo, ["server", "reboot", "--wait", "active-vm"]);
    const actions = await openstackJson<Row[]>(env, demo, ["server", "event", "list", "active-vm"]);
    expect(actions.map((a) => a.Action)).toContain("reboot");
    await openstackOk(env, demo, ["server", "delete", "--wait", "active-vm"]);
    expect((await openstackCli(env, demo, ["server", "show", "active-vm"])).code).not.toBe(0);
  });

  it("server add volume → the volume is in-use with an attachment; server remove volume → available", async () => {
    await openstackOk(env, demo, ["volume", "create", "--size", "1", "data"]);
    const volumeIs = (status: string) =>
      eventually(
        `volume data ${status}`,
        async () => {
          const v = await openstackJson<Row>(env, demo, ["volume", "show", "data"]);
          return v.status === status ? v : undefined;
        },
        60_000,
      );
    await volumeIs("available");
    await eventually("demo-vm ACTIVE", async () => (await openstackJson<Row>(env, demo, ["server", "show", "demo-vm"])).status === "ACTIVE", 60_000);
    const server = await openstackJson<Row>(env, demo, ["server", "show", "demo-vm"]);
    await openstackOk(env, demo, ["server", "add", "volume", "demo-vm", "data"]);
    const attached = await volumeIs("in-use");
    const attachments = JSON.stringify(attached.attachments);
    expect(attachments).toContain(String(server.id));
    expect(attachments).toMatch(/"\/dev\/[a-z]+"/);
    const listed = await openstackJson<Row[]>(env, demo, ["server", "volume", "list", "demo-vm"]);
    expect(listed).toEqual([expect.objectContaining({ "Volume ID": attached.id, "Server ID": server.id })]);

    await openstackOk(env, demo, ["server", "remove", "volume", "demo-vm", "data"]);
    const detached = await volumeIs("available");
    expect(detached.attachments ?? []).toEqual([]);
    // The rest of the scenario counts one volume (demo-vol).
    await openstackOk(env, demo, ["volume", "delete", "data"]);
    await eventually("volume data gone", async () => (await openstackCli(env, demo, ["volume", "show", "data"])).code !== 0, 60_000);
  });

  it("server create --boot-from-volume: ACTIVE from a volume made of the image, which outlives the server", async () => {
    const created = await openstackJson<Row>(env, demo, [
      "server", "create", "--wait", "--flavor", names.flavor, "--image", "cirros", "--boot-from-volume", "1", "--network", "demo-net", "bfv-vm",
    ]);
    // Nova's image "" for a volume-backed server, which the CLI prints so.
    expect(created).toMatchObject({ name: "bfv-vm", status: "ACTIVE", image: "N/A (booted from volume)" });
    const attached = created.volumes_attached as { id: string }[];
    expect(attached).toHaveLength(1);
    const rootId = attached[0]?.id ?? "";
    const root = await openstackJson<Row>(env, demo, ["volume", "show", rootId]);
    expect(root).toMatchObject({ status: "in-use", bootable: true, size: 1 });
    expect(JSON.stringify(root.attachments)).toContain('"/dev/vda"');
    const refused = await openstackCli(env, demo, ["server", "remove", "volume", "bfv-vm", rootId]);
    expect(refused.stderr).toMatch(/Cannot detach a root device volume/);

    await openstackOk(env, demo, ["server", "delete", "--wait", "bfv-vm"]);
    // The CLI asks Nova to keep the volume (delete_on_termination false): it is available again.
    await eventually("root volume available", async () => (await openstackJson<Row>(env, demo, ["volume", "show", rootId])).status === "available", 60_000);
    await openstackOk(env, demo, ["volume", "delete", rootId]);
    await eventually("root volume gone", async () => (await openstackCli(env, demo, ["volume", "show", rootId])).code !== 0, 60_000);
  });

  it("creates, shows, lists and updates a volume", async () => {
    const volume = await openstackJson<Row>(env, demo, ["volume", "create", "--size", "2", "--description", "scratch", "demo-vol"]);
    expect(volume).toMatchObject({ name: "demo-vol", size: 2, status: "creating", type: "__DEFAULT__", description: "scratch" });
    await openstackOk(env, demo, ["volume", "set", "--bootable", "--property", "purpose=test", "demo-vol"]);
    const shown = await openstackJson<Row>(env, demo, ["volume", "show", "demo-vol"]);
    // Cinder sends bootable as the string "true"; the CLI shows it as a boolean.
    expect(shown).toMatchObject({ bootable: true, properties: { purpose: "test" } });
    const types = await openstackJson<Row[]>(env, demo, ["volume", "type", "list"]);
    expect(types.map((t) => t.Name)).toEqual(["__DEFAULT__"]);
  });

  it("lists everything with -f json", async () => {
    const lists: [string[], string[]][] = [
      [["server", "list"], ["demo-vm"]],
      [["network", "list"], ["demo-net"]],
      [["subnet", "list"], ["demo-subnet"]],
      [["security", "group", "list"], ["default", "web"]],
      [["volume", "list"], ["demo-vol"]],
      [["keypair", "list"], ["demo-key"]],
      [["image", "list"], ["cirros", "demo-image"]],
    ];
    // The server's NIC gets a port from the networking reconciler, when it runs: demo-port is ours for sure.
    const ports = await openstackJson<Row[]>(env, demo, ["port", "list"]);
    expect(ports.map((p) => p.Name)).toContain("demo-port");
    for (const port of ports) expect(port).toMatchObject({ ID: expect.any(String) as unknown, "MAC Address": expect.any(String) as unknown });
    for (const [args, expected] of lists) {
      const rows = await openstackJson<Row[]>(env, demo, args);
      expect(rows.map((r) => r.Name).sort(), args.join(" ")).toEqual(expected);
      for (const row of rows) expect(row.ID ?? row.Name, args.join(" ")).toBeTruthy();
    }
    const limits = await openstackJson<Row[]>(env, demo, ["limits", "show", "--absolute"]);
    // The SDK names the absolute limits in snake_case.
    expect(limits).toContainEqual({ Name: "total_instances_used", Value: 1 });
    expect(limits).toContainEqual({ Name: "total_cores_used", Value: 1 });
    expect(limits).toContainEqual({ Name: "total_volumes_used", Value: 1 });
  });

  it("answers a forbidden or unknown thing the way OpenStack does, and the CLI says so", async () => {
    const other = await openstackCli(env, demo, ["server", "show", "no-such-server"]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/No Server found for no-such-server/);
    const admin = await openstackCli(env, demo, ["user", "create", "--password", "x", unique("mallory")]);
    expect(admin.code).not.toBe(0);
    expect(admin.stderr).toMatch(/403/);
  });

  it("cleans up: deletes the server, port, subnet, network, volume, keypair and project", async () => {
    // --wait returns once the server is gone, and with it the port its NIC had: the subnet is free at once.
    await openstackOk(env, demo, ["server", "delete", "--wait", "demo-vm"]);
    await openstackOk(env, demo, ["port", "delete", "demo-port"]);
    await openstackOk(env, demo, ["subnet", "delete", "demo-subnet"]);
    await openstackOk(env, demo, ["network", "delete", "demo-net"]);
    await openstackOk(env, demo, ["security", "group", "delete", "web"]);
    await openstackOk(env, demo, ["volume", "delete", "demo-vol"]);
    await openstackOk(env, demo, ["keypair", "delete", "demo-key"]);
    expect(await openstackJson<Row[]>(env, demo, ["server", "list"])).toEqual([]);
    expect(await openstackJson<Row[]>(env, demo, ["network", "list"])).toEqual([]);
    await testClient().delete(imageKind, "cirros", `project-${names.project}`);
    await openstackOk(env, env.admin, ["project", "delete", names.project]);
    await openstackOk(env, env.admin, ["user", "delete", names.user]);
    const users = await openstackJson<Row[]>(env, env.admin, ["user", "list"]);
    expect(users.map((u) => u.Name)).not.toContain(names.user);
  });
});

describe("openstacksdk", () => {
  it("authenticates, negotiates microversions and reads every service", async () => {
    const result = await openstackSdk<Record<string, unknown>>(
      env,
      env.admin,
      [
        "compute = conn.compute.get_endpoint_data()",
        "flavors = [f.name for f in conn.compute.flavors()]",
        "net = conn.network.create_network(name='sdk-net')",
        "subnet = conn.network.create_subnet(network_id=net.id, cidr='10.77.0.0/24', ip_version=4, name='sdk-sub')",
        "found = conn.network.find_network('sdk-net')",
        "vol = conn.block_storage.create_volume(size=1, name='sdk-vol')",
        "volumes = [v.name for v in conn.block_storage.volumes()]",
        "conn.block_storage.delete_volume(vol)",
        "conn.network.delete_network(net)",
        "print(json.dumps({'compute_max': '%d.%d' % tuple(compute.max_microversion), 'flavors': flavors, 'found': found.id == net.id,",
        "  'subnet_gateway': subnet.gateway_ip, 'volumes': volumes, 'projects': [p.name for p in conn.identity.projects()]}))",
      ].join("\n"),
    );
    expect(result.compute_max).toBe("2.79");
    expect(result.flavors).toContain(names.flavor);
    expect(result.found).toBe(true);
    expect(result.subnet_gateway).toBe("10.77.0.1");
    expect(result.volumes).toContain("sdk-vol");
    expect(result.projects).toContain(env.admin.project);
  });
});
