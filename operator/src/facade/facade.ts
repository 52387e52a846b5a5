// Assembles the facade: caches of every kind, the identity bootstrap, the services, and the HTTP server.
// In-process for tests (`startFacade`), and as a process through main.ts.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ALL_KINDS, applicationCredentialKind, tokenRevocationKind, userKind } from "../api/index.js";
import { Builtin, CacheSet, type KubeClient, type Logger } from "../kube/index.js";
import { AccessReviewer } from "./common/caller.js";
import type { ServiceDeps } from "./common/deps.js";
import type { Service } from "./common/http.js";
import { FacadeStore } from "./common/store.js";
import type { FacadeConfig } from "./config.js";
import { ensureAdmin, ensureCloudAdminRbac, ensureNamespace, loadSigningKeys } from "./keystone/bootstrap.js";
import { IdentityService } from "./keystone/identity.js";
import { keystoneService } from "./keystone/routes.js";
import { cinderService } from "./cinder/routes.js";
import { glanceService } from "./glance/routes.js";
import { neutronService } from "./neutron/routes.js";
import { novaService } from "./nova/routes.js";
import { zunService } from "./zun/routes.js";
import { TokenSigner } from "./keystone/tokens.js";
import { createFacadeHandler } from "./server.js";
import { createConsoleProxy } from "./console/proxy.js";
import { ConsoleTokens } from "./console/tokens.js";

export interface FacadeOptions {
  client: KubeClient;
  logger: Logger;
  config: FacadeConfig;
  /** The clock tokens are issued and checked against (tests move it to expire tokens). */
  now?: () => Date;
}

export interface RunningFacade {
  /** The public base URL, e.g. http://127.0.0.1:5000. */
  url: string;
  port: number;
  identity: IdentityService;
  stop(): Promise<void>;
}

/** Every service of the facade, in one list. */
export function facadeServices(deps: ServiceDeps): Service[] {
  return [keystoneService(deps), novaService(deps), neutronService(deps), glanceService(deps), cinderService(deps), zunService(deps)];
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

export async function startFacade({ client, logger, config, now }: FacadeOptions): Promise<RunningFacade> {
  const log = logger;
  await ensureNamespace(client, config.systemNamespace);
  const signer = new TokenSigner(await loadSigningKeys(client, config.systemNamespace));
  await ensureCloudAdminRbac(client);

  const caches = new CacheSet(client, log.child({ component: "facade-cache" }));
  const store = new FacadeStore(caches);
  for (const kind of [...ALL_KINDS, userKind, applicationCredentialKind, tokenRevocationKind, Builtin.Node]) store.cache(kind);
  await caches.startAll();
  if (config.adminPassword !== undefined) {
    await ensureAdmin(client, store, { user: config.adminUser, password: config.adminPassword, project: config.adminProject }, log);
  }

  let publicUrl = config.publicUrl ?? "";
  const identity = new IdentityService({
    store,
    client,
    signer,
    tokenTtlMs: config.tokenTtlSeconds * 1000,
    adminProject: config.adminProject,
    catalog: () => ({ publicUrl, region: config.region }),
    reviewer: new AccessReviewer(),
    logger: log,
    ...(now === undefined ? {} : { now }),
  });
  const consoles = new ConsoleTokens(signer, identity);
  const deps: ServiceDeps = { store, identity, client, config, logger: log, consoles, publicUrl: () => publicUrl };
  const handler = createFacadeHandler({
    services: facadeServices(deps),
    authenticate: (token) => identity.authenticate(token),
    logger: log,
    publicUrl: () => publicUrl,
  });
  // No whole-request deadline (Node's default is 5 min): an image upload streams for as long as its bytes take.
  // Headers still have to arrive within headersTimeout.
  const server = http.createServer({ requestTimeout: 0 }, handler);
  // Remote consoles: websocket upgrades of <public-url>/console/<token>.
  const consoleProxy = createConsoleProxy({ tokens: consoles, identity, store, logger: log, fallback: handler });
  server.on("upgrade", consoleProxy.handleUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  publicUrl = config.publicUrl ?? `http://${urlHost(config.host)}:${port}`;
  void identity.forgetExpiredRevocations();
  log.info({ url: publicUrl }, "OpenStack facade listening");

  let stopped: Promise<void> | undefined;
  return {
    url: publicUrl,
    port,
    identity,
    stop: () =>
      (stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
          server.closeAllConnections();
          consoleProxy.closeAll();
        });
        await caches.stopAll();
      })()),
  };
}
