// The service's logger: credentials in request headers never reach the log.
import { pino, type DestinationStream, type Logger } from "pino";

export const redactedPaths = ["req.headers.authorization", "req.headers.cookie", 'res.headers["set-cookie"]'];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: redactedPaths, censor: "[redacted]" } }, destination);
}
