// Pure: a Flavor's Ready condition — its extra specs either make a KubeVirt domain (naming those that have
// no KubeVirt equivalent) or are invalid, with what to fix.
import { Reason, type FlavorSpec } from "../../api/index.js";
import { interpretExtraSpecs } from "./extra-specs.js";

export interface FlavorVerdict {
  status: "True" | "False";
  reason: string;
  message: string;
}

export function flavorReady(spec: FlavorSpec): FlavorVerdict {
  const verdict = interpretExtraSpecs(spec.vcpus, spec.extraSpecs);
  if (!verdict.ok) {
    return { status: "False", reason: Reason.InvalidSpec, message: `invalid extra specs: ${verdict.errors.join("; ")}` };
  }
  const { topology, dedicatedCpus, hugepagesPageSize } = verdict.domain;
  const shape = [
    `${spec.vcpus} vCPU (${topology.sockets} socket${topology.sockets === 1 ? "" : "s"} × ${topology.cores} core${topology.cores === 1 ? "" : "s"} × ${topology.threads} thread${topology.threads === 1 ? "" : "s"})`,
    `${spec.ram} MiB RAM${hugepagesPageSize === undefined ? "" : ` on ${hugepagesPageSize} hugepages`}`,
    `${spec.disk} GiB disk`,
    ...(dedicatedCpus ? ["dedicated CPUs"] : []),
  ].join(", ");
  const ignored = verdict.ignored.length === 0 ? "" : `; ignored (no KubeVirt equivalent): ${verdict.ignored.join(", ")}`;
  return { status: "True", reason: Reason.Reconciled, message: `${shape}${ignored}` };
}
