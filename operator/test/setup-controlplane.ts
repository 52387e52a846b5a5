// Vitest global setup for the "integration" project: one real control plane (etcd, kube-apiserver,
// kube-controller-manager) per test run, with our CRDs and the upstream ones installed.
//
// Env:
//   ALTOSTACK_TEST_KUBECONFIG=path   use that cluster instead of starting one
//   ALTOSTACK_TEST_SKIP_CRD_INSTALL=1 with ALTOSTACK_TEST_KUBECONFIG: do not (re)apply CRDs to it
//   ALTOSTACK_KEEP_TEST_DIR=1         keep the control plane's directory (logs, etcd data) after the run
//   ALTOSTACK_LOG_LEVEL=debug         more setup logging
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino, type Logger } from "pino";
import type { TestProject } from "vitest/node";
import { resolveToolsBinDir, startControlPlane, type ControlPlane } from "../src/devenv/controlplane.js";
import { findSharedUpstreamDir, installCrds, repoRoot, type InstallCrdsResult } from "../src/devenv/crds.js";
import { installChartRbac } from "./chart-rbac.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin kubeconfig (system:masters) of the test cluster. */
    kubeconfigPath: string;
    /** A kubectl matching the cluster's version. */
    kubectl: string;
    /** True when the real upstream CRDs (KubeVirt, CDI, ...) are installed, false with stand-ins. */
    upstreamInstalled: boolean;
    /** Names of the CRDs the setup installed (ours, upstream or stand-ins). */
    installedCrds: string[];
    /** Kubeconfigs authenticating as the chart's operator and facade ServiceAccounts (see chart-rbac.ts). */
    operatorKubeconfigPath: string;
    facadeKubeconfigPath: string;
    /** The helm binary of hack/build-tools.sh. */
    helm: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = pino({ level: process.env.ALTOSTACK_LOG_LEVEL ?? "info", name: "integration-setup" });
  const external = process.env.ALTOSTACK_TEST_KUBECONFIG;
  if (external !== undefined && external !== "") {
    return useExternalCluster(project, path.resolve(external), log);
  }

  const started = Date.now();
  const binDir = await resolveToolsBinDir();
  const kubectl = path.join(binDir, "kubectl");
  const dir = await mkdtemp(path.join(os.tmpdir(), "altostack-it-"));
  let controlPlane: ControlPlane | undefined;
  try {
    let crds: InstallCrdsResult | undefined;
    controlPlane = await startControlPlane({
      dir,
      binDir,
      withControllerManager: true,
      log,
      // Before the controller-manager, so its quota and GC controllers see our kinds from the start.
      beforeControllerManager: async (kubeconfigPath) => {
        crds = await installAllCrds(kubeconfigPath, kubectl, log);
      },
    });
    if (crds === undefined) throw new Error("startControlPlane did not run beforeControllerManager");
    provideAll(project, controlPlane.kubeconfigPath, kubectl, crds);
    await provideChartIdentities(project, controlPlane.kubeconfigPath, kubectl, path.join(binDir, "helm"), dir);
    log.info({ ms: Date.now() - started, dir }, "integration control plane ready");
  } catch (error) {
    await controlPlane?.stop();
    log.error({ dir }, "integration setup failed; the control plane's logs are kept in dir");
    throw error;
  }

  const running = controlPlane;
  return async () => {
    await running.stop();
    if (process.env.ALTOSTACK_KEEP_TEST_DIR === "1") log.info({ dir }, "kept the control plane directory");
    else await rm(dir, { recursive: true, force: true });
  };
}

async function useExternalCluster(project: TestProject, kubeconfigPath: string, log: Logger): Promise<() => Promise<void>> {
  const kubectl = process.env.KUBECTL ?? path.join(await resolveToolsBinDir(), "kubectl");
  log.info({ kubeconfigPath }, "using the cluster from ALTOSTACK_TEST_KUBECONFIG");
  let crds: InstallCrdsResult;
  if (process.env.ALTOSTACK_TEST_SKIP_CRD_INSTALL === "1") {
    const vmCrd = await kubectlJson(kubectl, kubeconfigPath, ["get", "crd", "virtualmachines.kubevirt.io", "-o", "json"]);
    const isStandIn = vmCrd !== undefined && JSON.stringify(vmCrd).includes('"altostack.io/stand-in"');
    crds = { installed: [], standIns: vmCrd === undefined || isStandIn ? ["virtualmachines.kubevirt.io"] : [] };
  } else {
    crds = await installAllCrds(kubeconfigPath, kubectl, log);
  }
  provideAll(project, kubeconfigPath, kubectl, crds);
  const identitiesDir = await mkdtemp(path.join(os.tmpdir(), "altostack-it-sa-"));
  await provideChartIdentities(project, kubeconfigPath, kubectl, process.env.HELM ?? path.join(await resolveToolsBinDir(), "helm"), identitiesDir);
  return () => rm(identitiesDir, { recursive: true, force: true });
}

async function installAllCrds(kubeconfigPath: string, kubectl: string, log: Logger): Promise<InstallCrdsResult> {
  const root = repoRoot();
  return installCrds({
    kubeconfigPath,
    kubectl,
    ourCrdsDir: path.join(root, "crds"),
    upstreamDir: findSharedUpstreamDir(root),
    log,
  });
}

function provideAll(project: TestProject, kubeconfigPath: string, kubectl: string, crds: InstallCrdsResult): void {
  project.provide("kubeconfigPath", kubeconfigPath);
  project.provide("kubectl", kubectl);
  project.provide("upstreamInstalled", crds.standIns.length === 0);
  project.provide("installedCrds", crds.installed);
}

/** The chart's RBAC applied, and kubeconfigs of its ServiceAccounts for the tests that run the operator and facade. */
async function provideChartIdentities(project: TestProject, kubeconfigPath: string, kubectl: string, helm: string, dir: string): Promise<void> {
  const identities = await installChartRbac({ kubeconfigPath, kubectl, helm, dir });
  project.provide("operatorKubeconfigPath", identities.operatorKubeconfigPath);
  project.provide("facadeKubeconfigPath", identities.facadeKubeconfigPath);
  project.provide("helm", helm);
}

function kubectlJson(kubectl: string, kubeconfigPath: string, args: string[]): Promise<unknown> {
  return new Promise((resolve) => {
    execFile(kubectl, ["--kubeconfig", kubeconfigPath, ...args], (error, stdout) => {
      resolve(error === null ? (JSON.parse(stdout) as unknown) : undefined);
    });
  });
}
