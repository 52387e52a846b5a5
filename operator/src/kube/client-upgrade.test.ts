import http from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeApiError } from "./errors.js";
import { testClient } from "./testing.js";
import { FrameDecoder, Opcode, encodeFrame, websocketAccept } from "./websocket.js";

/** A stand-in apiserver: `/ok` upgrades (and says hello), `/liar` answers a wrong accept, anything else is a 409 Status. */
let server: http.Server;
let base = "";
const seen: Record<string, string | string[] | undefined>[] = [];

beforeAll(async () => {
  nock.enableNetConnect("127.0.0.1");
  server = http.createServer((_req, res) => {
    res.writeHead(404).end();
  });
  server.on("upgrade", (req, socket, _head) => {
    seen.push(req.headers);
    if (req.url !== "/ok" && req.url !== "/liar") {
      const body = JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "Conflict", code: 409, message: "VMI is not running" });
      socket.end(`HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    const key = String(req.headers["sec-websocket-key"]);
    const accept = req.url === "/ok" ? websocketAccept(key) : websocketAccept("x");
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: plain.kubevirt.io\r\n\r\n`);
    socket.write(encodeFrame(Opcode.binary, Buffer.from("hello")));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
  nock.disableNetConnect();
});

describe("KubeClient.upgrade", () => {
  it("completes the handshake as the impersonated user, with the subprotocol, and hands over the connection", async () => {
    const client = testClient(base).impersonate({ user: "alice", groups: ["g1"] });
    const upgraded = await client.upgrade({ path: "/ok", protocols: ["plain.kubevirt.io"] });
    expect(upgraded.protocol).toBe("plain.kubevirt.io");
    const frame = await new Promise<Buffer>((resolve) => {
      const decoder = new FrameDecoder();
      const take = (chunk: Buffer) => {
        const [first] = decoder.push(chunk);
        if (first !== undefined) resolve(first.payload);
      };
      if (upgraded.head.length > 0) take(upgraded.head);
      upgraded.socket.on("data", take);
    });
    expect(frame.toString()).toBe("hello");
    upgraded.socket.destroy();
    expect(seen.at(-1)).toMatchObject({ "impersonate-user": "alice", "impersonate-group": "g1", upgrade: "websocket", "sec-websocket-protocol": "plain.kubevirt.io" });
  });

  it("refuses a server whose accept proof does not match our key", async () => {
    await expect(testClient(base).upgrade({ path: "/liar", protocols: [] })).rejects.toThrow(/Sec-WebSocket-Accept/);
  });

  it("turns any other answer into a KubeApiError with its status", async () => {
    const error: unknown = await testClient(base).upgrade({ path: "/stopped", protocols: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ statusCode: 409, reason: "Conflict", message: "VMI is not running" });
  });
});
