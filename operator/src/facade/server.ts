// The facade's one HTTP server (node:http: the routes are few and simple, and owning the request/response cycle
// keeps error bodies, microversion headers and streamed image data exactly as the OpenStack services send them,
// without a framework's defaults in the way). Services are mounted under devstack-style prefixes (/identity,
// /compute, /network, /image, /volume). For every request, once: find the service and route, negotiate the
// microversion, authenticate the token, run the handler, and render the result or the error in the service's
// own format.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream";
import type { Logger } from "pino";
import type { z } from "zod";
import type { Caller } from "./common/caller.js";
import { ApiError, faultBody, unauthorized, type FaultStyle } from "./common/errors.js";
import {
  MAX_JSON_BODY_BYTES,
  parseJsonBody,
  parseWith,
  readBody,
  type HttpMethod,
  type Reply,
  type RouteContext,
  type Service,
} from "./common/http.js";
import { microversionHeaders, negotiateMicroversion, type Microversion } from "./common/microversion.js";
import { Router } from "./common/router.js";

export type Authenticate = (token: string) => Promise<Caller>;

export interface FacadeServerOptions {
  services: readonly Service[];
  authenticate: Authenticate;
  logger: Logger;
  /** The facade's public base URL (no trailing slash), e.g. http://127.0.0.1:5000. */
  publicUrl: () => string;
  /** The prefix of the identity service, for WWW-Authenticate. Default /identity. */
  identityPrefix?: string;
}

const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);
const NO_VERSION: Microversion = { major: 0, minor: 0 };
const AUTH_REQUIRED = "The request you have made requires authentication.";

interface Mounted {
  service: Service;
  router: Router;
}

