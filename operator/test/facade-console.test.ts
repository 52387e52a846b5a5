// Remote consoles end to end: Nova's remote-consoles API (and the legacy actions) hand out a websocket URL on the
// facade; connecting to it goes through the console proxy, the apiserver (as the caller: RBAC decides) and its
// aggregation layer to the simulated virt-api, whose VNC sends the RFB banner and whose serial console echoes.
import http from "node:http";
import type { Duplex } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageKind, type Image } from "../src/api/index.js";
import { FrameDecoder, Opcode, encodeFrame, newWebsocketKey, websocketAccept, type Frame } from "../src/kube/index.js";
import { http as facadeHttp, issueToken, openstackJson, projectWithUser, startFacadeEnv, type FacadeEnv } from "./facade-helpers.js";
import { eventually, testClient, unique } from "./helpers.js";

let env: FacadeEnv;
let member: Awaited<ReturnType<typeof projectWithUser>>;
let memberToken: string;
let serverId: string;

const NOVA_2_6 = { "OpenStack-API-Version": "compute 2.6", "X-OpenStack-Nova-API-Version": "2.6" };

type Opened = { kind: "open"; protocol: string | undefined; next(): Promise<Frame>; send(opcode: Opcode, data: Buffer): void; close(): void } | { kind: "refused"; status: number; body: string };

/** A minimal websocket client (masks what it sends, as clients must). */
function connect(url: string, protocols: string[] = ["binary"]): Promise<Opened> {
  const key = newWebsocketKey();
  return new Promise((resolve, reject) => {
    const req = http.request(url.replace(/^ws/, "http"), {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": key,
        ...(protocols.length === 0 ? {} : { "Sec-WebSocket-Protocol": protocols.join(", ") }),
      },
    });
    req.on("upgrade", (response, socket: Duplex, head: Buffer) => {
      if (response.headers["sec-websocket-accept"] !== websocketAccept(key)) {
        reject(new Error("wrong Sec-WebSocket-Accept"));
        return;
      }
      const decoder = new FrameDecoder();
      const frames: Frame[] = [];
      const waiting: ((f: Frame) => void)[] = [];
      const deliver = (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) {
          const waiter = waiting.shift();
          if (waiter !== undefined) waiter(frame);
          else frames.push(frame);
        }
      };
      socket.on("data", deliver);
      if (head.length > 0) deliver(head);
      const protocol = response.headers["sec-websocket-protocol"];
      resolve({
        kind: "open",
        protocol: typeof protocol === "string" ? protocol : undefined,
        next: () => {
          const frame = frames.shift();
          if (frame !== undefined) return Promise.resolve(frame);
          return new Promise<Frame>((r, j) => {
            const timer = setTimeout(() => { j(new Error("no frame within 10 s")); }, 10_000);
            waiting.push((f) => {
              clearTimeout(timer);
              r(f);
            });
          });
        },
        send: (opcode, data) => socket.write(encodeFrame(opcode, data, Buffer.from([9, 8, 7, 6]))),
        close: () => socket.destroy(),
      });
    });
    req.on("response", (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (c: string) => (body += c));
      response.on("end", () => { resolve({ kind: "refused", status: response.statusCode ?? 0, body }); });
    });
    req.on("error", reject);
    req.end();
  });
}

async function consoleUrl(token: string, protocol: string, type: string): Promise<{ status: number; body: unknown; url: string }> {
  const result = await facadeHttp(env, "POST", `/compute/v2.1/servers/${serverId}/remote-consoles`, {
    token,
    headers: NOVA_2_6,
    body: { remote_console: { protocol, type } },
  });
  const url = (result.body as { remote_console?: { url?: string } } | undefined)?.remote_console?.url ?? "";
  return { status: result.status, body: result.body, url };
}

async function serverStatus(): Promise<string> {
  const shown = await facadeHttp(env, "GET", `/compute/v2.1/servers/${serverId}`, { token: memberToken });
  return (shown.body as { server: { status: string } }).server.status;
}

