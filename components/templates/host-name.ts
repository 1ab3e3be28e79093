// Names on a host or in a cloud (Compose project, containers, volumes,
// networks, project folder, servers, firewalls, keys, snapshots) come from the
// resource's id, never from its team or name: `team-name` concatenations
// collide across teams ("acme" + "x-z" and "acme-x" + "z"), and a collision on
// a Docker host hands one team's volume to another.
import { TemplateInputError } from "./request.js";

const resourceIdPattern = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** `r` + the id's 32 hex digits: a DNS label (33 characters) unique by construction. */
export function hostNameOf(resourceId: string): string {
  if (typeof resourceId !== "string" || !resourceIdPattern.test(resourceId)) {
    throw new TemplateInputError("resourceId", "must be a UUID (host names derive from it)");
  }
  return `r${resourceId.replaceAll("-", "").toLowerCase()}`;
}
