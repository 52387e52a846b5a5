// virt-api's aggregated API (subresources.kubevirt.io/v1), served the way virt-api serves it: an HTTPS
// server behind the kube-apiserver's aggregation layer, registered with an APIService. Clients (the
// operator, kubectl, virtctl) call the kube-apiserver, which authenticates and authorises them and proxies
// to us with the front proxy's client certificate and the caller in X-Remote-User/X-Remote-Group; we only
// accept requests carrying that certificate, verified against the requestheader CA the apiserver publishes.
//
// Routing: the APIService names a Service of type ExternalName → localhost, and the apiserver resolves
// it to https://localhost:<port> (kube-apiserver's default service resolver). An EndpointSlice pointing
// at 127.0.0.1 with --enable-aggregator-routing would be the other way, but EndpointSlice validation
// refuses loopback addresses ("may not be in the loopback range"), and a bare control plane has no
// routable address to offer.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import os from "node:os";
import path from "node:path";
import { TLSSocket } from "node:tls";
import { z } from "zod";
import {
  Builtin,
  FrameDecoder,
  KUBEVIRT_PLAIN_SUBPROTOCOL,
  Opcode,
  Upstream,
  encodeFrame,
  isNotFound,
  isWebsocketKey,
  offeredSubprotocols,
  websocketAccept,
  type KubeClient,
  type KubeObject,
  type Logger,
  type ResourceType,
} from "../kube/index.js";
import { createIfAbsent, type SimContext } from "./runtime.js";
import {
  SUBRESOURCE_GROUP,
  SUBRESOURCE_VERSION,
  RFB_BANNER,
  apiGroup,
  consoleRefusal,
  parseConsolePath,
  apiResourceList,
  parseSubresourcePath,
  statusBody,
  vmOperationEffect,
  vmiOperationEffect,
  type SubresourceRequest,
} from "./subresources-state.js";
import { Manager } from "./types.js";
import { answerUploadApi, startUploadProxy, type UploadProxy } from "./upload-proxy.js";
import { UPLOAD_GROUP, UPLOAD_VERSION, parseUploadApiPath } from "./upload-state.js";

const APIService: ResourceType = {
  group: "apiregistration.k8s.io",
  version: "v1",
  kind: "APIService",
  plural: "apiservices",
  namespaced: false,
};
const Service: ResourceType = { group: "", version: "v1", kind: "Service", plural: "services", namespaced: true };

export const VIRT_API = { namespace: "kubevirt", service: "virt-api" } as const;
const APISERVICE_NAME = `${SUBRESOURCE_VERSION}.${SUBRESOURCE_GROUP}`;
/** cdi-apiserver's aggregated API (UploadTokenRequest), served by the same server behind its own Service. */
export const CDI_API = { namespace: "cdi", service: "cdi-api" } as const;
const UPLOAD_APISERVICE_NAME = `${UPLOAD_VERSION}.${UPLOAD_GROUP}`;

/** What the kube-apiserver publishes for aggregated APIs (kube-system/extension-apiserver-authentication). */
const authConfigSchema = z.object({
  data: z.object({
    "requestheader-client-ca-file": z.string().min(1),
    "requestheader-allowed-names": z.string().default("[]"),
  }),
});

export interface SubresourcesApi {
  port: number;
  /** cdi-uploadproxy: where upload.cdi.kubevirt.io tokens are good for streaming a PVC's data. */
  uploadProxy: UploadProxy;
  stop(): Promise<void>;
}

