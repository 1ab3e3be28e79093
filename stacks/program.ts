// The program of the engineers' path, one template deployment per stack from
// its `provisioner:*` configuration. Two ways run it: `pulumi up` (through
// index.ts and the Node language host) and `npm run stack` (tools/stack.ts,
// inline through the Automation API); both read the same configuration.
import * as pulumi from "@pulumi/pulumi";
import { TemplateSystem } from "../components/template-system.js";
import { argsFromConfig, type StackConfig } from "./stack-config.js";

export function templateProgram(): { endpoint: pulumi.Output<Record<string, string>>; credentials: pulumi.Output<Record<string, string>> } {
  const config = new pulumi.Config("provisioner");
  const stackConfig: StackConfig = {
    template: config.require("template"),
    name: config.require("name"),
    team: config.require("team"),
    size: config.get("size"),
    options: config.getObject("options"),
    ports: config.requireObject("ports"),
    resourceId: config.get("resourceId"),
    projectsDir: config.get("projectsDir"),
    ssh: config.getObject("ssh"),
    publicHost: config.get("publicHost"),
    hetzner: config.getObject("hetzner"),
    digitalocean: config.getObject("digitalocean"),
    aws: config.getObject("aws"),
  };
  const qualifiedStack = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const system = new TemplateSystem(stackConfig.name, argsFromConfig(stackConfig, qualifiedStack, config.getSecret("sshPrivateKey")));
  return { endpoint: system.endpoint, credentials: system.credentials };
}
