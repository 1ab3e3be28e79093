// The service's logger: credentials in request headers never reach the log.
// A person at a terminal reads lines (pino-pretty); anything else (a file, a
// log collector, LOG_FORMAT=json) gets one JSON object per line.
import { pino, type DestinationStream, type Logger } from "pino";
import { PinoPretty } from "pino-pretty";

export const redactedPaths = ["req.headers.authorization", "req.headers.cookie", 'res.headers["set-cookie"]'];

export const logFormats = ["json", "pretty"] as const;
export type LogFormat = (typeof logFormats)[number];

/** LOG_FORMAT if set, else pretty on a terminal, JSON otherwise. */
export function logFormatFor(env: NodeJS.ProcessEnv, stdoutIsTty: boolean): LogFormat {
  const chosen = env.LOG_FORMAT;
  if (chosen === "json" || chosen === "pretty") return chosen;
  return stdoutIsTty ? "pretty" : "json";
}

export function createLogger(
  level: string,
  destination?: DestinationStream,
  format: LogFormat = logFormatFor(process.env, process.stdout.isTTY === true),
): Logger {
  const options = { level, redact: { paths: redactedPaths, censor: "[redacted]" } };
  if (format === "json") return pino(options, destination);
  // In this process, synchronously: a worker-thread transport would lose the last lines of a crash.
  const pretty = PinoPretty({
    destination: destination ?? 1,
    sync: true,
    colorize: destination === undefined && process.stdout.isTTY === true,
    translateTime: "SYS:HH:MM:ss.l",
    // One line per request (its message says method, path, status, time); the
    // request and response objects stay in the JSON format for those who need them.
    ignore: "pid,hostname,req,res,responseTime",
  });
  return pino(options, pretty);
}