beforeAll(async () => {
  env = await startFacadeEnv({ simulator: true });
  member = await projectWithUser(env, { role: "member" });
  memberToken = await issueToken(env, member);
  const namespace = `project-${member.project}`;
  const adminToken = await issueToken(env, env.admin);
  const flavor = await facadeHttp(env, "POST", "/compute/v2.1/flavors", { token: adminToken, body: { flavor: { name: unique("console"), vcpus: 1, ram: 256, disk: 1 } } });
  const image = await testClient().create<Image>(imageKind, {
    apiVersion: imageKind.apiVersion,
    kind: imageKind.kind,
    metadata: { name: "cirros", namespace },
    spec: { source: { http: { url: "http://images.example/cirros.qcow2" } }, diskFormat: "qcow2" },
  });
  const network = await facadeHttp(env, "POST", "/network/v2.0/networks", { token: memberToken, body: { network: { name: "console-net" } } });
  const networkId = (network.body as { network: { id: string } }).network.id;
  await facadeHttp(env, "POST", "/network/v2.0/subnets", { token: memberToken, body: { subnet: { network_id: networkId, cidr: "10.97.0.0/24", ip_version: 4 } } });
  const created = await facadeHttp(env, "POST", "/compute/v2.1/servers", {
    token: memberToken,
    body: { server: { name: "console-vm", flavorRef: (flavor.body as { flavor: { id: string } }).flavor.id, imageRef: image.metadata.uid, networks: [{ uuid: networkId }] } },
  });
  expect(created.status, created.text).toBe(202);
  serverId = (created.body as { server: { id: string } }).server.id;
  await eventually("console-vm ACTIVE", async () => (await serverStatus()) === "ACTIVE", 120_000);
}, 300_000);

afterAll(async () => {
  await env.stop();
});

