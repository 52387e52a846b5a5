// The remote-console websocket proxy (Nova's novncproxy/serialproxy): a client opens `<public-url>/console/<token>`;
// the token says who asked for which server's console. The proxy opens KubeVirt's console or VNC subresource
// through the apiserver *as that caller* (impersonation: RBAC decides, as for every facade request), completes
// both handshakes — each side gets its own Sec-WebSocket-Accept and subprotocol (the client may speak `binary`,
// KubeVirt wants `plain.kubevirt.io`) — and then relays the frames untouched both ways. Untouched works because
// the two legs line up: the client masks what it sends, as the proxy must when it is the client upstream; the
// apiserver sends unmasked frames, as the proxy must when it is the server. Neither side negotiates extensions.
import http, { ServerResponse, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { serverKind, type Server } from "../../api/index.js";
import {
  KUBEVIRT_PLAIN_SUBPROTOCOL,
  KubeApiError,
  chooseSubprotocol,
  isWebsocketKey,
  offeredSubprotocols,
  websocketAccept,
  type Logger,
} from "../../kube/index.js";
import { faultBody } from "../common/errors.js";
import type { FacadeStore } from "../common/store.js";
import type { IdentityService } from "../keystone/identity.js";
import type { ConsoleProtocol, ConsoleTokens } from "./tokens.js";

export const CONSOLE_PATH_PREFIX = "/console/";

/** KubeVirt's aggregated API, for access reviews of the console subresources (`virtualmachineinstances/vnc`, `/console`). */
export const KUBEVIRT_SUBRESOURCE_VMI = {
  group: "subresources.kubevirt.io",
  version: "v1",
  kind: "VirtualMachineInstance",
  plural: "virtualmachineinstances",
  namespaced: true,
} as const;

/** The VMI subresource behind each console protocol. */
export const CONSOLE_SUBRESOURCE: Readonly<Record<ConsoleProtocol, string>> = { vnc: "vnc", serial: "console" };
/** What we answer a client that offers subprotocols: noVNC asks for `binary`; KubeVirt's own name works too. */
const CLIENT_SUBPROTOCOLS = ["binary", KUBEVIRT_PLAIN_SUBPROTOCOL] as const;

/** The URL a client connects its websocket to: the facade's own public URL, ws(s) scheme. */
export function consoleUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/^http/, "ws")}${CONSOLE_PATH_PREFIX}${token}`;
}

export type ClientHandshake = { ok: true; accept: string; protocol: string | undefined } | { ok: false; status: number; message: string };

/** Checks a client's opening handshake (RFC 6455 §4.2.1) and computes our answer to it. */
export function checkClientHandshake(method: string | undefined, headers: IncomingHttpHeaders): ClientHandshake {
  if (method !== "GET") return { ok: false, status: 405, message: "A console is opened with GET." };
  if ((headers.upgrade ?? "").toLowerCase() !== "websocket") return { ok: false, status: 400, message: "Upgrade: websocket is required." };
  if (headers["sec-websocket-version"] !== "13") return { ok: false, status: 400, message: "Sec-WebSocket-Version 13 is required." };
  const key = headers["sec-websocket-key"];
  if (!isWebsocketKey(key)) return { ok: false, status: 400, message: "A valid Sec-WebSocket-Key is required." };
  const protocol = chooseSubprotocol(offeredSubprotocols(headers["sec-websocket-protocol"]), CLIENT_SUBPROTOCOLS);
  if (protocol === null) return { ok: false, status: 400, message: `Unsupported websocket subprotocol; use one of ${CLIENT_SUBPROTOCOLS.join(", ")}.` };
  return { ok: true, accept: websocketAccept(key), protocol };
}

export interface ConsoleProxyOptions {
  tokens: ConsoleTokens;
  identity: IdentityService;
  store: FacadeStore;
  logger: Logger;
  /** The facade's ordinary request handler, for upgrade requests that are not consoles (e.g. curl's `Upgrade: h2c`). */
  fallback: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface ConsoleProxy {
  /** The `upgrade` listener of the facade's HTTP server. */
  handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Closes every open console (upgraded sockets are no longer the HTTP server's to close). */
  closeAll: () => void;
}

export function createConsoleProxy(opts: ConsoleProxyOptions): ConsoleProxy {
  const open = new Set<Duplex>();
  return {
    handleUpgrade: (req, socket, head) => {
      const path = new URL(req.url ?? "/", "http://facade.invalid").pathname;
      if (!path.startsWith(CONSOLE_PATH_PREFIX) && socket instanceof Socket) {
        // Not a console: answer it as the plain HTTP request it also is, and close (the body, if any, is not read).
        const res = new ServerResponse(req);
        res.shouldKeepAlive = false;
        res.assignSocket(socket);
        res.on("finish", () => {
          res.detachSocket(socket);
          socket.end();
        });
        opts.fallback(req, res);
        return;
      }
      const log = opts.logger.child({ component: "console-proxy" });
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      // A client that goes away mid-handshake must not take the process with it.
      socket.on("error", (e) => {
        log.debug({ err: e }, "console client connection failed");
      });
      connect(opts, log, req, socket, head, path).catch((e: unknown) => {
        log.error({ err: e }, "console proxy failed");
        refuse(socket, 500, "An unexpected error occurred; it has been logged.");
      });
    },
    closeAll: () => {
      for (const socket of open) socket.destroy();
    },
  };
}

async function connect(opts: ConsoleProxyOptions, log: Logger, req: IncomingMessage, client: Duplex, head: Buffer, path: string): Promise<void> {
  if (!path.startsWith(CONSOLE_PATH_PREFIX)) {
    refuse(client, 404, "The resource could not be found.");
    return;
  }
  const handshake = checkClientHandshake(req.method, req.headers);
  if (!handshake.ok) {
    refuse(client, handshake.status, handshake.message);
    return;
  }
  const grant = opts.tokens.redeem(decodeURIComponent(path.slice(CONSOLE_PATH_PREFIX.length)));
  if (!grant.ok) {
    refuse(client, 401, `The request you have made requires authentication: ${grant.why}.`);
    return;
  }
  const caller = opts.identity.callerOf(grant.identity);
  const server = opts.store.byUid<Server>(serverKind, grant.serverId);
  const sameProject = server !== undefined && (server.metadata.namespace === caller.project?.namespace || caller.cloudAdmin);
  if (server === undefined || !sameProject) {
    refuse(client, 404, `Instance ${grant.serverId} could not be found.`);
    return;
  }
  const upstreamPath = server.status?.console?.[grant.protocol];
  if (upstreamPath === undefined) {
    refuse(client, 409, `Instance ${grant.serverId} is not ready`);
    return;
  }
  let upstream;
  try {
    upstream = await caller.kube.upgrade({ path: upstreamPath, protocols: [KUBEVIRT_PLAIN_SUBPROTOCOL] });
  } catch (e) {
    const status = e instanceof KubeApiError ? e.statusCode : 0;
    log.info({ err: e, server: grant.serverId, protocol: grant.protocol }, "console upstream refused");
    if (status === 403) refuse(client, 403, "Policy doesn't allow os_compute_api:os-remote-consoles to be performed.");
    else if (status === 404) refuse(client, 404, `Instance ${grant.serverId} could not be found.`);
    else if (status === 409 || status === 400) refuse(client, 409, `Instance ${grant.serverId} is not ready`);
    else refuse(client, 502, "The console of the instance could not be reached.");
    return;
  }
  if (client.destroyed) {
    upstream.socket.destroy();
    return;
  }
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${handshake.accept}`,
    ...(handshake.protocol === undefined ? [] : [`Sec-WebSocket-Protocol: ${handshake.protocol}`]),
  ];
  client.write(`${lines.join("\r\n")}\r\n\r\n`);
  if (upstream.head.length > 0) client.write(upstream.head);
  if (head.length > 0) upstream.socket.write(head);
  log.info({ user: caller.userName, server: grant.serverId, protocol: grant.protocol }, "console opened");
  relay(client, upstream.socket, () => {
    log.info({ server: grant.serverId, protocol: grant.protocol }, "console closed");
  });
}

/** Bytes both ways with backpressure (pipe pauses a side whose peer is full); either side closing closes both. */
export function relay(a: Duplex, b: Duplex, onClosed: () => void = () => undefined): void {
  let closed = false;
  const closeBoth = (): void => {
    if (closed) return;
    closed = true;
    a.destroy();
    b.destroy();
    onClosed();
  };
  for (const side of [a, b]) {
    side.on("close", closeBoth);
    side.on("end", closeBoth);
    side.on("error", closeBoth);
  }
  a.pipe(b);
  b.pipe(a);
}

/** An HTTP error answer on a socket that never became a websocket, in Nova's fault format (401: Keystone's). */
function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(faultBody(status === 401 ? "keystone" : "nova", status, message));
  socket.end(
    [
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Error"}`,
      "Content-Type: application/json",
      `Content-Length: ${Buffer.byteLength(body)}`,
      "Connection: close",
      "",
      body,
    ].join("\r\n"),
  );
}
