// How a resource's stack is named: part of what the API may know of the
// automation (the resource view shows the stack's name).
export const pulumiProject = "provisioner";

/** A readable, unique stack name: engineers find a resource's stack by it. */
export const stackName = (resource: { id: string; name: string; team: { name: string } }) =>
  `${resource.team.name}-${resource.name}-${resource.id.slice(0, 8)}`;
