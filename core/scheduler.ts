// One scheduler for periodic work (health rounds, and later backup checks,
// webhook retries, usage reports): every service instance runs one, and each
// job runs once per period across all of them. A job is a row of `jobs`; an
// instance runs it only if it claims the row in one conditional UPDATE (nobody
// is running it, and the last run ended at least an interval ago), so two
// instances never both win a period and runs never overlap. A run whose
// instance died holds the job until its claim expires.
import crypto from "node:crypto";
import os from "node:os";
import type { Logger } from "pino";
import type { Database } from "./db.js";
import { errorMessage } from "./error-message.js";

export interface JobSettings {
  /** Between the end of one run and the start of the next. */
  intervalSeconds: number;
  /** How long a run may hold the job before another instance may take it over (an instance that died mid-run). */
  claimSeconds?: number;
  /** How often this instance asks whether the job is due; default a quarter of the interval. */
  pollSeconds?: number;
}

export class ScheduledJob {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = true;

  constructor(
    private readonly db: Database,
    private readonly owner: string,
    private readonly logger: Logger,
    readonly name: string,
    private readonly settings: JobSettings,
    private readonly run: () => Promise<void>,
  ) {}

  start(): void {
    if (!this.stopped || this.settings.intervalSeconds <= 0) return;
    this.stopped = false;
    const poll = Math.max(0.2, this.settings.pollSeconds ?? this.settings.intervalSeconds / 4) * 1000;
    const tick = () => {
      this.running = this.runIfDue()
        .catch((error: unknown) => this.logger.error({ err: error, job: this.name }, "scheduled job failed"))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, poll);
        });
    };
    // The first attempt waits an interval, as it did when each instance kept its own timer.
    this.timer = setTimeout(tick, this.settings.intervalSeconds * 1000);
  }

  /** Waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Runs the job if it is due and this instance wins the period; returns whether it ran. */
  async runIfDue(): Promise<boolean> {
    await this.db.$executeRaw`INSERT INTO jobs (name) VALUES (${this.name}) ON CONFLICT (name) DO NOTHING`;
    const claimSeconds = this.settings.claimSeconds ?? Math.max(60, 4 * this.settings.intervalSeconds);
    // Each instance judges "due" by its own interval: a restart with another interval takes effect at once.
    const claimed = await this.db.$executeRaw`
      UPDATE jobs SET running_by = ${this.owner}, running_until = now() + make_interval(secs => ${claimSeconds}::double precision), last_started_at = now()
      WHERE name = ${this.name} AND (running_until IS NULL OR running_until < now())
        AND (last_finished_at IS NULL OR last_finished_at <= now() - make_interval(secs => ${this.settings.intervalSeconds}::double precision))`;
    if (claimed === 0) return false;
    let failure: string | null = null;
    try {
      await this.run();
    } catch (error) {
      failure = errorMessage(error);
      throw error;
    } finally {
      await this.db.$executeRaw`
        UPDATE jobs SET running_by = NULL, running_until = NULL, last_finished_at = now(), last_error = ${failure}
        WHERE name = ${this.name} AND running_by = ${this.owner}`;
    }
    return true;
  }
}

export class Scheduler {
  private readonly jobs: ScheduledJob[] = [];
  /** This instance, as the jobs table names it. */
  readonly owner = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString("hex")}`;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /** Declares a job; it runs once started. An interval of 0 turns it off. */
  every(name: string, settings: JobSettings, run: () => Promise<void>): ScheduledJob {
    const job = new ScheduledJob(this.db, this.owner, this.logger, name, settings, run);
    this.jobs.push(job);
    return job;
  }

  start(): void {
    for (const job of this.jobs) job.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.jobs.map((job) => job.stop()));
  }
}
