// The operator process: `npx tsx operator/src/main.ts [--kubeconfig path] [--leader-elect=false] ...`.
import { KubeClient, rootLogger, stopOnSignals } from "./kube/index.js";
import { loadOperatorConfig } from "./operator/config.js";
import { startOperator } from "./operator/operator.js";

const logger = rootLogger({ name: "operator" });
try {
  const config = loadOperatorConfig(process.argv.slice(2), process.env);
  const client =
    config.kubeconfig === undefined
      ? KubeClient.fromDefault({ logger })
      : KubeClient.fromFile(config.kubeconfig, { logger });
  const operator = await startOperator({
    client,
    logger,
    config,
    // Exit non-zero so Kubernetes restarts us as a clean standby.
    onLeadershipLost: () => {
      void operator.stop().finally(() => process.exit(1));
    },
  });
  logger.info({ identity: config.identity, opsPort: operator.opsPort }, "operator started");

  stopOnSignals(logger, () => operator.stop(), () => {
    client.close();
  });
} catch (e) {
  logger.fatal({ err: e }, "operator failed to start");
  process.exit(1);
}
