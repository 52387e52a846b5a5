// A small Kubernetes REST client. It takes credentials and TLS material from client-node's KubeConfig
// but sends through Node's own http/https modules with one keep-alive agent: that keeps watches
// streaming without buffering, and lets nock intercept every request in tests.
import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { z } from "zod";
import { KubeApiError, KubeRequestError, isGone, isNotFound, statusSchema, type KubeStatus } from "./errors.js";
import { apiPath, apiVersionOf, type KubeObject, type ResourceType } from "./resources.js";
import { newWebsocketKey, websocketAccept } from "./websocket.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  method: HttpMethod;
  /** Absolute API path, e.g. `/api/v1/namespaces/x/serviceaccounts/y/token` or `/readyz`. */
  path: string;
  query?: Readonly<Record<string, QueryValue>>;
  /** Serialised as JSON. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal | undefined;
  /** Whole-request deadline in ms; 0 disables it. Defaults to the client's requestTimeoutMs. */
  timeoutMs?: number;
}

export interface RawResponse {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface UpgradeOptions {
  /** Absolute API path of a websocket endpoint, e.g. a KubeVirt `…/virtualmachineinstances/{name}/vnc`. */
  path: string;
  /** Sec-WebSocket-Protocol values to offer. */
  protocols: readonly string[];
  /** Deadline for the handshake in ms. Defaults to the client's requestTimeoutMs. */
  timeoutMs?: number;
}

export interface UpgradedConnection {
  /** The raw connection after the handshake: websocket frames both ways (ours must be masked). */
  socket: Duplex;
  /** Bytes the server sent right after its 101 answer (already frames). */
  head: Buffer;
  /** The subprotocol the server chose. */
  protocol: string | undefined;
}

export interface Impersonation {
  user: string;
  groups?: readonly string[];
  uid?: string;
  extra?: Readonly<Record<string, readonly string[]>>;
}

export interface KubeClientOptions {
  /** Deadline for ordinary (non-watch) requests. Default 30 s. */
  requestTimeoutMs?: number;
  userAgent?: string;
  logger?: Logger;
  /** How long credentials from the kubeconfig are reused before being asked for again. Default 10 s. */
  credentialTtlMs?: number;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface ListOptions extends CallOptions {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  limit?: number | undefined;
  continue?: string | undefined;
  resourceVersion?: string | undefined;
  resourceVersionMatch?: "Exact" | "NotOlderThan" | undefined;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
  continue?: string | undefined;
}

export interface ListAllOptions extends Omit<ListOptions, "continue" | "limit"> {
  /** Items per request while following continue tokens. Default 500. */
  pageSize?: number;
}

export interface WriteOptions extends CallOptions {
  dryRun?: boolean;
  fieldManager?: string;
}

export interface ApplyOptions extends CallOptions {
  fieldManager: string;
  /** Take ownership of fields other managers own. Default true: controllers own what they apply. */
  force?: boolean;
  dryRun?: boolean;
}

export const PatchType = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
} as const;
export type PatchType = keyof typeof PatchType;

export interface PatchOptions extends WriteOptions {
  subresource?: string;
}

export interface ReplaceOptions extends WriteOptions {
  subresource?: string;
}

export interface DeleteOptions extends CallOptions {
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  dryRun?: boolean;
}

export interface WatchOptions {
  namespace?: string | undefined;
  resourceVersion?: string | undefined;
  allowWatchBookmarks?: boolean;
  /** Server-side watch duration; the client also gives up 30 s after it. */
  timeoutSeconds?: number | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

export const WatchEventType = {
  Added: "ADDED",
  Modified: "MODIFIED",
  Deleted: "DELETED",
  Bookmark: "BOOKMARK",
  Error: "ERROR",
} as const;
export type WatchEventType = (typeof WatchEventType)[keyof typeof WatchEventType];

export type WatchEvent<T> =
  | { type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; object: T }
  | { type: "ERROR"; object: KubeStatus };

/** What a cache needs from a client; fakes in tests implement just this. */
export interface ListWatchClient {
  listAll<T extends KubeObject>(rt: ResourceType, opts?: ListAllOptions): Promise<ListResult<T>>;
  watch<T extends KubeObject>(rt: ResourceType, opts: WatchOptions, signal?: AbortSignal): AsyncIterable<WatchEvent<T>>;
}

// Objects are checked only for the envelope every object has; their content stays the caller's type.
const objectSchema = z.looseObject({ metadata: z.looseObject({}) });
const listSchema = z.looseObject({
  metadata: z.looseObject({
    resourceVersion: z.string().optional(),
    continue: z.string().optional(),
  }),
  items: z.array(objectSchema).nullish(),
});
const watchLineSchema = z.discriminatedUnion("type", [
  z.object({ type: z.enum(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]), object: objectSchema }),
  z.object({ type: z.literal("ERROR"), object: statusSchema }),
]);

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const WATCH_GRACE_MS = 30_000;
const DEFAULT_CREDENTIAL_TTL_MS = 10_000;

interface Prepared {
  agent: http.Agent;
  headers: Record<string, string | string[]>;
  auth: string | undefined;
}

/** Connection state (server, credentials, keep-alive agent) shared by a client and its impersonating copies. */
export class KubeConnection {
  readonly server: URL;
  readonly requestTimeoutMs: number;
  readonly userAgent: string;
  readonly logger: Logger | undefined;
  private readonly credentialTtlMs: number;
  private agent: http.Agent | undefined;
  private credentials: { value: Promise<Prepared>; expiresAt: number } | undefined;