interface ApiServiceObject extends KubeObject {
  spec?: { service?: { port?: number } };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

/**
 * Starts the server and registers the APIService. Undefined when the control plane has no aggregation
 * layer configured (no requestheader CA published): the operator then gets 404s for these calls.
 */
export async function startSubresourcesApi(ctx: SimContext, opts: { readyTimeoutMs?: number } = {}): Promise<SubresourcesApi | undefined> {
  const log = ctx.log.child({ component: "virt-api" });
  const auth = await readAuthConfig(ctx.client);
  if (auth === undefined) {
    log.warn("the apiserver has no requestheader (front proxy) configuration: subresources.kubevirt.io is not served");
    return undefined;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "altostack-virt-api-"));
  try {
    const tls = await servingCertificate(dir, [`${VIRT_API.service}.${VIRT_API.namespace}.svc`, `${CDI_API.service}.${CDI_API.namespace}.svc`]);
    const uploadSecret = randomBytes(32);
    const server = https.createServer(
      { cert: tls.cert, key: tls.key, ca: auth.caPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        handle(ctx, log, auth.allowedNames, uploadSecret, req, res).catch((e: unknown) => {
          log.error({ err: e }, "subresource request failed");
          if (!res.headersSent) send(res, 500, statusBody(500, "InternalError", e instanceof Error ? e.message : String(e)));
        });
      },
    );
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on("error", () => undefined); // a client gone mid-stream is no failure of ours
      openConsole(ctx, log, auth.allowedNames, req, socket, head).catch((e: unknown) => {
        log.error({ err: e }, "console request failed");
        refuseUpgrade(socket, 500, statusBody(500, "InternalError", e instanceof Error ? e.message : String(e)));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    await register(ctx.client, port, tls.caPem);
    await waitAvailable(ctx.client, APISERVICE_NAME, port, opts.readyTimeoutMs ?? 30_000);
    await waitAvailable(ctx.client, UPLOAD_APISERVICE_NAME, port, opts.readyTimeoutMs ?? 30_000);
    const uploadProxy = await startUploadProxy(ctx, { cert: tls.cert, key: tls.key, caFile: path.join(dir, "ca.crt"), dataDir: path.join(dir, "uploads"), secret: uploadSecret });
    log.info({ port, apiServices: [APISERVICE_NAME, UPLOAD_APISERVICE_NAME] }, "serving subresources.kubevirt.io and upload.cdi.kubevirt.io");
    return {
      port,
      uploadProxy,
      stop: async () => {
        await uploadProxy.stop();
        for (const name of [APISERVICE_NAME, UPLOAD_APISERVICE_NAME]) {
          await unregister(ctx.client, name, port).catch((e: unknown) => {
            log.warn({ err: e, apiService: name }, "could not remove the APIService");
          });
        }
        server.closeAllConnections();
        await new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
        });
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

async function readAuthConfig(client: KubeClient): Promise<{ caPem: string; allowedNames: string[] } | undefined> {
  const configMap = await client.get(Builtin.ConfigMap, "extension-apiserver-authentication", "kube-system");
  const parsed = authConfigSchema.safeParse(configMap);
  if (!parsed.success) return undefined;
  const names = z.array(z.string()).safeParse(JSON.parse(parsed.data.data["requestheader-allowed-names"]) as unknown);
  return { caPem: parsed.data.data["requestheader-client-ca-file"], allowedNames: names.success ? names.data : [] };
}

/** The apiserver's front proxy, and nobody else, may call us. */
function frontProxyCaller(req: IncomingMessage, allowedNames: readonly string[]): { ok: true; user: string } | { ok: false; why: string } {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return { ok: false, why: "not a TLS connection" };
  if (!socket.authorized) return { ok: false, why: `client certificate not accepted: ${String(socket.authorizationError ?? "none presented")}` };
  const cn = socket.getPeerCertificate().subject?.CN;
  const commonName = Array.isArray(cn) ? cn[0] : cn;
  if (allowedNames.length > 0 && (commonName === undefined || !allowedNames.includes(commonName))) {
    return { ok: false, why: `client certificate ${commonName ?? "(no CN)"} is not an allowed front proxy name` };
  }
  const user = req.headers["x-remote-user"];
  return { ok: true, user: typeof user === "string" ? user : "" };
}

async function handle(
  ctx: SimContext,
  log: Logger,
  allowedNames: readonly string[],
  uploadSecret: Buffer,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const caller = frontProxyCaller(req, allowedNames);
  if (!caller.ok) {
    send(res, 401, statusBody(401, "Unauthorized", caller.why));
    return;
  }
  const url = req.url ?? "/";
  const method = req.method ?? "GET";
  if (method === "GET" && (url === "/healthz" || url === "/readyz" || url === "/livez")) {
    res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    return;
  }
  if (method === "GET" && url.startsWith("/openapi/")) {
    send(res, 200, url.startsWith("/openapi/v2") ? { swagger: "2.0", info: { title: "KubeVirt API", version: "v1" }, paths: {} } : { paths: {} });
    return;
  }
  const uploadRequest = parseUploadApiPath(method, url);
  if (uploadRequest !== undefined) {
    const outcome = answerUploadApi(ctx, uploadRequest, await readRequestBody(req), uploadSecret);
    if (uploadRequest.kind === "tokenRequest") log.info({ user: caller.user, namespace: uploadRequest.namespace, code: outcome.code }, "upload token request");
    send(res, outcome.code, outcome.body);
    return;
  }
  const request = parseSubresourcePath(method, url);
  if (request === undefined) {
    send(res, 404, statusBody(404, "NotFound", `the server could not find the requested resource (${method} ${url})`));
    return;
  }
  await readRequestBody(req); // bodies (PauseOptions, RestartOptions, …) carry only dry-run/grace options we do not simulate
  const outcome = await perform(ctx, request);
  if (request.kind === "vm" || request.kind === "vmi") {
    log.info({ user: caller.user, ...request, code: outcome.code }, "subresource request");
  }
  send(res, outcome.code, outcome.body);
}

/**
 * virt-api's console and VNC subresources: a websocket (subprotocol plain.kubevirt.io) to the guest. There is no
 * guest here, so VNC sends the RFB banner a VNC server opens with, and the serial console echoes what it gets.
 */
async function openConsole(ctx: SimContext, log: Logger, allowedNames: readonly string[], req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const caller = frontProxyCaller(req, allowedNames);
  if (!caller.ok) {
    refuseUpgrade(socket, 401, statusBody(401, "Unauthorized", caller.why));
    return;
  }
  const request = parseConsolePath(req.method ?? "GET", req.url ?? "/");
  const key = req.headers["sec-websocket-key"];
  if (request === undefined || !isWebsocketKey(key)) {
    refuseUpgrade(socket, 404, statusBody(404, "NotFound", `the server could not find the requested resource (${req.method ?? ""} ${req.url ?? ""})`));
    return;
  }
  const vmi = await ctx.client.get(Upstream.VirtualMachineInstance, request.name, request.namespace);
  const refusal = consoleRefusal(vmi as Parameters<typeof consoleRefusal>[0], request.name);
  if (refusal !== undefined) {
    refuseUpgrade(socket, refusal.code, statusBody(refusal.code, refusal.reason, refusal.message));
    return;
  }
  const protocol = offeredSubprotocols(req.headers["sec-websocket-protocol"]).includes(KUBEVIRT_PLAIN_SUBPROTOCOL) ? KUBEVIRT_PLAIN_SUBPROTOCOL : undefined;
  socket.write(
    [
      "HTTP/1.1 101 Switching Protocols",
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Accept: ${websocketAccept(key)}`,
      ...(protocol === undefined ? [] : [`Sec-WebSocket-Protocol: ${protocol}`]),
      "",
      "",
    ].join("\r\n"),
  );
  log.info({ user: caller.user, ...request }, "console opened");
  if (request.console === "vnc") socket.write(encodeFrame(Opcode.binary, Buffer.from(RFB_BANNER, "latin1")));
  const decoder = new FrameDecoder(1024 * 1024);
  const onData = (chunk: Buffer): void => {
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (frame.opcode === Opcode.close) {
        socket.end(encodeFrame(Opcode.close, frame.payload.subarray(0, 2)));
        return;
      }
      if (frame.opcode === Opcode.ping) socket.write(encodeFrame(Opcode.pong, frame.payload));
      else if (request.console === "console" && (frame.opcode === Opcode.binary || frame.opcode === Opcode.text || frame.opcode === Opcode.continuation)) {
        socket.write(encodeFrame(Opcode.binary, frame.payload));
      }
    }
  };
  socket.on("data", onData);
  if (head.length > 0) onData(head);
}

/** An HTTP error answer on a socket that asked for an upgrade. */
function refuseUpgrade(socket: Duplex, code: number, body: unknown): void {
  if (socket.destroyed) return;
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

async function perform(ctx: SimContext, request: SubresourceRequest): Promise<{ code: number; body: unknown }> {
  switch (request.kind) {
    case "group":
      return { code: 200, body: apiGroup() };
    case "discovery":
      return { code: 200, body: apiResourceList() };
    case "vmi": {
      // Read from the apiserver, not the cache: a client that just saw the VMI must not get a stale 409.
      const vmi = await ctx.client.get(Upstream.VirtualMachineInstance, request.name, request.namespace);
      const effect = vmiOperationEffect(request.operation, vmi as Parameters<typeof vmiOperationEffect>[1], request.name);
      if ("code" in effect) return { code: effect.code, body: statusBody(effect.code, effect.reason, effect.message) };
      await ctx.client.patch(
        Upstream.VirtualMachineInstance,
        request.name,
        request.namespace,
        { metadata: { annotations: effect.annotations, resourceVersion: vmi?.metadata.resourceVersion } },
        "merge",
        { fieldManager: Manager.virtHandler },
      );
      return { code: 200, body: {} };
    }
    case "vm": {
      const vm = await ctx.client.get(Upstream.VirtualMachine, request.name, request.namespace);
      const vmi = await ctx.client.get(Upstream.VirtualMachineInstance, request.name, request.namespace);
      const effect = vmOperationEffect(
        request.operation,
        vm as Parameters<typeof vmOperationEffect>[1],
        vmi as Parameters<typeof vmOperationEffect>[2],
        request.name,
      );
      if ("code" in effect) return { code: effect.code, body: statusBody(effect.code, effect.reason, effect.message) };
      switch (effect.kind) {
        case "runStrategy":
          await ctx.client.patch(Upstream.VirtualMachine, request.name, request.namespace, { spec: { runStrategy: effect.runStrategy } }, "merge", {
            fieldManager: "virt-api",
          });
          break;
        case "stateChange":
          await ctx.client.patch(
            Upstream.VirtualMachine,
            request.name,
            request.namespace,
            { metadata: { resourceVersion: vm?.metadata.resourceVersion }, status: { stateChangeRequests: effect.requests } },
            "merge",
            { subresource: "status", fieldManager: "virt-api" },
          );
          break;
        case "migrate":
          await ctx.client.create(Upstream.VirtualMachineInstanceMigration, {
            apiVersion: "kubevirt.io/v1",
            kind: "VirtualMachineInstanceMigration",
            metadata: { generateName: `kubevirt-migrate-vm-`, namespace: request.namespace },
            spec: { vmiName: effect.vmiName },
          } as KubeObject);
          break;
      }
      return { code: 200, body: {} };
    }
  }
}

interface AggregatedApi {
  namespace: string;
  service: string;
  apiService: string;
  labels: Record<string, string>;
  group: string;
  version: string;
  manager: string;
}

/** Registers one aggregated API: an ExternalName Service to loopback and the APIService pointing at it. */
async function registerApi(client: KubeClient, port: number, caPem: string, api: AggregatedApi): Promise<void> {
  await createIfAbsent(client, Builtin.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: api.namespace } }, api.manager);
  await client.apply(
    Service,
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: api.service, namespace: api.namespace },
      spec: { type: "ExternalName", externalName: "localhost", ports: [{ name: "https", port, protocol: "TCP" }] },
    } as KubeObject,
    { fieldManager: api.manager },
  );
  await client.apply(
    APIService,
    {
      apiVersion: "apiregistration.k8s.io/v1",
      kind: "APIService",
      metadata: { name: api.apiService, labels: api.labels },
      spec: {
        group: api.group,
        version: api.version,
        groupPriorityMinimum: 1000,
        versionPriority: 15,
        service: { namespace: api.namespace, name: api.service, port },
        caBundle: Buffer.from(caPem).toString("base64"),
      },
    } as KubeObject,
    { fieldManager: api.manager },
  );
}

async function register(client: KubeClient, port: number, caPem: string): Promise<void> {
  await registerApi(client, port, caPem, {
    ...VIRT_API,
    apiService: APISERVICE_NAME,
    labels: { "kubevirt.io": "virt-api" },
    group: SUBRESOURCE_GROUP,
    version: SUBRESOURCE_VERSION,
    manager: "virt-operator",
  });
  await registerApi(client, port, caPem, {
    ...CDI_API,
    apiService: UPLOAD_APISERVICE_NAME,
    labels: { "cdi.kubevirt.io": "cdi-apiserver" },
    group: UPLOAD_GROUP,
    version: UPLOAD_VERSION,
    manager: "cdi-operator",
  });
}

/** Removes the APIService if it is still ours (another simulator may have taken over since). */
async function unregister(client: KubeClient, name: string, port: number): Promise<void> {
  const current = await client.get<ApiServiceObject>(APIService, name);
  if (current?.spec?.service?.port !== port) return;
  await client.delete(APIService, name, undefined, { preconditions: { resourceVersion: current.metadata.resourceVersion ?? "" } }).catch((e: unknown) => {
    if (!isNotFound(e)) throw e;
  });
}

/** The aggregator proxies only to an APIService it found Available; that takes one discovery round trip. */
async function waitAvailable(client: KubeClient, name: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const current = await client.get<ApiServiceObject>(APIService, name);
    const available = current?.status?.conditions?.find((c) => c.type === "Available");
    if (current?.spec?.service?.port === port && available?.status === "True") return;
    last = available?.message ?? "no Available condition yet";
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`APIService ${name} did not become Available within ${timeoutMs} ms: ${last}`);
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) }).end(text);
}

async function readRequestBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** A throwaway CA and a serving certificate for the Service's DNS name (what the aggregator verifies). */
async function servingCertificate(dir: string, dnsNames: readonly string[]): Promise<{ cert: string; key: string; caPem: string }> {
  const [dnsName = "localhost"] = dnsNames;
  const config = path.join(dir, "openssl.cnf");
  await writeFile(
    config,
    [
      "[req]",
      "distinguished_name = dn",
      "prompt = no",
      "[dn]",
      "CN = unused",
      "[ca]",
      "basicConstraints = critical, CA:TRUE",
      "keyUsage = critical, keyCertSign, cRLSign, digitalSignature",
      "[server]",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature, keyEncipherment",
      "extendedKeyUsage = serverAuth",
      `subjectAltName = ${dnsNames.map((n) => `DNS:${n}`).join(", ")}, DNS:localhost, IP:127.0.0.1`,
      "",
    ].join("\n"),
  );
  const file = (name: string) => path.join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(["req", "-x509", ...ec, "-config", config, "-extensions", "ca", "-subj", "/CN=virt-api-ca", "-days", "30", "-keyout", file("ca.key"), "-out", file("ca.crt")]);
  await openssl(["req", "-new", ...ec, "-config", config, "-subj", `/CN=${dnsName}`, "-keyout", file("tls.key"), "-out", file("tls.csr")]);
  await openssl([
    "x509", "-req", "-in", file("tls.csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-set_serial", String(Date.now()),
    "-days", "30", "-extfile", config, "-extensions", "server", "-out", file("tls.crt"),
  ]);
  return { cert: await readFile(file("tls.crt"), "utf8"), key: await readFile(file("tls.key"), "utf8"), caPem: await readFile(file("ca.crt"), "utf8") };
}

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", args, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`openssl ${args.slice(0, 2).join(" ")} failed: ${stderr.trim() || error.message}`));
    });
  });
}
