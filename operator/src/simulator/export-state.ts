// KubeVirt's export of a PVC, pure: what virt-controller reports on a VirtualMachineExport (phase, links to
// the export server) and how the export server's paths and token are checked. The simulator serves every
// export from one HTTPS server, so its paths carry the export's namespace and name; a real export server is
// one per export (https://virt-export-<name>.<namespace>.svc/volumes/<pvc>/disk.img).
import { timingSafeEqual } from "node:crypto";
import type { VirtualMachineExport, VirtualMachineExportStatus } from "../generated/index.js";
import type { KubeObject } from "../kube/index.js";

export type VMExport = VirtualMachineExport & KubeObject;

/** The header (or query parameter) virt-exportproxy takes the token in. */
export const EXPORT_TOKEN_HEADER = "x-kubevirt-export-token";

export const ExportFormat = { raw: "raw", gzip: "gzip" } as const;
export type ExportFormat = (typeof ExportFormat)[keyof typeof ExportFormat];

const FILE_OF_FORMAT: Record<ExportFormat, string> = { raw: "disk.img", gzip: "disk.img.gz" };

/** virt-controller's status for an export of `claim` (undefined when the PVC does not exist). */
export function exportStatus(opts: {
  exportObject: VMExport;
  claimExists: boolean;
  baseUrl: string;
  caPem: string;
  now: string;
}): NonNullable<VirtualMachineExportStatus> {
  const { exportObject } = opts;
  const namespace = exportObject.metadata.namespace ?? "";
  const name = exportObject.metadata.name ?? "";
  const source = exportObject.spec.source;
  const common = {
    ...(exportObject.spec.tokenSecretRef === undefined ? {} : { tokenSecretRef: exportObject.spec.tokenSecretRef }),
    serviceName: `virt-export-${name}`,
  };
  if (source.kind !== "PersistentVolumeClaim" || (source.apiGroup ?? "") !== "") {
    return {
      ...common,
      phase: "Pending",
      conditions: [{ type: "Ready", status: "False", reason: "UnsupportedSource", message: `the simulator exports PersistentVolumeClaims only, not ${source.kind}`, lastTransitionTime: opts.now }],
    };
  }
  if (!opts.claimExists) {
    return {
      ...common,
      phase: "Pending",
      conditions: [{ type: "Ready", status: "False", reason: "PVCNotFound", message: `pvc ${namespace}/${source.name} not found`, lastTransitionTime: opts.now }],
    };
  }
  const base = `${opts.baseUrl}/export/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/volumes/${encodeURIComponent(source.name)}`;
  return {
    ...common,
    phase: "Ready",
    links: {
      internal: {
        cert: opts.caPem,
        volumes: [{ name: source.name, formats: Object.values(ExportFormat).map((format) => ({ format, url: `${base}/${FILE_OF_FORMAT[format]}` })) }],
      },
    },
    conditions: [{ type: "Ready", status: "True", reason: "PodReady", message: "", lastTransitionTime: opts.now }],
  };
}

export interface ExportPath {
  namespace: string;
  exportName: string;
  volume: string;
  format: ExportFormat;
}

/** `/export/<namespace>/<export>/volumes/<volume>/disk.img[.gz]`, or undefined. */
export function parseExportPath(url: string): ExportPath | undefined {
  const clean = url.split("?")[0] ?? "";
  const match = /^\/export\/([^/]+)\/([^/]+)\/volumes\/([^/]+)\/(disk\.img|disk\.img\.gz)$/.exec(clean);
  if (match === null) return undefined;
  try {
    return {
      namespace: decodeURIComponent(match[1] ?? ""),
      exportName: decodeURIComponent(match[2] ?? ""),
      volume: decodeURIComponent(match[3] ?? ""),
      format: match[4] === "disk.img" ? ExportFormat.raw : ExportFormat.gzip,
    };
  } catch {
    return undefined;
  }
}

/** The token a request carries: the header, else the query parameter (as virt-exportproxy accepts both). */
export function tokenOfRequest(url: string, header: string | string[] | undefined): string | undefined {
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader !== undefined && fromHeader !== "") return fromHeader;
  const query = new URL(url, "https://export.invalid").searchParams.get(EXPORT_TOKEN_HEADER);
  return query === null || query === "" ? undefined : query;
}

/** Constant-time comparison; an export without a token secret accepts nobody. */
export function tokenMatches(expected: string | undefined, given: string | undefined): boolean {
  if (expected === undefined || expected === "" || given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