  constructor(
    private readonly kc: KubeConfig,
    opts: KubeClientOptions,
  ) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error("kubeconfig has no current cluster");
    this.server = new URL(cluster.server);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.userAgent = opts.userAgent ?? "altostack-operator";
    this.logger = opts.logger;
    this.credentialTtlMs = opts.credentialTtlMs ?? DEFAULT_CREDENTIAL_TTL_MS;
  }

  get isHttps(): boolean {
    return this.server.protocol === "https:";
  }

  /** Credentials (bearer token, basic auth) and the shared agent; refreshed after the TTL or a 401. */
  prepare(): Promise<Prepared> {
    const now = Date.now();
    if (this.credentials === undefined || now >= this.credentials.expiresAt) {
      const value = this.load();
      this.credentials = { value, expiresAt: now + this.credentialTtlMs };
      // A failed load must not be cached.
      value.catch(() => {
        if (this.credentials?.value === value) this.credentials = undefined;
      });
    }
    return this.credentials.value;
  }

  invalidateCredentials(): void {
    this.credentials = undefined;
  }

  destroy(): void {
    this.agent?.destroy();
  }

  private async load(): Promise<Prepared> {
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    // applyToHTTPSOptions builds a fresh agent every call; we keep one keep-alive agent instead,
    // made from the TLS material of the first call.
    this.agent ??= this.isHttps
      ? new https.Agent({
          keepAlive: true,
          ca: opts.ca,
          cert: opts.cert,
          key: opts.key,
          pfx: opts.pfx,
          passphrase: opts.passphrase,
          servername: opts.servername,
          ...(opts.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: opts.rejectUnauthorized }),
        })
      : new http.Agent({ keepAlive: true });
    const headers: Record<string, string | string[]> = {};
    const source = opts.headers;
    if (source !== undefined && !Array.isArray(source)) {
      for (const [key, value] of Object.entries(source)) {
        if (value === undefined) continue;
        headers[key] = typeof value === "number" ? String(value) : value;
      }
    }
    return { agent: this.agent, headers, auth: opts.auth ?? undefined };
  }
}

interface OpenResult {
  response: http.IncomingMessage;
  /** Clears the deadline timer and the abort listener. */
  finish(): void;
  /** Why the request was cut short, if it was. */
  abortReason(): "timeout" | "aborted" | undefined;
}

export class KubeClient implements ListWatchClient {
  private readonly transport: KubeConnection;
  /** Impersonate-* headers; empty for the client's own identity. */
  private identityHeaders: Readonly<Record<string, string | string[]>> = {};

  /** From a loaded KubeConfig, or from another client's connection (`opts` is then ignored). */
  constructor(source: KubeConfig | KubeConnection, opts: KubeClientOptions = {}) {
    this.transport = source instanceof KubeConnection ? source : new KubeConnection(source, opts);
  }

