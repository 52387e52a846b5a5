// Unsharing a network other projects use. Neutron refuses it (409 InvalidSharedSetting), and so does the
// facade, with nothing written. Declared anyway (kubectl, GitOps: no webhook refuses it), the other projects'
// existing ports keep working and keep their attachment, new ones are refused, and the network says so with
// SharingInUse until the last of those ports goes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_VERSION,
  networkKind,
  portKind,
  projectNamespace,
  subnetKind,
  type Network,
  type Port,
} from "../src/api/index.js";
import { Upstream, type KubeObject, type ResourceType } from "../src/kube/index.js";
import { http, issueToken, projectWithUser, startFacadeEnv, waitForProjectReady, type FacadeEnv, type HttpResult } from "./facade-helpers.js";
import { conditionOf, eventually, testClient } from "./helpers.js";

const client = testClient();
let env: FacadeEnv;
let owner: Awaited<ReturnType<typeof projectWithUser>>;
let guest: Awaited<ReturnType<typeof projectWithUser>>;
/** Project object names (networkRef's `project/` part) and namespaces of the owner and the guest. */
let ownerProject: string;
let guestProject: string;
let ownerNs: string;
let guestNs: string;

const obj = (kind: string, namespace: string, name: string, spec: Record<string, unknown>): KubeObject & { spec: Record<string, unknown> } => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name, namespace },
  spec,
});

/** The object once its Ready condition has `reason` (or status True when none is given), for its generation. */
async function waitReady<T extends KubeObject>(rt: ResourceType, namespace: string, name: string, reason?: string): Promise<T> {
  return eventually(`${rt.kind} ${name} ${reason ?? "Ready"}`, async () => {
    const o = await client.get<T>(rt, name, namespace);
    const c = conditionOf(o) as { status: string; reason: string; observedGeneration?: number } | undefined;
    if (o === undefined || c === undefined || c.observedGeneration !== o.metadata.generation) return undefined;
    return (reason === undefined ? c.status === "True" : c.reason === reason) ? o : undefined;
  });
}

/** A network with one subnet in the owner's project, declared as kubectl/GitOps would. */
async function sharedNetwork(name: string, cidr: string): Promise<Network> {
  await client.create(networkKind, obj("Network", ownerNs, name, { shared: true }));
  await client.create(subnetKind, obj("Subnet", ownerNs, `${name}-v4`, { networkRef: name, cidr, ipVersion: 4 }));
  await waitReady(subnetKind, ownerNs, `${name}-v4`);
  return waitReady<Network>(networkKind, ownerNs, name);
}

beforeAll(async () => {
  env = await startFacadeEnv();
  owner = await projectWithUser(env, { role: "member" });
  guest = await projectWithUser(env, { role: "member" });
  ownerProject = (await waitForProjectReady(owner.project)).metadata.name ?? "";
  guestProject = (await waitForProjectReady(guest.project)).metadata.name ?? "";
  ownerNs = projectNamespace(ownerProject);
  guestNs = projectNamespace(guestProject);
});
afterAll(async () => {
  await env.stop();
});

describe("a network unshared declaratively while another project uses it", () => {
  it("keeps the other project's port and attachment, refuses new ports there, and says so until the last port goes", async () => {
    const network = await sharedNetwork("public", "10.60.0.0/24");
    const foreignNad = `net-${network.metadata.uid ?? ""}`;
    await client.create(portKind, obj("Port", guestNs, "guest", { networkRef: `${ownerProject}/public` }));
    const joined = await waitReady<Port>(portKind, guestNs, "guest");
    const address = joined.status?.fixedIPs?.[0]?.ipAddress;
    expect(address).toMatch(/^10\.60\.0\./);
    await eventually("the guest's namespace attached", async () =>
      (await client.get(Upstream.NetworkAttachmentDefinition, foreignNad, guestNs)) !== undefined ? true : undefined,
    );

    // kubectl patch network public --type merge -p '{"spec":{"shared":false}}'
    await client.patch(networkKind, "public", ownerNs, { spec: { shared: false } }, "merge");
    const unshared = await waitReady<Network>(networkKind, ownerNs, "public", "SharingInUse");
    const condition = conditionOf(unshared);
    expect(condition?.status).toBe("False");
    expect(condition?.message).toContain(`${guestProject} (namespace ${guestNs})`);
    expect(condition?.message).toMatch(/Delete their ports .*, or set shared: true again/);
    // The data plane is untouched: still ACTIVE, still attached in the guest's namespace.
    expect(unshared.status?.status).toBe("ACTIVE");
    expect(unshared.status?.attachments).toContain(`${guestNs}/${foreignNad}`);

    // A new port of the other project is refused as for any network it cannot see...
    await client.create(portKind, obj("Port", guestNs, "late", { networkRef: `${ownerProject}/public` }));
    const late = await waitReady<Port>(portKind, guestNs, "late", "DependencyNotFound");
    expect(conditionOf(late)?.message).toContain(`network ${ownerProject}/public not found`);
    expect(late.status?.fixedIPs ?? []).toEqual([]);
    // ...while the port that joined while it was shared keeps its address and stays Ready (it was reconciled
    // for the network's change: the refusal of `late` came after it), and its NAD stays.
    const kept = await client.get<Port>(portKind, "guest", guestNs);
    expect(conditionOf(kept)?.status).toBe("True");
    expect(kept?.status?.fixedIPs?.[0]?.ipAddress).toBe(address);
    expect(await client.get(Upstream.NetworkAttachmentDefinition, foreignNad, guestNs)).toBeDefined();
    // The owner's own ports are not affected at all.
    await client.create(portKind, obj("Port", ownerNs, "own", { networkRef: "public" }));
    await waitReady<Port>(portKind, ownerNs, "own");

    // The last port that joined goes: the condition clears and the attachment there goes (the refused port
    // `late` holds nothing and keeps nothing).
    await client.delete(portKind, "guest", guestNs);
    const ready = await waitReady<Network>(networkKind, ownerNs, "public");
    expect(conditionOf(ready)?.reason).toBe("Reconciled");
    expect(ready.status?.attachments).toEqual([`${ownerNs}/public`]);
    await eventually("the guest's NAD removed", async () =>
      (await client.get(Upstream.NetworkAttachmentDefinition, foreignNad, guestNs)) === undefined ? true : undefined,
    );
    expect(conditionOf(await client.get<Port>(portKind, "late", guestNs))?.reason).toBe("DependencyNotFound");
  });
});

