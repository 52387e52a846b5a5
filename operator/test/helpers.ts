// Shared helpers for integration tests against the real control plane started by setup-controlplane.ts.
import { inject } from "vitest";
import { Builtin, KubeClient, silentLogger, rootLogger, type KubeObject, type Logger } from "../src/kube/index.js";

export function testClient(): KubeClient {
  return KubeClient.fromFile(inject("kubeconfigPath"), { logger: silentLogger() });
}

/** A client authenticated as the Helm chart's operator ServiceAccount (its RBAC is applied by the globalSetup). */
export function operatorClient(): KubeClient {
  return KubeClient.fromFile(inject("operatorKubeconfigPath"), { logger: silentLogger() });
}

/**
 * Lets the chart's operator ServiceAccount hold leader-election Leases in `namespace` too (the chart grants them
 * in its own namespace only), for tests that elect in a namespace of their own.
 */
export async function allowOperatorLeases(namespace: string): Promise<void> {
  const name = "altostack-operator-leader-election";
  await testClient().apply(
    Builtin.RoleBinding,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name: "altostack-operator", namespace: "altostack-system" }],
    } as KubeObject,
    { fieldManager: "altostack-test" },
  );
}

/** A client authenticated as the Helm chart's facade ServiceAccount. */
export function facadeClient(): KubeClient {
  return KubeClient.fromFile(inject("facadeKubeconfigPath"), { logger: silentLogger(), userAgent: "altostack-facade" });
}

/**
 * Flags of every in-process operator the tests start. The files share one cluster and each file's
 * operator also meets what earlier files left behind, so they all run one storage configuration
 * (ReadWriteMany disks, as `make run` uses): otherwise one re-applies another's claims with another
 * access mode, which the apiserver refuses.
 */
export const TEST_OPERATOR_FLAGS: readonly string[] = ["--leader-elect=false", "--ops-port=0", "--ops-host=127.0.0.1", "--vm-disk-access-modes=ReadWriteMany"];

export function testLogger(name: string): Logger {
  return process.env.ALTOSTACK_TEST_LOGS === "1" ? rootLogger({ name, level: "debug" }) : silentLogger();
}

/**
 * Waits until `probe` returns a value (not undefined/false). Tests may poll; the operator never does.
 * On timeout the error names what was awaited and the last value seen.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function conditionOf(obj: KubeObject | undefined, type = "Ready"): { status: string; reason: string; message: string } | undefined {
  const status = (obj as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } } | undefined)
    ?.status;
  return status?.conditions?.find((c) => c.type === type);
}

/** A short random suffix so tests never collide on names. */
export function unique(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}