  static fromFile(path: string, opts?: KubeClientOptions & { context?: string }): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    if (opts?.context !== undefined) kc.setCurrentContext(opts.context);
    return new KubeClient(kc, opts);
  }

  /** $KUBECONFIG, ~/.kube/config, then the in-cluster service account, like kubectl. */
  static fromDefault(opts?: KubeClientOptions): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubeClient(kc, opts);
  }

  static inCluster(opts?: KubeClientOptions): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromCluster();
    return new KubeClient(kc, opts);
  }

  /** The API server's base URL. */
  get server(): string {
    return this.transport.server.toString();
  }

  /**
   * A client that acts as another user (Impersonate-* headers). It shares this client's connection;
   * impersonating from an impersonating client replaces the identity (Kubernetes has no nesting).
   */
  impersonate(identity: Impersonation): KubeClient {
    const headers: Record<string, string | string[]> = { "Impersonate-User": identity.user };
    if (identity.groups !== undefined && identity.groups.length > 0) {
      headers["Impersonate-Group"] = [...identity.groups];
    }
    if (identity.uid !== undefined) headers["Impersonate-Uid"] = identity.uid;
    for (const [key, values] of Object.entries(identity.extra ?? {})) {
      headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = [...values];
    }
    const client = new KubeClient(this.transport);
    client.identityHeaders = headers;
    return client;
  }

  /** The connection, for building further clients that share it. */
  get connection(): KubeConnection {
    return this.transport;
  }

  /** Closes idle keep-alive connections (shared with impersonating copies). */
  close(): void {
    this.transport.destroy();
  }

  // ---- raw requests ----

  /** Any request; non-2xx answers throw KubeApiError. */
  async request(opts: RequestOptions): Promise<RawResponse> {
    const started = Date.now();
    const opened = await this.open(opts, opts.timeoutMs ?? this.transport.requestTimeoutMs);
    try {
      const body = await readBody(opened.response);
      const statusCode = opened.response.statusCode ?? 0;
      this.transport.logger?.debug(
        { method: opts.method, path: opts.path, statusCode, ms: Date.now() - started },
        "kube request",
      );
      if (statusCode === 401) this.transport.invalidateCredentials();
      if (statusCode < 200 || statusCode >= 300) {
        throw KubeApiError.fromResponse(statusCode, body, opts.method, opts.path);
      }
      return { statusCode, headers: opened.response.headers, body };
    } catch (e) {
      throw wrapFailure(e, opened.abortReason(), opts);
    } finally {
      opened.finish();
    }
  }

  /** A request whose answer is JSON; the caller validates the returned value. */
  async requestJson(opts: RequestOptions): Promise<unknown> {
    const res = await this.request({ accept: "application/json", ...opts });
    try {
      return JSON.parse(res.body) as unknown;
    } catch (e) {
      throw new KubeRequestError("response is not JSON", opts.method, opts.path, { cause: e });
    }
  }

  /**
   * A websocket to the apiserver (e.g. KubeVirt's console and VNC subresources) as this client's identity,
   * with the same TLS material, credentials and impersonation as every request. Resolves after a 101 whose
   * Sec-WebSocket-Accept proves the server read our key; any other answer is a KubeApiError.
   */
  async upgrade(opts: UpgradeOptions): Promise<UpgradedConnection> {
    const method = "GET";
    let prepared: Prepared;
    try {
      prepared = await this.transport.prepare();
    } catch (e) {
      throw new KubeRequestError("cannot load credentials from kubeconfig", method, opts.path, { cause: e });
    }
    const url = new URL(this.transport.server.toString());
    url.pathname = url.pathname.replace(/\/$/, "") + opts.path;
    const key = newWebsocketKey();
    const headers: Record<string, string | string[]> = {
      ...prepared.headers,
      ...this.identityHeaders,
      "User-Agent": this.transport.userAgent,
      Connection: "Upgrade",
      Upgrade: "websocket",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": key,
      ...(opts.protocols.length === 0 ? {} : { "Sec-WebSocket-Protocol": opts.protocols.join(", ") }),
    };
    const timeoutMs = opts.timeoutMs ?? this.transport.requestTimeoutMs;
    const send = this.transport.isHttps ? https.request : http.request;
    return new Promise<UpgradedConnection>((resolve, reject) => {
      // A dedicated connection: an upgraded socket leaves the agent's pool for good.
      const tls = prepared.agent instanceof https.Agent ? tlsOptionsOf(prepared.agent.options) : {};
      const req = send(url, { method, headers, auth: prepared.auth, agent: false, ...tls });
      const timer = setTimeout(() => {
        req.destroy(new KubeRequestError(`websocket handshake timed out after ${timeoutMs} ms`, method, opts.path));
      }, timeoutMs).unref();
      req.on("upgrade", (response, socket, head) => {
        clearTimeout(timer);
        if (response.headers["sec-websocket-accept"] !== websocketAccept(key)) {
          socket.destroy();
          reject(new KubeRequestError("websocket handshake failed: wrong Sec-WebSocket-Accept", method, opts.path));
          return;
        }
        const protocol = response.headers["sec-websocket-protocol"];
        resolve({ socket, head, protocol: typeof protocol === "string" ? protocol : undefined });
      });
      req.on("response", (response) => {
        clearTimeout(timer);
        const statusCode = response.statusCode ?? 0;
        if (statusCode === 401) this.transport.invalidateCredentials();
        readBody(response).then(
          (body) => {
            reject(KubeApiError.fromResponse(statusCode === 101 ? 502 : statusCode, body, method, opts.path));
          },
          (e: unknown) => {
            reject(new KubeRequestError("websocket handshake failed", method, opts.path, { cause: e }));
          },
        );
      });
      req.on("error", (e) => {
        clearTimeout(timer);
        reject(e instanceof KubeRequestError ? e : new KubeRequestError("websocket handshake failed", method, opts.path, { cause: e }));
      });
      req.end();
    });
  }

  // ---- typed operations ----

  /** The object, or undefined when it does not exist. */
  async get<T extends KubeObject>(
    rt: ResourceType,
    name: string,
    namespace?: string,
    opts?: CallOptions,
  ): Promise<T | undefined> {
    try {
      return await this.objectRequest<T>(rt, { method: "GET", path: apiPath(rt, namespace, name), signal: opts?.signal });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** One page. Items get apiVersion/kind filled in (the apiserver omits them in lists). */
  async list<T extends KubeObject>(rt: ResourceType, opts: ListOptions = {}): Promise<ListResult<T>> {
    const path = apiPath(rt, opts.namespace);
    const json = await this.requestJson({
      method: "GET",
      path,
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit,
        continue: opts.continue,
        resourceVersion: opts.resourceVersion,
        resourceVersionMatch: opts.resourceVersionMatch,
      },
      signal: opts.signal,
    });
    const parsed = listSchema.safeParse(json);
    if (!parsed.success) {
      throw new KubeRequestError(`unexpected list response: ${z.prettifyError(parsed.error)}`, "GET", path);
    }
    const apiVersion = apiVersionOf(rt);
    const items = (parsed.data.items ?? []).map((item) => ({ apiVersion, kind: rt.kind, ...item }) as unknown as T);
    const next = parsed.data.metadata.continue;
    return {
      items,
      resourceVersion: parsed.data.metadata.resourceVersion ?? "",
      continue: next === undefined || next === "" ? undefined : next,
    };
  }

  /** Every page, following continue tokens. If a token expires mid-way, falls back to one unpaged list. */
  async listAll<T extends KubeObject>(rt: ResourceType, opts: ListAllOptions = {}): Promise<ListResult<T>> {
    const { pageSize = 500, ...rest } = opts;
    const first = await this.list<T>(rt, { ...rest, limit: pageSize });
    const items = [...first.items];
    let token = first.continue;
    while (token !== undefined) {
      let page: ListResult<T>;
      try {
        page = await this.list<T>(rt, { ...rest, limit: pageSize, continue: token });
      } catch (e) {
        if (!isGone(e)) throw e;
        const whole = await this.list<T>(rt, rest);
        return { items: whole.items, resourceVersion: whole.resourceVersion };
      }
      items.push(...page.items);
      token = page.continue;
    }
    return { items, resourceVersion: first.resourceVersion };
  }

  async create<T extends KubeObject>(rt: ResourceType, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.objectRequest<T>(rt, {
      method: "POST",
      path: apiPath(rt, obj.metadata.namespace),
      query: { dryRun: opts.dryRun === true ? "All" : undefined, fieldManager: opts.fieldManager },
      body: withTypeMeta(rt, obj),
      signal: opts.signal,
    });
  }

  /** Server-side apply: PATCH with application/apply-patch+yaml (a JSON body is valid YAML). */
  async apply<T extends KubeObject>(rt: ResourceType, obj: T, opts: ApplyOptions): Promise<T> {
    return this.applyTo<T>(rt, obj, undefined, opts);
  }

  /** Server-side apply of the status subresource. */
  async applyStatus<T extends KubeObject = KubeObject>(
    rt: ResourceType,
    obj: KubeObject & { status: unknown },
    opts: ApplyOptions,
  ): Promise<T> {
    return this.applyTo<T>(rt, obj, "status", opts);
  }

  async patch<T extends KubeObject = KubeObject>(
    rt: ResourceType,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    type: PatchType,
    opts: PatchOptions = {},
  ): Promise<T> {
    return this.objectRequest<T>(rt, {
      method: "PATCH",
      path: apiPath(rt, namespace, name, opts.subresource),
      query: { dryRun: opts.dryRun === true ? "All" : undefined, fieldManager: opts.fieldManager },
      body: patch,
      contentType: PatchType[type],
      signal: opts.signal,
    });
  }

  /** PUT; the object's resourceVersion (if set) makes it a compare-and-swap. */
  async replace<T extends KubeObject>(rt: ResourceType, obj: T, opts: ReplaceOptions = {}): Promise<T> {
    return this.objectRequest<T>(rt, {
      method: "PUT",
      path: apiPath(rt, obj.metadata.namespace, requireName(rt, obj), opts.subresource),
      query: { dryRun: opts.dryRun === true ? "All" : undefined, fieldManager: opts.fieldManager },
      body: withTypeMeta(rt, obj),
      signal: opts.signal,
    });
  }

  /** True when the object is deleted or now being deleted (finalizers pending); false when it did not exist. */
  async delete(rt: ResourceType, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<boolean> {
    const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions" };
    if (opts.propagationPolicy !== undefined) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditions !== undefined) body.preconditions = opts.preconditions;
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.dryRun === true) body.dryRun = ["All"];
    try {
      await this.request({
        method: "DELETE",
        path: apiPath(rt, namespace, name),
        body,
        contentType: "application/json",
        signal: opts.signal,
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /**
   * Streams watch events as they arrive (newline-delimited JSON, never buffered whole). Ends quietly
   * when the server closes the stream or `signal` aborts; ERROR events are yielded for the caller to
   * interpret (a 410 means: relist).
   */
  async *watch<T extends KubeObject>(
    rt: ResourceType,
    opts: WatchOptions,
    signal?: AbortSignal,
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    if (isAborted(signal)) return;
    const path = apiPath(rt, opts.namespace);
    const request: RequestOptions = {
      method: "GET",
      path,
      query: {
        watch: true,
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: opts.allowWatchBookmarks ?? true,
        timeoutSeconds: opts.timeoutSeconds,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
      },
      accept: "application/json",
      signal,
    };
    const deadline = opts.timeoutSeconds === undefined ? 0 : opts.timeoutSeconds * 1000 + WATCH_GRACE_MS;
    let opened: OpenResult;
    try {
      opened = await this.open(request, deadline);
    } catch (e) {
      // Checked again: the signal may have fired while connecting.
      if (isAborted(signal)) return;
      throw e;
    }
    const { response } = opened;
    try {
      const statusCode = response.statusCode ?? 0;
      if (statusCode < 200 || statusCode >= 300) {
        if (statusCode === 401) this.transport.invalidateCredentials();
        throw KubeApiError.fromResponse(statusCode, await readBody(response), "GET", path);
      }
      for await (const line of splitLines(response as AsyncIterable<Buffer>)) {
        yield parseWatchLine<T>(line, path);
      }
    } catch (e) {
      if (opened.abortReason() === "aborted") return;
      throw wrapFailure(e, opened.abortReason(), request);
    } finally {
      opened.finish();
      response.destroy();
    }
  }

  // ---- internals ----

  private async applyTo<T extends KubeObject>(
    rt: ResourceType,
    obj: KubeObject,
    subresource: string | undefined,
    opts: ApplyOptions,
  ): Promise<T> {
    // The apiserver refuses an apply configuration that carries managedFields.
    const { managedFields: _managed, ...metadata } = obj.metadata;
    return this.objectRequest<T>(rt, {
      method: "PATCH",
      path: apiPath(rt, obj.metadata.namespace, requireName(rt, obj), subresource),
      query: {
        fieldManager: opts.fieldManager,
        force: opts.force ?? true,
        dryRun: opts.dryRun === true ? "All" : undefined,
      },
      body: withTypeMeta(rt, { ...obj, metadata }),
      contentType: "application/apply-patch+yaml",
      signal: opts.signal,
    });
  }

  private async objectRequest<T extends KubeObject>(rt: ResourceType, opts: RequestOptions): Promise<T> {
    const json = await this.requestJson(opts);
    const parsed = objectSchema.safeParse(json);
    if (!parsed.success) {
      throw new KubeRequestError(
        `unexpected ${rt.kind} response: ${z.prettifyError(parsed.error)}`,
        opts.method,
        opts.path,
      );
    }
    return parsed.data as unknown as T;
  }

  /** Sends the request and resolves with the response head; the body is left to the caller. */
  private async open(opts: RequestOptions, timeoutMs: number): Promise<OpenResult> {
    const { method, path } = opts;
    let prepared: Prepared;
    try {
      prepared = await this.transport.prepare();
    } catch (e) {
      throw new KubeRequestError("cannot load credentials from kubeconfig", method, path, { cause: e });
    }
    const url = new URL(this.transport.server.toString());
    url.pathname = url.pathname.replace(/\/$/, "") + path;
    for (const [key, value] of Object.entries(opts.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string | string[]> = {
      ...prepared.headers,
      ...this.identityHeaders,
      Accept: opts.accept ?? "application/json",
      "User-Agent": this.transport.userAgent,
    };
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers["Content-Type"] = opts.contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }

    // One controller carries both the caller's abort and our deadline into http.request.
    const controller = new AbortController();
    let reason: "timeout" | "aborted" | undefined;
    const onAbort = (): void => {
      reason ??= "aborted";
      controller.abort(opts.signal?.reason);
    };
    if (opts.signal?.aborted === true) {
      throw new KubeRequestError("request aborted", method, path, { cause: opts.signal.reason });
    }
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            reason ??= "timeout";
            controller.abort(new Error(`timed out after ${timeoutMs} ms`));
          }, timeoutMs).unref()
        : undefined;
    const finish = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    };

    const send = this.transport.isHttps ? https.request : http.request;
    try {
      return await new Promise<OpenResult>((resolve, reject) => {
        const req = send(
          url,
          { method, headers, agent: prepared.agent, auth: prepared.auth, signal: controller.signal },
          (response) => {
            resolve({ response, finish, abortReason: () => reason });
          },
        );
        req.on("error", reject);
        req.end(payload);
      });
    } catch (e) {
      finish();
      throw wrapFailure(e, reason, opts);
    }
  }
}

/** Only the TLS material of an agent's options (they also hold socket fields such as `path` that must not leak into a request). */
function tlsOptionsOf(options: https.AgentOptions): https.RequestOptions {
  const { ca, cert, key, pfx, passphrase, servername, rejectUnauthorized } = options;
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(pfx === undefined ? {} : { pfx }),
    ...(passphrase === undefined ? {} : { passphrase }),
    ...(servername === undefined ? {} : { servername }),
    ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
  };
}

