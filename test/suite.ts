// A deployment per describe block, for the end-to-end tests.
import { afterAll, beforeAll, expect } from "vitest";
import type { TemplateSystemArgs } from "../components/template-system.js";
import { leftovers, testDeployment, type TestDeployment, type TestRequest } from "./deployment.js";
import { containersOf, existingVolumes, sampleProcesses, volumesMountedBy } from "./hardening.js";

export interface SuiteDeployment {
  deployment: TestDeployment;
  endpoint: Record<string, string>;
  credentials: Record<string, string>;
  /** Every command line the host's `ps` showed while the deployment came up. */
  processLines: Set<string>;
}

/**
 * A deployment shared by a describe block: up before its tests (the host's
 * processes sampled meanwhile), destroyed after them, and then nothing with
 * its label, and no volume its containers mounted, may remain in Docker.
 */
export function deployForSuite(request: TestRequest, overrides: Partial<TemplateSystemArgs> = {}): SuiteDeployment {
  const suite = {} as SuiteDeployment;
  beforeAll(async () => {
    suite.deployment = await testDeployment(request, overrides);
    const sampler = sampleProcesses();
    try {
      Object.assign(suite, await suite.deployment.up());
      // Health checks keep running every 2 s: a few more rounds of them.
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    } finally {
      suite.processLines = await sampler.stop();
    }
  }, 400_000);
  afterAll(async () => {
    if (!suite.deployment) return;
    // Anonymous volumes carry no label: what the containers mount is noted first.
    const mounted = volumesMountedBy(await containersOf(suite.deployment.project));
    await suite.deployment.destroy();
    expect(await leftovers(suite.deployment.project)).toEqual([]);
    expect(await existingVolumes(mounted)).toEqual([]);
  }, 180_000);
  return suite;
}

export const basicAuth = (credentials: Record<string, string>) =>
  `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
