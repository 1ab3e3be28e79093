// What the bootstrap prints: one line per decision, elapsed time on long steps.
const prefix = "[bootstrap]";

export function say(message: string): void {
  process.stdout.write(`${prefix} ${message}\n`);
}

/**
 * The same, on stderr: for what the bootstrap says after the command it ran,
 * whose stdout must end as the command left it (`npm run create-team` prints
 * the key on its last line).
 */
export function sayAfter(message: string): void {
  process.stderr.write(`${prefix} ${message}\n`);
}

export class BootstrapError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "BootstrapError";
  }
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/**
 * Runs a long step, printing a heartbeat so a first run that builds for minutes
 * does not look hung.
 */
export async function longStep<T>(label: string, work: () => Promise<T>, heartbeatMs = 30_000): Promise<T> {
  const started = Date.now();
  say(`${label}...`);
  const timer = setInterval(() => say(`  ...still working (${seconds(Date.now() - started)})`), heartbeatMs);
  try {
    const result = await work();
    say(`  done in ${seconds(Date.now() - started)}`);
    return result;
  } finally {
    clearInterval(timer);
  }
}