describe("remote consoles", () => {
  it("gives a member a noVNC console URL on the facade, which reaches the guest's VNC (RFB banner) through the proxy", async () => {
    const answer = await consoleUrl(memberToken, "vnc", "novnc");
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ remote_console: { protocol: "vnc", type: "novnc", url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/console\/[\w-]+\.[\w-]+$/) as unknown } });
    const ws = await connect(answer.url, ["binary"]);
    if (ws.kind !== "open") throw new Error(`refused: ${ws.status} ${ws.body}`);
    expect(ws.protocol).toBe("binary");
    const banner = await ws.next();
    expect(banner.opcode).toBe(Opcode.binary);
    expect(banner.payload.toString("latin1")).toBe("RFB 003.008\n");
    ws.close();
  });

  it("the openstack CLI shows the URL too (console url show --novnc)", async () => {
    const shown = await openstackJson<{ type: string; url: string }>(env, member, ["console", "url", "show", "--novnc", "console-vm"]);
    expect(shown.type).toBe("novnc");
    expect(shown.url).toMatch(/\/console\//);
  }, 120_000);

  it("the serial console (legacy os-getSerialConsole action) echoes what the client sends", async () => {
    const result = await facadeHttp(env, "POST", `/compute/v2.1/servers/${serverId}/action`, { token: memberToken, body: { "os-getSerialConsole": { type: "serial" } } });
    expect(result.status).toBe(200);
    const url = (result.body as { console: { type: string; url: string } }).console.url;
    expect(result.body).toMatchObject({ console: { type: "serial" } });
    const ws = await connect(url, []);
    if (ws.kind !== "open") throw new Error(`refused: ${ws.status} ${ws.body}`);
    ws.send(Opcode.binary, Buffer.from("hello console\r\n"));
    const echoed = await ws.next();
    expect(echoed.payload.toString()).toBe("hello console\r\n");
    // 4 MiB in 256 frames of 16 KiB, sent at once: the relay keeps order and loses nothing under backpressure.
    const chunks = Array.from({ length: 256 }, (_, i) => Buffer.alloc(16 * 1024, i % 251));
    for (const chunk of chunks) ws.send(Opcode.binary, chunk);
    const received: Buffer[] = [];
    let bytes = 0;
    while (bytes < 4 * 1024 * 1024) {
      const frame = await ws.next();
      received.push(frame.payload);
      bytes += frame.payload.length;
    }
    expect(Buffer.concat(received).equals(Buffer.concat(chunks))).toBe(true);
    ws.close();
  });

  it("a cloud admin (admin of the admin project) may open any project's console, as in Nova", async () => {
    const answer = await consoleUrl(await issueToken(env, env.admin), "vnc", "novnc");
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const ws = await connect(answer.url);
    if (ws.kind !== "open") throw new Error(`refused: ${ws.status} ${ws.body}`);
    expect((await ws.next()).payload.toString("latin1")).toBe("RFB 003.008\n");
    ws.close();
  });

  it("another project's user gets 404 for the console; a reader gets 403; a forged URL gets 401", async () => {
    const outsider = await projectWithUser(env, { role: "member" });
    const outsiderAnswer = await consoleUrl(await issueToken(env, outsider), "vnc", "novnc");
    expect(outsiderAnswer.status).toBe(404);
    expect(outsiderAnswer.body).toEqual({ itemNotFound: { code: 404, message: `Instance ${serverId} could not be found.` } });

    const reader = await projectWithUser(env, { project: member.project, existingProject: true, role: "reader" });
    const readerAnswer = await consoleUrl(await issueToken(env, reader), "vnc", "novnc");
    expect(readerAnswer.status).toBe(403);
    expect(readerAnswer.body).toEqual({ forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-remote-consoles to be performed." } });

    const { url } = await consoleUrl(memberToken, "serial", "serial");
    // The token's MAC with its last characters changed.
    const forged = await connect(`${url.slice(0, -2)}${url.endsWith("AA") ? "BB" : "AA"}`);
    expect(forged).toMatchObject({ kind: "refused", status: 401 });
    // A Keystone token is no console token, though both are signed with the same keys.
    const keystone = await connect(url.replace(/\/console\/.*$/, `/console/${memberToken}`));
    expect(keystone).toMatchObject({ kind: "refused", status: 401 });
  });

  it("refuses unsupported console types and microversions below 2.6 the way Nova does", async () => {
    expect(await consoleUrl(memberToken, "spice", "spice-html5")).toMatchObject({ status: 400, body: { badRequest: { message: "Unavailable console type spice-html5." } } });
    const old = await facadeHttp(env, "POST", `/compute/v2.1/servers/${serverId}/remote-consoles`, { token: memberToken, body: { remote_console: { protocol: "vnc", type: "novnc" } } });
    expect(old.status).toBe(404);
    // …and the legacy actions are Nova's up to 2.5 only.
    const legacy = await facadeHttp(env, "POST", `/compute/v2.1/servers/${serverId}/action`, { token: memberToken, headers: NOVA_2_6, body: { "os-getVNCConsole": { type: "novnc" } } });
    expect(legacy.status).toBe(404);
  });

  it("still serves the API to a request that offers another upgrade (curl's h2c)", async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${env.facade.url}/compute/`, { headers: { Connection: "Upgrade, HTTP2-Settings", Upgrade: "h2c", "HTTP2-Settings": "AAMAAABkAAQCAAAAAAIAAAAA" } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on("error", reject);
      req.end();
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ versions: expect.arrayContaining([expect.objectContaining({ id: "v2.1" })]) as unknown });
  });

  it("a stopped server has no console (Nova's 409); a console token expires after ten minutes (401)", async () => {
    const { url } = await consoleUrl(memberToken, "vnc", "novnc");
    const stop = await facadeHttp(env, "POST", `/compute/v2.1/servers/${serverId}/action`, { token: memberToken, body: { "os-stop": null } });
    expect(stop.status).toBe(202);
    await eventually("console-vm SHUTOFF", async () => (await serverStatus()) === "SHUTOFF", 60_000);
    const stopped = await consoleUrl(memberToken, "vnc", "novnc");
    expect(stopped).toMatchObject({ status: 409, body: { conflictingRequest: { code: 409, message: `Instance ${serverId} is not ready` } } });
    // The URL handed out while it ran leads nowhere now.
    expect(await connect(url)).toMatchObject({ kind: "refused", status: 409 });

    const start = await facadeHttp(env, "POST", `/compute/v2.1/servers/${serverId}/action`, { token: memberToken, body: { "os-start": null } });
    expect(start.status).toBe(202);
    await eventually("console-vm ACTIVE again", async () => (await serverStatus()) === "ACTIVE", 60_000);
    const fresh = await consoleUrl(memberToken, "vnc", "novnc");
    expect(fresh.status).toBe(200);
    env.advanceClock(601_000);
    expect(await connect(fresh.url)).toMatchObject({ kind: "refused", status: 401 });
  }, 180_000);
});
