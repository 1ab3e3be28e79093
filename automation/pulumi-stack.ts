// The runner's stacks on the Pulumi Automation API (a local workspace per stack).
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import type { ResourceStack, StackStore } from "./stack.js";
import { findStack, openStack } from "./workspace.js";

export function pulumiStack(stack: Stack): ResourceStack {
  return {
    name: stack.name,
    up: (run) => stack.up(run),
    preview: (run) => stack.preview(run),
    refresh: (run) => stack.refresh(run),
    destroy: (run) => stack.destroy(run),
    // Secrets stay out of what the runner reads.
    history: (pageSize, page) => stack.history(pageSize, page, false),
    cancel: () => stack.cancel(),
    exportStack: () => stack.exportStack(),
    importStack: (state) => stack.importStack(state),
    remove: () => stack.workspace.removeStack(stack.name),
  };
}

export const pulumiStacks: StackStore = {
  open: async (location, program) => pulumiStack(await openStack(location, program)),
  find: async (location, program) => {
    const found = await findStack(location, program);
    return found && pulumiStack(found);
  },
};
