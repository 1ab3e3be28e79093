// Starts the service: configuration, database, HTTP server, clean shutdown.
import type { AddressInfo } from "node:net";
import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { createDatabase } from "./db.js";
import { createLogger } from "./logger.js";

const logger = createLogger(process.env.LOG_LEVEL ?? "info");

try {
  const config = loadConfig();
  logger.level = config.logLevel;
  const db = createDatabase(config.databaseUrl);
  const server = createApp({ db, logger }).listen(config.port, config.host);
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
  const shutdown = () => {
    logger.info("shutting down");
    server.close(() => void db.$disconnect().then(() => process.exit(0)));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
} catch (error) {
  if (error instanceof ConfigError) {
    logger.fatal(error.message);
    process.exit(1);
  }
  throw error;
}
