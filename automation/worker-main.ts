// Entry of the operation worker process (see worker-process.ts).
import { loadConfig } from "../core/config.js";
import { createDatabase } from "../core/db.js";
import { createLogger } from "../core/logger.js";
import { createWorker } from "./worker.js";
import type { WorkerMessage } from "./worker-process.js";

const logger = createLogger(process.env.LOG_LEVEL ?? "info").child({ role: "worker" });
const config = loadConfig();
logger.level = config.logLevel;
const db = createDatabase(config.databaseUrl);
const report = (message: WorkerMessage) => process.send?.(message);
const handle = await createWorker(config, db, logger, {
  started: (operation) => report({ type: "started", operation }),
  finished: (operation, result, seconds) => report({ type: "finished", operation, result, seconds }),
});
handle.worker.start();

let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  void handle
    .stop()
    .then(() => db.$disconnect())
    .then(() => process.exit(0));
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
// The service went away: finish what runs, then go too. It may have gone
// while the worker was still starting, before this listener existed.
process.once("disconnect", shutdown);
if (process.send && !process.connected) shutdown();
