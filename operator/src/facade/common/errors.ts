// Errors of the facade and the fault bodies each OpenStack service answers them with. Handlers throw ApiError;
// the server renders it in the style of the service the request went to, so a client sees exactly what the
// real service would send (Nova `{"itemNotFound": {...}}`, Neutron `{"NeutronError": {...}}`, …).

export const FaultStyle = {
  nova: "nova",
  cinder: "cinder",
  neutron: "neutron",
  keystone: "keystone",
  glance: "glance",
  zun: "zun",
} as const;
export type FaultStyle = (typeof FaultStyle)[keyof typeof FaultStyle];

export interface ApiErrorOptions {
  /** Neutron's error type, e.g. NetworkNotFound; derived from the status code when absent. */
  neutronType?: string;
  headers?: Record<string, string>;
  cause?: unknown;
}

/** A failure to report to the client with this status and message (never a stack trace). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly neutronType: string | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, opts: ApiErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.status = status;
    this.neutronType = opts.neutronType;
    this.headers = opts.headers ?? {};
  }
}

export const badRequest = (message: string, opts?: ApiErrorOptions) => new ApiError(400, message, opts);
export const forbidden = (message: string, opts?: ApiErrorOptions) => new ApiError(403, message, opts);
export const notFound = (message: string, opts?: ApiErrorOptions) => new ApiError(404, message, opts);
export const conflict = (message: string, opts?: ApiErrorOptions) => new ApiError(409, message, opts);
export const notImplemented = (message: string, opts?: ApiErrorOptions) => new ApiError(501, message, opts);

/** Nova's and Cinder's fault names by status (nova/api/openstack/wsgi.py `_fault_names`, same in Cinder). */
const NOVA_FAULT_NAMES: Readonly<Record<number, string>> = {
  400: "badRequest",
  401: "unauthorized",
  403: "forbidden",
  404: "itemNotFound",
  405: "badMethod",
  409: "conflictingRequest",
  413: "overLimit",
  415: "badMediaType",
  429: "overLimit",
  501: "notImplemented",
  503: "serviceUnavailable",
};

/** HTTP reason phrases, as Keystone puts them in `title` and Glance (webob) in `code`/`title`. */
const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  409: "Conflict",
  411: "Length Required",
  413: "Request Entity Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

export const reasonPhrase = (status: number): string => REASON_PHRASES[status] ?? "Error";

/** Neutron's types for errors that are not about one resource (webob's exception class names). */
const NEUTRON_DEFAULT_TYPES: Readonly<Record<number, string>> = {
  400: "HTTPBadRequest",
  401: "HTTPUnauthorized",
  403: "PolicyNotAuthorized",
  404: "HTTPNotFound",
  405: "HTTPMethodNotAllowed",
  409: "Conflict",
  413: "HTTPRequestEntityTooLarge",
  415: "HTTPUnsupportedMediaType",
  500: "HTTPInternalServerError",
  501: "HTTPNotImplemented",
};

/** The JSON body `style`'s service answers an error with. */
export function faultBody(style: FaultStyle, status: number, message: string, neutronType?: string): unknown {
  switch (style) {
    case "nova":
    case "cinder":
      return { [NOVA_FAULT_NAMES[status] ?? "computeFault"]: { code: status, message } };
    case "neutron":
      return { NeutronError: { type: neutronType ?? NEUTRON_DEFAULT_TYPES[status] ?? "HTTPError", message, detail: "" } };
    case "keystone":
      return { error: { code: status, title: reasonPhrase(status), message } };
    case "glance":
      // webob's JSON error body, which Glance sends to clients that accept JSON.
      return { message, code: `${status} ${reasonPhrase(status)}`, title: reasonPhrase(status) };
    case "zun":
      // Zun's JSON error (zun/api/middleware/parsable_error.py); zunclient shows `title`, then `detail`.
      return { errors: [{ request_id: "", code: status >= 500 ? "server" : "client", status, title: message, detail: message, links: [] }] };
  }
}

/**
 * A 401 as keystonemiddleware sends it in front of every service (so Keystone's format everywhere), with the
 * header that tells clients where to authenticate.
 */
export function unauthorized(message: string, identityUrl: string | undefined): ApiError {
  return new ApiError(401, message, {
    headers: identityUrl === undefined ? {} : { "WWW-Authenticate": `Keystone uri="${identityUrl}"` },
  });
}
