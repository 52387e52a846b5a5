// Operator configuration, from flags and environment, validated at the edge.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { z } from "zod";

export const operatorConfigSchema = z.object({
  kubeconfig: z.string().optional(),
  leaderElection: z.boolean(),
  leaseNamespace: z.string().min(1),
  leaseName: z.string().min(1),
  identity: z.string().min(1),
  opsPort: z.int().min(0).max(65535),
  opsHost: z.string(),
  workers: z.int().min(1).max(64),
});
export type OperatorConfig = z.infer<typeof operatorConfigSchema>;

const bool = (value: string | undefined, fallback: boolean): boolean =>
  value === undefined ? fallback : !["false", "0", "no"].includes(value.toLowerCase());

export function loadOperatorConfig(argv: string[], env: Readonly<Record<string, string | undefined>>): OperatorConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: "string" },
      "leader-elect": { type: "string" },
      "lease-namespace": { type: "string" },
      "lease-name": { type: "string" },
      identity: { type: "string" },
      "ops-port": { type: "string" },
      "ops-host": { type: "string" },
      workers: { type: "string" },
    },
    strict: true,
  });
  const result = operatorConfigSchema.safeParse({
    kubeconfig: values.kubeconfig ?? env.ALTOSTACK_KUBECONFIG,
    leaderElection: bool(values["leader-elect"] ?? env.ALTOSTACK_LEADER_ELECT, true),
    leaseNamespace: values["lease-namespace"] ?? env.POD_NAMESPACE ?? "altostack-system",
    leaseName: values["lease-name"] ?? "altostack-operator",
    identity: values.identity ?? env.POD_NAME ?? `${hostname()}-${randomBytes(3).toString("hex")}`,
    opsPort: Number(values["ops-port"] ?? env.ALTOSTACK_OPS_PORT ?? 8080),
    opsHost: values["ops-host"] ?? "0.0.0.0",
    workers: Number(values.workers ?? 2),
  });
  if (!result.success) throw new Error(`invalid operator configuration: ${z.prettifyError(result.error)}`);
  return result.data;
}
