// Starting the whole service in-process on port 0, for the API tests: the
// real database (DATABASE_URL from `npm test`), a Pulumi backend in a temp dir.
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pino, type Logger } from "pino";
import { loadConfig, type Config } from "../core/config.js";
import { generateKeyringSpec } from "../core/credentials-cipher.js";
import { createService, type Service } from "../api/service.js";
import { createDatabase } from "../core/db.js";
import { discardUnfinishedOperations } from "./service-client.js";

export interface TestServer {
  base: string;
  service: Service;
  config: Config;
  close(): Promise<void>;
}

/**
 * `worker: "process"` runs operations as production does (api/main.ts): in a
 * worker process of its own, configured by the same environment as this server.
 */
export async function startTestServer(
  overrides: NodeJS.ProcessEnv = {},
  {
    logger = pino({ level: "silent" }),
    runWorker = true,
    worker = "in-process",
    deliverWebhooks = runWorker,
  }: { logger?: Logger; runWorker?: boolean; worker?: "in-process" | "process"; deliverWebhooks?: boolean } = {},
): Promise<TestServer> {
  // The Pulumi state apart from the Docker host's project files (which hold the running systems' configuration).
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "provisioner-service-"));
  const stateDir = path.join(root, "state");
  fs.mkdirSync(stateDir);
  const env: NodeJS.ProcessEnv = {
    PULUMI_CONFIG_PASSPHRASE: "test-passphrase-0123456789",
    PROVISIONER_CREDENTIALS_KEYS: generateKeyringSpec("test"),
    PROVISIONER_PUBLISH_IP: "127.0.0.1",
    OPERATION_LEASE_SECONDS: "6",
    // The worker process logs to the test's output: its warnings and errors only.
    LOG_LEVEL: "warn",
    ...process.env,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PROVISIONER_PROJECTS_DIR: path.join(root, "projects"),
    PROVISIONER_BACKUPS_DIR: path.join(root, "backups"),
    ...overrides,
  };
  const config = loadConfig(env);
  // An interrupted earlier run's operations (the run's database persists)
  // would otherwise run in this server's worker (now or started later by the
  // test), in this server's projects folder, and outlive it.
  const db = createDatabase(process.env.DATABASE_URL!);
  try {
    await discardUnfinishedOperations(db);
  } finally {
    await db.$disconnect();
  }
  const service = await createService(config, logger, { runWorker, worker, deliverWebhooks, workerEnv: env });
  const server = service.app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    service,
    config,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
      await service.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
