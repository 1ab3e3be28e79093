// Open event streams per team, in this instance: a stream holds a connection
// and a database poll for as long as the client keeps it, so a team gets a
// bounded number of them (EVENT_STREAMS_PER_TEAM).
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly perTeam: number) {}

  /** A release function, or undefined when the team has all its slots in use. */
  take(teamId: string): (() => void) | undefined {
    const used = this.open.get(teamId) ?? 0;
    if (used >= this.perTeam) return undefined;
    this.open.set(teamId, used + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(teamId) ?? 1) - 1;
      if (left > 0) this.open.set(teamId, left);
      else this.open.delete(teamId);
    };
  }

  get limit(): number {
    return this.perTeam;
  }
}