describe("PUT /v2.0/networks/{id} shared=false through the facade", () => {
  const expectInvalidSharedSetting = (result: HttpResult, id: string) => {
    expect(result.status, result.text).toBe(409);
    expect(result.body).toEqual({
      NeutronError: {
        type: "InvalidSharedSetting",
        message: `Unable to reconfigure sharing settings for network ${id}. Multiple tenants are using it.`,
        detail: "",
      },
    });
  };

  it("is refused (409 InvalidSharedSetting), for admins too, with nothing written, while another project has ports on it", async () => {
    const network = await sharedNetwork("busy", "10.61.0.0/24");
    const id = network.metadata.uid ?? "";
    const ownerToken = await issueToken(env, owner);
    const guestToken = await issueToken(env, guest);
    const adminToken = await issueToken(env, env.admin);
    const port = await http(env, "POST", "/network/v2.0/ports", { token: guestToken, body: { port: { network_id: id, name: "visitor" } } });
    expect(port.status, port.text).toBe(201);
    const portId = (port.body as { port: { id: string } }).port.id;
    await eventually("the guest's port in the facade's view", async () =>
      (await http(env, "GET", `/network/v2.0/ports/${portId}`, { token: guestToken })).status === 200 ? true : undefined,
    );
    const before = await client.get<Network>(networkKind, "busy", ownerNs);

    expectInvalidSharedSetting(await http(env, "PUT", `/network/v2.0/networks/${id}`, { token: ownerToken, body: { network: { shared: false } } }), id);
    expectInvalidSharedSetting(
      await http(env, "PUT", `/network/v2.0/networks/${id}`, { token: ownerToken, body: { network: { shared: false, name: "renamed" } } }),
      id,
    );
    expectInvalidSharedSetting(await http(env, "PUT", `/network/v2.0/networks/${id}`, { token: adminToken, body: { network: { shared: false } } }), id);

    const after = await client.get<Network>(networkKind, "busy", ownerNs);
    // Status moves on (the guest's attachment); the spec was not written.
    expect(after?.metadata.generation).toBe(before?.metadata.generation);
    expect(after?.spec).toEqual({ shared: true });
    const shown = await http(env, "GET", `/network/v2.0/networks/${id}`, { token: ownerToken });
    expect(shown.body).toMatchObject({ network: { shared: true, name: "busy" } });
    // Changing anything else is still fine.
    const described = await http(env, "PUT", `/network/v2.0/networks/${id}`, { token: ownerToken, body: { network: { description: "still shared" } } });
    expect(described.status, described.text).toBe(200);

    // A shared network shows in every project's list: gone before other files list networks.
    expect((await http(env, "DELETE", `/network/v2.0/ports/${portId}`, { token: guestToken })).status).toBe(204);
    // Neutron answers 409 NetworkInUse until the port has really gone.
    await eventually("the shared network deleted", async () =>
      (await http(env, "DELETE", `/network/v2.0/networks/${id}`, { token: ownerToken })).status === 204 ? true : undefined,
    );
    await eventually("the shared network gone", async () => ((await client.get(networkKind, "busy", ownerNs)) === undefined ? true : undefined));
  });

  it("succeeds when only the owner's own project has ports on it", async () => {
    const network = await sharedNetwork("quiet", "10.62.0.0/24");
    const id = network.metadata.uid ?? "";
    const ownerToken = await issueToken(env, owner);
    const port = await http(env, "POST", "/network/v2.0/ports", { token: ownerToken, body: { port: { network_id: id, name: "mine" } } });
    expect(port.status, port.text).toBe(201);
    const portId = (port.body as { port: { id: string } }).port.id;
    await eventually("the owner's port in the facade's view", async () =>
      (await http(env, "GET", `/network/v2.0/ports/${portId}`, { token: ownerToken })).status === 200 ? true : undefined,
    );

    const result = await http(env, "PUT", `/network/v2.0/networks/${id}`, { token: ownerToken, body: { network: { shared: false } } });
    expect(result.status, result.text).toBe(200);
    expect(result.body).toMatchObject({ network: { id, shared: false } });
    expect((await client.get<Network>(networkKind, "quiet", ownerNs))?.spec.shared).toBe(false);
    // Nothing of another project to keep: Ready as usual.
    const ready = await waitReady<Network>(networkKind, ownerNs, "quiet");
    expect(ready.status?.attachments).toEqual([`${ownerNs}/quiet`]);
  });
});
