// Starts the service: configuration, database, worker, HTTP server, clean shutdown.
import type { AddressInfo } from "node:net";
import { ConfigError, loadConfig } from "../core/config.js";
import { createLogger } from "../core/logger.js";
import { createService } from "./service.js";

const logger = createLogger(process.env.LOG_LEVEL ?? "info");

try {
  const config = loadConfig();
  logger.level = config.logLevel;
  const service = await createService(config, logger, { worker: "process" });
  const server = service.app.listen(config.port, config.host);
  server.on("listening", () => {
    const { port } = server.address() as AddressInfo;
    logger.info({ port, host: config.host }, `provisioner listening on http://${config.host}:${port}`);
  });
  server.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EADDRINUSE") {
      logger.fatal(`port ${config.port} on ${config.host} is already in use: choose another with PORT=<port>`);
    } else {
      logger.fatal({ err: error }, "the HTTP server failed");
    }
    process.exit(1);
  });
  let shuttingDown = false;
  const shutdown = () => {
    if (shuttingDown) return;
    shuttingDown = true;
    // Running operations finish first: a lease left behind would be recovered, but later.
    logger.info("shutting down: waiting for running operations");
    // Requests in flight finish before the database connections close (they
    // would fail on a closed pool); event streams never finish on their own,
    // so what is still open after a grace period is cut.
    const requestsDone = new Promise((resolve) => server.close(resolve));
    const cut = setTimeout(() => server.closeAllConnections(), 5000);
    void requestsDone.then(() => (clearTimeout(cut), service.close())).then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
  // Started by `npm start` (tools/bootstrap), which stops us and then the
  // database: if it is killed outright (SIGKILL), we stop rather than keep
  // its port as an orphan.
  const parent = Number(process.env.PROVISIONER_PARENT_PID);
  if (parent) {
    const watch = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(watch);
      logger.warn(`npm start (pid ${parent}) is gone: stopping`);
      shutdown();
    }, 1000);
    watch.unref();
  }
} catch (error) {
  if (error instanceof ConfigError) {
    logger.fatal(error.message);
    process.exit(1);
  }
  throw error;
}
