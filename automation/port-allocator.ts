// Host ports for a resource's published services. The database's primary key
// (host, port) makes an allocation unique even with several service instances;
// ports something else on the host listens on are skipped.
import net from "node:net";
import type { Database } from "../core/db.js";
import { allocatePorts, defaultPortRange, TemplateInputError } from "../components/templates/request.js";

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
  });
}

const uniqueViolation = (error: unknown) => (error as { code?: string }).code === "P2002";

export class PortAllocator {
  constructor(
    private readonly db: Database,
    /** Which Docker host the ports are on. */
    private readonly host: string,
    /** A remote host's ports cannot be probed from here: only the table counts. */
    private readonly options: { remote?: boolean } = {},
  ) {}

  /** The resource's ports by name: existing ones kept, missing ones allocated. */
  async ensure(resourceId: string, names: readonly string[]): Promise<Record<string, number>> {
    // Ports something outside the service listens on: skipped, not recorded.
    const outsiders = new Set<number>();
    for (let attempt = 0; attempt < 20; attempt++) {
      const held = await this.db.portAllocation.findMany({ where: { resourceId, host: this.host } });
      const ports: Record<string, number> = Object.fromEntries(held.map((p) => [p.name, p.port]));
      const missing = names.filter((name) => ports[name] === undefined);
      if (missing.length === 0) return ports;
      const taken = new Set(outsiders);
      for (const p of await this.db.portAllocation.findMany({ where: { host: this.host }, select: { port: true } })) taken.add(p.port);
      const candidate = allocatePorts(missing, taken, defaultPortRange);
      let busy = false;
      for (const port of Object.values(candidate)) {
        if (!this.options.remote && !(await portIsFree(port))) {
          outsiders.add(port);
          busy = true;
        }
      }
      if (busy) continue;
      try {
        await this.db.portAllocation.createMany({
          data: missing.map((name) => ({ host: this.host, port: candidate[name]!, resourceId, name })),
        });
      } catch (error) {
        if (uniqueViolation(error)) continue; // another instance took one of them first
        throw error;
      }
    }
    throw new TemplateInputError("ports", "could not allocate host ports: too much contention");
  }

  /** Frees the ports whose names are not in `keep` (all of them by default). */
  async release(resourceId: string, keep: readonly string[] = []): Promise<void> {
    await this.db.portAllocation.deleteMany({ where: { resourceId, host: this.host, name: { notIn: [...keep] } } });
  }
}
