// The psql client against a provisioned Postgres, as its users connect.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export async function psql(
  endpoint: Record<string, string>,
  credentials: Record<string, string>,
  sql: string,
  options: { port?: string; password?: string } = {},
): Promise<string> {
  const args = [
    "-h",
    endpoint.host!,
    "-p",
    options.port ?? endpoint.port!,
    "-U",
    credentials.username!,
    "-d",
    endpoint.database!,
    "-v",
    "ON_ERROR_STOP=1",
    "-At",
    "-c",
    sql,
  ];
  const { stdout } = await execFileAsync("psql", args, {
    env: { ...process.env, PGPASSWORD: options.password ?? credentials.password, PGCONNECT_TIMEOUT: "10" },
  });
  return stdout.trim();
}
