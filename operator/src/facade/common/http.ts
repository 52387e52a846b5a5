// What a route handler sees and returns. Services are plain route tables; the server (../server.ts) does
// routing, authentication, microversion negotiation, body limits and error rendering once for all of them.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import { z } from "zod";
import type { Caller } from "./caller.js";
import { ApiError, badRequest, type FaultStyle } from "./errors.js";
import type { Microversion, MicroversionSpec } from "./microversion.js";

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface Reply {
  status: number;
  /** Serialised as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** A non-JSON payload (e.g. image data); wins over body. */
  stream?: Readable;
  contentType?: string;
}

export const reply = (status: number, body?: unknown, headers?: Record<string, string>): Reply => ({
  status,
  ...(body === undefined ? {} : { body }),
  ...(headers === undefined ? {} : { headers }),
});

export interface RouteContext {
  readonly method: HttpMethod;
  /** The path below the service prefix, e.g. `/v2.1/servers/abc`. */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** Public URL of the service root, e.g. `http://127.0.0.1:5000/compute`. */
  readonly serviceUrl: string;
  /** Public URL of Keystone (`…/identity`), for links and WWW-Authenticate. */
  readonly identityUrl: string;
  /** The negotiated microversion (microversioned services only). */
  readonly version: Microversion;
  readonly log: Logger;
  readonly request: IncomingMessage;
  /** The X-Auth-Token, if any (public routes may look at it themselves). */
  readonly token: string | undefined;
  /** The authenticated caller; throws 401 on public routes that had no valid token. */
  caller(): Caller;
  /** The request body parsed as JSON (bounded in size); a malformed body is the service's 400. */
  json(): Promise<unknown>;
  /** The request body parsed as JSON and validated; a mismatch is a 400 naming the field. */
  body<S extends z.ZodType>(schema: S): Promise<z.output<S>>;
}

export type Handler = (ctx: RouteContext) => Promise<Reply>;

export interface Route {
  method: HttpMethod;
  /** Below the service prefix, with `{param}` segments, e.g. `/v2.1/servers/{id}`. */
  path: string;
  handler: Handler;
  /** No token needed (version documents, token issue). */
  public?: boolean;
  /** Streams its own body (image upload): no JSON size limit, json()/body() unavailable. */
  rawBody?: boolean;
}

export interface Service {
  /** The catalog type, e.g. `compute`. */
  type: string;
  /** URL prefix, e.g. `/compute`. */
  prefix: string;
  faultStyle: FaultStyle;
  routes: readonly Route[];
  /** Microversion negotiation for every route of the service except the version documents. */
  microversions?: MicroversionSpec;
  /** Paths (below the prefix) that are version documents: served without microversion negotiation. */
  unversionedPaths?: readonly string[];
}

/** oslo.middleware's default `max_request_body_size`, the limit every OpenStack API applies to JSON bodies. */
export const MAX_JSON_BODY_BYTES = 114_688;

export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? "0");
  if (Number.isFinite(declared) && declared > limit) throw new ApiError(413, "Request is too large.");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError(413, "Request is too large.");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** JSON text → value; empty or malformed bodies are a 400 with the message Nova uses. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") throw badRequest("Malformed request body: the request has no body");
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest(`Malformed request body: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A zod failure as one readable 400 message: `Invalid input for field/attribute server.name. …`. */
export function validationError(error: z.ZodError): ApiError {
  const first = error.issues[0];
  const field = first === undefined || first.path.length === 0 ? "body" : first.path.map(String).join(".");
  const rest = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems)` : "";
  return badRequest(`Invalid input for field/attribute ${field}. ${first?.message ?? "invalid"}${rest}`);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/** Query flags the OpenStack way: true/1/yes/on, case-insensitive. */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  return value !== null && ["true", "1", "yes", "on", ""].includes(value.toLowerCase());
}
