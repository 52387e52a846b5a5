// The facade process: `npx tsx operator/src/facade/main.ts [--kubeconfig path] [--port 5000] [--public-url …]`.
// The bootstrap admin's password comes from ALTOSTACK_ADMIN_PASSWORD (never a flag).
import { KubeClient, rootLogger, stopOnSignals } from "../kube/index.js";
import { loadFacadeConfig } from "./config.js";
import { startFacade } from "./facade.js";

const logger = rootLogger({ name: "facade" });
try {
  const config = loadFacadeConfig(process.argv.slice(2), process.env);
  const client =
    config.kubeconfig === undefined
      ? KubeClient.fromDefault({ logger, userAgent: "altostack-facade" })
      : KubeClient.fromFile(config.kubeconfig, { logger, userAgent: "altostack-facade" });
  const facade = await startFacade({ client, logger, config });

  stopOnSignals(logger, () => facade.stop(), () => {
    client.close();
  });
} catch (e) {
  logger.fatal({ err: e }, "facade failed to start");
  process.exit(1);
}
