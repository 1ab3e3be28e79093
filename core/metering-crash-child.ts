// Run by core/metering.test.ts as a process of its own and killed with SIGKILL
// at a moment it does not choose: resizes one resource again and again through
// the one owner of statuses (UPDATING, then ACTIVE at the other size), as the
// worker does, printing each committed resize.
import { createDatabase } from "./db.js";
import { ResourceStatuses } from "./resource-status.js";

const [resourceId] = process.argv.slice(2);
const db = createDatabase(process.env.DATABASE_URL!);
const statuses = new ResourceStatuses(db);
for (let i = 0; ; i++) {
  const size = i % 2 === 0 ? "medium" : "small";
  await statuses.markUpdating(resourceId!);
  await statuses.markActive(resourceId!, { size });
  process.stdout.write(`resized ${size}\n`);
}
