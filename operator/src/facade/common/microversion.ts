// API microversions (Nova 2.x, Cinder 3.x): parsing the request headers, negotiating against what we implement
// faithfully, and the headers every response echoes. No header means the minimum (2.1 / 3.0) semantics.
import type { IncomingHttpHeaders } from "node:http";
import { ApiError } from "./errors.js";

export interface Microversion {
  readonly major: number;
  readonly minor: number;
}

export interface MicroversionSpec {
  /** The service type in `OpenStack-API-Version: <type> X.Y`. */
  serviceType: "compute" | "volume" | "container";
  /** The pre-standard header the service also reads and echoes (Nova's X-OpenStack-Nova-API-Version). */
  legacyHeader?: string;
  min: Microversion;
  max: Microversion;
}

const VERSION_PATTERN = /^([1-9]\d*)\.(0|[1-9]\d*)$/;

export function parseMicroversion(text: string): Microversion | undefined {
  const match = VERSION_PATTERN.exec(text.trim());
  if (match === null) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]) };
}

export const formatMicroversion = (v: Microversion): string => `${v.major}.${v.minor}`;

export function compareMicroversions(a: Microversion, b: Microversion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/** `v` is at least `text` (e.g. atLeast(v, "2.47")). */
export function atLeast(v: Microversion, text: string): boolean {
  const other = parseMicroversion(text);
  if (other === undefined) throw new Error(`not a microversion: ${text}`);
  return compareMicroversions(v, other) >= 0;
}

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(","));
}

/** The version the client asked for, as text: `OpenStack-API-Version` wins over the legacy header. */
function requestedVersion(headers: IncomingHttpHeaders, spec: MicroversionSpec): string | undefined {
  for (const entry of headerValues(headers, "openstack-api-version")) {
    const [type, version, ...rest] = entry.trim().split(/\s+/);
    if (type?.toLowerCase() === spec.serviceType && version !== undefined && rest.length === 0) return version;
  }
  if (spec.legacyHeader !== undefined) {
    const legacy = headerValues(headers, spec.legacyHeader)[0]?.trim();
    if (legacy !== undefined && legacy !== "") return legacy;
  }
  return undefined;
}

/**
 * The version to serve the request at. Malformed → 400, outside [min, max] → 406, with the messages Nova and
 * Cinder use; `latest` is the maximum.
 */
export function negotiateMicroversion(headers: IncomingHttpHeaders, spec: MicroversionSpec): Microversion {
  const requested = requestedVersion(headers, spec);
  if (requested === undefined) return spec.min;
  if (requested.toLowerCase() === "latest") return spec.max;
  const version = parseMicroversion(requested);
  if (version === undefined) {
    throw new ApiError(
      400,
      `API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`,
    );
  }
  if (compareMicroversions(version, spec.min) < 0 || compareMicroversions(version, spec.max) > 0) {
    throw new ApiError(
      406,
      `Version ${formatMicroversion(version)} is not supported by the API. Minimum is ${formatMicroversion(spec.min)} and maximum is ${formatMicroversion(spec.max)}.`,
    );
  }
  return version;
}

/** Headers echoing the served version (both forms for Nova; Tempest checks the legacy one exactly). */
export function microversionHeaders(spec: MicroversionSpec, version: Microversion): Record<string, string> {
  const text = formatMicroversion(version);
  const headers: Record<string, string> = { "OpenStack-API-Version": `${spec.serviceType} ${text}` };
  const vary = ["OpenStack-API-Version"];
  if (spec.legacyHeader !== undefined) {
    headers[spec.legacyHeader] = text;
    vary.push(spec.legacyHeader);
  }
  headers.Vary = vary.join(", ");
  return headers;
}
