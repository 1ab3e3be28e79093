// A deployment per describe block, for the end-to-end tests.
import { afterAll, beforeAll, expect } from "vitest";
import type { TemplateSystemArgs } from "../components/template-system.js";
import { leftovers, testDeployment, type TestDeployment, type TestRequest } from "./deployment.js";

export interface SuiteDeployment {
  deployment: TestDeployment;
  endpoint: Record<string, string>;
  credentials: Record<string, string>;
}

/**
 * A deployment shared by a describe block: up before its tests, destroyed
 * after them, and then nothing with its label may remain in Docker.
 */
export function deployForSuite(request: TestRequest, overrides: Partial<TemplateSystemArgs> = {}): SuiteDeployment {
  const suite = {} as SuiteDeployment;
  beforeAll(async () => {
    suite.deployment = await testDeployment(request, overrides);
    Object.assign(suite, await suite.deployment.up());
  }, 400_000);
  afterAll(async () => {
    if (!suite.deployment) return;
    await suite.deployment.destroy();
    expect(await leftovers(suite.deployment.project)).toEqual([]);
  }, 180_000);
  return suite;
}

export const basicAuth = (credentials: Record<string, string>) =>
  `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
