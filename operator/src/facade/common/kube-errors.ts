// Apiserver refusals in OpenStack terms. The apiserver is the authority (RBAC, quota, CEL validation); this
// only translates its answer so the client gets the status code and fault its service would send.
import { KubeApiError, KubeRequestError } from "../../kube/index.js";
import { ApiError, type FaultStyle } from "./errors.js";

/** What the request was doing, for messages: e.g. `create server` or `delete network net1`. */
export interface FailedAction {
  /** Policy-style name, e.g. `os_compute_api:servers:create`. */
  policy: string;
  /** Human description, e.g. `server web1`. */
  subject: string;
}

const QUOTA_MESSAGE = /exceeded quota: [^,]+, requested: ([^,]+), used: ([^,]+), limited: (.+)$/;

/** Kubernetes validation causes joined into one sentence a user can act on. */
function validationMessage(e: KubeApiError): string {
  const causes = e.details?.causes ?? [];
  const parts = causes
    .map((c) => [c.field, c.message].filter((s) => s !== undefined && s !== "").join(": "))
    .filter((s) => s !== "");
  return parts.length > 0 ? parts.join("; ") : e.message;
}

/** The ApiError to answer a failed Kubernetes call with. Non-Kubernetes errors are rethrown unchanged. */
export function fromKubeError(e: unknown, style: FaultStyle, action: FailedAction): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof KubeRequestError) {
    return new ApiError(503, "The backing Kubernetes API is unreachable; retry later.", { cause: e });
  }
  if (!(e instanceof KubeApiError)) throw e;
  const quota = e.statusCode === 403 ? QUOTA_MESSAGE.exec(e.message) : null;
  if (quota !== null) {
    const message = `Quota exceeded for ${action.subject}: requested ${quota[1] ?? "?"}, already used ${quota[2] ?? "?"} of ${quota[3] ?? "?"}.`;
    // Nova answers quota failures 403, Neutron 409 OverQuota, Cinder 413.
    if (style === "neutron") return new ApiError(409, message, { neutronType: "OverQuota", cause: e });
    if (style === "cinder") return new ApiError(413, message, { cause: e });
    return new ApiError(403, message, { cause: e });
  }
  switch (e.statusCode) {
    case 400:
      return new ApiError(400, e.message, { cause: e });
    case 401:
    case 403:
      return new ApiError(403, `Policy doesn't allow ${action.policy} to be performed.`, {
        neutronType: "PolicyNotAuthorized",
        cause: e,
      });
    case 404:
      return new ApiError(404, `${action.subject} could not be found.`, { cause: e });
    case 409:
      return e.reason === "AlreadyExists"
        ? new ApiError(409, `${action.subject} already exists.`, { cause: e })
        : new ApiError(409, `${action.subject} was changed concurrently; retry the request.`, { cause: e });
    case 422:
      return new ApiError(400, `Invalid ${action.subject}: ${validationMessage(e)}`, { cause: e });
    case 429:
      return new ApiError(429, "Too many requests; retry later.", { cause: e });
    default:
      return new ApiError(503, "The backing Kubernetes API failed; retry later.", { cause: e });
  }
}