// A function rather than an inline check so TypeScript does not keep a stale narrowing across awaits.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function wrapFailure(e: unknown, why: "timeout" | "aborted" | undefined, opts: RequestOptions): unknown {
  if (e instanceof KubeApiError || e instanceof KubeRequestError) return e;
  const message = why === "timeout" ? "request timed out" : why === "aborted" ? "request aborted" : "request failed";
  return new KubeRequestError(message, opts.method, opts.path, { cause: e });
}

/**
 * Non-empty lines of a byte stream, decoded as UTF-8. Chunks may split lines and even multi-byte
 * characters anywhere; only complete lines are yielded, as soon as their newline arrives.
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  for await (const chunk of chunks) {
    pending += decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      const line = pending.slice(0, pending[newline - 1] === "\r" ? newline - 1 : newline);
      pending = pending.slice(newline + 1);
      if (line.trim() !== "") yield line;
      newline = pending.indexOf("\n");
    }
  }
  pending += decoder.end();
  if (pending.trim() !== "") yield pending;
}

function parseWatchLine<T>(line: string, path: string): WatchEvent<T> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (e) {
    throw new KubeRequestError("watch event is not JSON", "GET", path, { cause: e });
  }
  const parsed = watchLineSchema.safeParse(json);
  if (!parsed.success) {
    throw new KubeRequestError(`unexpected watch event: ${z.prettifyError(parsed.error)}`, "GET", path);
  }
  const event = parsed.data;
  return event.type === "ERROR" ? event : { type: event.type, object: event.object as unknown as T };
}

async function readBody(response: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function withTypeMeta(rt: ResourceType, obj: KubeObject): KubeObject {
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(rt), kind: obj.kind ?? rt.kind };
}

function requireName(rt: ResourceType, obj: KubeObject): string {
  const name = obj.metadata.name;
  if (name === undefined || name === "") throw new Error(`${rt.kind} object has no metadata.name`);
  return name;
}
