// Errors from the Kubernetes API. The apiserver answers failures with a Status object; we keep its
// reason/details so callers branch on meaning (NotFound, Conflict, …) rather than on message text.
import { z } from "zod";

/** metav1.StatusReason values callers commonly branch on. */
export const StatusReason = {
  BadRequest: "BadRequest",
  Unauthorized: "Unauthorized",
  Forbidden: "Forbidden",
  NotFound: "NotFound",
  AlreadyExists: "AlreadyExists",
  Conflict: "Conflict",
  Gone: "Gone",
  Expired: "Expired",
  Invalid: "Invalid",
  MethodNotAllowed: "MethodNotAllowed",
  UnsupportedMediaType: "UnsupportedMediaType",
  TooManyRequests: "TooManyRequests",
  RequestEntityTooLarge: "RequestEntityTooLarge",
  InternalError: "InternalError",
  ServiceUnavailable: "ServiceUnavailable",
  Timeout: "Timeout",
  ServerTimeout: "ServerTimeout",
  Unknown: "Unknown",
} as const;
export type StatusReason = (typeof StatusReason)[keyof typeof StatusReason];

export const statusCauseSchema = z.looseObject({
  reason: z.string().optional(),
  message: z.string().optional(),
  field: z.string().optional(),
});
export type StatusCause = z.infer<typeof statusCauseSchema>;

export const statusDetailsSchema = z.looseObject({
  name: z.string().optional(),
  group: z.string().optional(),
  kind: z.string().optional(),
  uid: z.string().optional(),
  causes: z.array(statusCauseSchema).optional(),
  retryAfterSeconds: z.number().optional(),
});
export type StatusDetails = z.infer<typeof statusDetailsSchema>;

export const statusSchema = z.looseObject({
  kind: z.literal("Status"),
  apiVersion: z.string().optional(),
  status: z.string().optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  details: statusDetailsSchema.optional(),
  code: z.number().optional(),
});
export type KubeStatus = z.infer<typeof statusSchema>;

/** Fallback reasons for responses that carry no Status body (proxies, plain-text errors). */
const reasonByStatusCode: Readonly<Record<number, StatusReason>> = {
  400: StatusReason.BadRequest,
  401: StatusReason.Unauthorized,
  403: StatusReason.Forbidden,
  404: StatusReason.NotFound,
  405: StatusReason.MethodNotAllowed,
  409: StatusReason.Conflict,
  410: StatusReason.Gone,
  413: StatusReason.RequestEntityTooLarge,
  415: StatusReason.UnsupportedMediaType,
  422: StatusReason.Invalid,
  429: StatusReason.TooManyRequests,
  500: StatusReason.InternalError,
  503: StatusReason.ServiceUnavailable,
  504: StatusReason.Timeout,
};

export interface KubeApiErrorInit {
  statusCode: number;
  reason?: string | undefined;
  message: string;
  details?: StatusDetails | undefined;
  method?: string | undefined;
  path?: string | undefined;
  cause?: unknown;
}

/** The apiserver refused a request. `message` is the apiserver's own message. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  readonly statusCode: number;
  /** The Status reason, or one derived from the HTTP code when the body had none. */
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  readonly method: string | undefined;
  readonly path: string | undefined;

  constructor(init: KubeApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.statusCode = init.statusCode;
    this.reason =
      init.reason !== undefined && init.reason !== ""
        ? init.reason
        : (reasonByStatusCode[init.statusCode] ?? StatusReason.Unknown);
    this.details = init.details;
    this.method = init.method;
    this.path = init.path;
  }

  /** Builds the error from a response: a Status body when there is one, else the raw text. */
  static fromResponse(statusCode: number, body: string, method?: string, path?: string): KubeApiError {
    const status = parseStatus(body);
    if (status !== undefined) {
      return new KubeApiError({
        statusCode: status.code ?? statusCode,
        reason: status.reason,
        message: status.message ?? `HTTP ${statusCode}`,
        details: status.details,
        method,
        path,
      });
    }
    const text = body.trim();
    return new KubeApiError({ statusCode, message: text === "" ? `HTTP ${statusCode}` : text, method, path });
  }

  /** Builds the error from a Status carried by a watch ERROR event. */
  static fromStatus(status: KubeStatus, method?: string, path?: string): KubeApiError {
    return new KubeApiError({
      statusCode: status.code ?? 500,
      reason: status.reason,
      message: status.message ?? "watch error",
      details: status.details,
      method,
      path,
    });
  }
}

/** The request never got an apiserver answer: connection failure, timeout, or an unreadable response. */
export class KubeRequestError extends Error {
  override readonly name = "KubeRequestError";
  readonly method: string;
  readonly path: string;
  constructor(message: string, method: string, path: string, options?: { cause?: unknown }) {
    super(`${method} ${path}: ${message}`, options);
    this.method = method;
    this.path = path;
  }
}

function parseStatus(body: string): KubeStatus | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = statusSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

// The constructor derives a reason from the HTTP code when the body has none, so the reason alone decides.
const hasReason =
  (reason: StatusReason) =>
  (e: unknown): e is KubeApiError =>
    e instanceof KubeApiError && e.reason === reason;

export const isNotFound = hasReason(StatusReason.NotFound);
/** 409 Conflict: a stale resourceVersion (optimistic concurrency); AlreadyExists is also 409 but not this. */
export const isConflict = hasReason(StatusReason.Conflict);
export const isAlreadyExists = hasReason(StatusReason.AlreadyExists);
export const isInvalid = hasReason(StatusReason.Invalid);
export const isForbidden = hasReason(StatusReason.Forbidden);
export const isUnauthorized = hasReason(StatusReason.Unauthorized);
export const isTooManyRequests = hasReason(StatusReason.TooManyRequests);
/** 410: the resourceVersion (or continue token) is too old; relist. */
export const isGone = (e: unknown): e is KubeApiError =>
  e instanceof KubeApiError &&
  (e.statusCode === 410 || e.reason === StatusReason.Expired || e.reason === StatusReason.Gone);
