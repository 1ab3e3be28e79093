// Starting the service in-process on port 0, for the API tests.
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { createApp } from "./app.js";
import type { Database } from "./db.js";

export async function startTestServer(db: Database): Promise<{ base: string; close: () => Promise<void> }> {
  const server = createApp({ db, logger: pino({ level: "silent" }) }).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
