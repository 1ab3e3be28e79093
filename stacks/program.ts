// The program of the engineers' path, one template deployment per stack from
// its `provisioner:*` configuration. Two ways run it: `pulumi up` (through
// index.ts and the Node language host) and `npm run stack` (tools/stack.ts,
// inline through the Automation API); both read the same configuration.
import fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { TemplateSystem } from "../components/template-system.js";
import { argsFromConfig, type StackConfig } from "./stack-config.js";

/**
 * The secret `provisioner:kubeconfig` (the file's content), else the file named by
 * PROVISIONER_KUBECONFIG; read in the clear because the provider takes a string,
 * and handed to it as a Pulumi secret.
 */
function kubeconfigOf(config: pulumi.Config): string | undefined {
  const configured = config.get("kubeconfig");
  if (configured) return configured;
  return process.env.PROVISIONER_KUBECONFIG ? fs.readFileSync(process.env.PROVISIONER_KUBECONFIG, "utf8") : undefined;
}

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
    kubernetes: config.getObject("kubernetes"),
  };
  const qualifiedStack = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const system = new TemplateSystem(
    stackConfig.name,
    argsFromConfig(stackConfig, qualifiedStack, config.getSecret("sshPrivateKey"), kubeconfigOf(config)),
  );
  return { endpoint: system.endpoint, credentials: system.credentials };
}
