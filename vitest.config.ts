import { defineConfig } from "vitest/config";

// Two tiers: pure unit tests beside their sources, and integration tests that run against a real
// kube-apiserver (started once per run by the global setup, see operator/test/setup-controlplane.ts).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["operator/src/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["operator/test/**/*.test.ts"],
          environment: "node",
          globalSetup: ["operator/test/setup-controlplane.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
    coverage: { exclude: ["operator/src/generated/**"] },
  },
});