export function createFacadeHandler(opts: FacadeServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  // Longest prefix first, so /volume never shadows a /volumev3.
  const mounted: Mounted[] = [...opts.services]
    .sort((a, b) => b.prefix.length - a.prefix.length)
    .map((service) => ({ service, router: new Router(service.routes) }));
  const identityUrl = (): string => `${opts.publicUrl()}${opts.identityPrefix ?? "/identity"}`;

  return (req, res) => {
    const started = Date.now();
    const requestId = `req-${randomUUID()}`;
    const log = opts.logger.child({ requestId });
    handle(req, res, requestId, log)
      .catch((e: unknown) => {
        log.error({ err: e }, "response failed");
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        } else {
          res.destroy();
        }
      })
      .finally(() => {
        log.debug({ method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started }, "request");
      });
  };

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string, log: Logger): Promise<void> {
    const url = new URL(req.url ?? "/", "http://facade.invalid");
    // Kubernetes probes: the server listens only once the caches have synced, so answering is being ready.
    if (url.pathname === "/healthz" || url.pathname === "/readyz") {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "x-openstack-request-id": requestId });
      res.end("ok\n");
      return;
    }
    const found = mounted.find(
      ({ service }) => url.pathname === service.prefix || url.pathname.startsWith(`${service.prefix}/`),
    );
    if (found === undefined) {
      send(res, { status: 404, body: faultBody("keystone", 404, `No OpenStack service is served at ${url.pathname}.`) }, requestId, "GET");
      return;
    }
    const { service, router } = found;
    const path = url.pathname.slice(service.prefix.length) || "/";
    const method = (req.method ?? "GET").toUpperCase();
    let versionHeaders: Record<string, string> = {};
    try {
      if (!METHODS.has(method)) throw new ApiError(405, `Method ${method} is not allowed.`);
      const match = router.match(method as HttpMethod, path);
      if (match.kind === "not-found") throw new ApiError(404, `The resource could not be found.`);
      if (match.kind === "method-not-allowed") {
        throw new ApiError(405, `The method ${method} is not allowed for this resource.`, {
          headers: { Allow: match.allowed.join(", ") },
        });
      }
      let version = NO_VERSION;
      const spec = service.microversions;
      if (spec !== undefined && !(service.unversionedPaths ?? []).includes(match.route.path)) {
        version = negotiateMicroversion(req.headers, spec);
        versionHeaders = microversionHeaders(spec, version);
      }
      const token = headerValue(req, "x-auth-token");
      let caller: Caller | undefined;
      if (match.route.public !== true) {
        if (token === undefined) throw unauthorized(AUTH_REQUIRED, identityUrl());
        caller = await opts.authenticate(token);
      } else if (token !== undefined) {
        // Public routes may still use a valid token (e.g. rescoping); an invalid one is simply ignored here.
        caller = await opts.authenticate(token).catch(() => undefined);
      }
      const ctx = routeContext({
        req,
        method: method as HttpMethod,
        path,
        url,
        params: match.params,
        service,
        version,
        token,
        caller,
        log,
        rawBody: match.route.rawBody === true,
      });
      const result = await match.route.handler(ctx);
      send(res, { ...result, headers: { ...versionHeaders, ...result.headers } }, requestId, method);
    } catch (e) {
      const error = e instanceof ApiError ? e : undefined;
      if (error === undefined) log.error({ err: e, method, path }, "unexpected error in a facade handler");
      const status = error?.status ?? 500;
      const message = error?.message ?? "An unexpected error occurred; it has been logged.";
      // keystonemiddleware answers 401 before any service sees the request: Keystone's format everywhere.
      const style: FaultStyle = status === 401 ? "keystone" : service.faultStyle;
      send(
        res,
        {
          status,
          body: faultBody(style, status, message, error?.neutronType),
          headers: {
            ...versionHeaders,
            ...(status === 401 ? { "WWW-Authenticate": `Keystone uri="${identityUrl()}"` } : {}),
            ...error?.headers,
          },
        },
        requestId,
        method,
      );
    }
  }

  function routeContext(input: {
    req: IncomingMessage;
    method: HttpMethod;
    path: string;
    url: URL;
    params: Record<string, string>;
    service: Service;
    version: Microversion;
    token: string | undefined;
    caller: Caller | undefined;
    log: Logger;
    rawBody: boolean;
  }): RouteContext {
    let parsed: Promise<unknown> | undefined;
    const json = (): Promise<unknown> => {
      if (input.rawBody) throw new Error("json() on a raw-body route");
      parsed ??= (async () => {
        const type = headerValue(input.req, "content-type");
        if (type !== undefined && !type.toLowerCase().includes("json")) {
          throw new ApiError(415, `Unsupported Content-Type ${type}: send application/json.`);
        }
        const bytes = await readBody(input.req, MAX_JSON_BODY_BYTES);
        return parseJsonBody(bytes.toString("utf8"));
      })();
      return parsed;
    };
    return {
      method: input.method,
      path: input.path,
      params: input.params,
      query: input.url.searchParams,
      headers: input.req.headers,
      serviceUrl: `${opts.publicUrl()}${input.service.prefix}`,
      identityUrl: identityUrl(),
      version: input.version,
      log: input.log,
      request: input.req,
      token: input.token,
      caller: () => {
        if (input.caller === undefined) throw unauthorized(AUTH_REQUIRED, identityUrl());
        return input.caller;
      },
      json,
      body: async <S extends z.ZodType>(schema: S) => parseWith(schema, await json()),
    };
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === "" ? undefined : first;
}

function send(res: ServerResponse, result: Reply, requestId: string, method: string): void {
  res.statusCode = result.status;
  res.setHeader("x-openstack-request-id", requestId);
  for (const [key, value] of Object.entries(result.headers ?? {})) res.setHeader(key, value);
  if (result.stream !== undefined) {
    res.setHeader("Content-Type", result.contentType ?? "application/octet-stream");
    if (method === "HEAD") {
      result.stream.destroy();
      res.end();
      return;
    }
    // pipeline(), not pipe(): a source that breaks mid-way cuts the response (the client sees it short of its
    // Content-Length), and a client that goes away closes the source.
    pipeline(result.stream, res, () => undefined);
    return;
  }
  if (result.body === undefined || result.status === 204 || result.status === 304) {
    if (result.status !== 204 && result.status !== 304) res.setHeader("Content-Length", "0");
    res.end();
    return;
  }
  const payload = JSON.stringify(result.body);
  res.setHeader("Content-Type", result.contentType ?? "application/json");
  res.setHeader("Content-Length", String(Buffer.byteLength(payload)));
  res.end(method === "HEAD" ? undefined : payload);
}
