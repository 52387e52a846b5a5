// The facade process: `npx tsx operator/src/facade/main.ts [--kubeconfig path] [--port 5000] [--public-url …]`.
// The bootstrap admin's password comes from ALTOSTACK_ADMIN_PASSWORD (never a flag).
import { KubeClient, rootLogger } from "../kube/index.js";
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

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    facade
      .stop()
      .then(() => {
        client.close();
        process.exit(0);
      })
      .catch((e: unknown) => {
        logger.error({ err: e }, "unclean shutdown");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => {
    shutdown("SIGTERM");
  });
  process.on("SIGINT", () => {
    shutdown("SIGINT");
  });
} catch (e) {
  logger.fatal({ err: e }, "facade failed to start");
  process.exit(1);
}
