// The Pulumi program behind Pulumi.yaml: one template deployment per stack.
import * as pulumi from "@pulumi/pulumi";
import { TemplateSystem } from "../components/template-system.js";
import { argsFromConfig, type StackConfig } from "./stack-config.js";

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
const system = new TemplateSystem(stackConfig.name, argsFromConfig(stackConfig, `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`, config.getSecret("sshPrivateKey")));

export const endpoint = system.endpoint;
export const credentials = system.credentials;
