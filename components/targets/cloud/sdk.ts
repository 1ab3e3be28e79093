// The cloud SDKs, loaded on first use. Together they take about 0.8 s and
// 120 MB to load, which a service deploying only on Docker hosts should not
// pay at start. The proxies stand for the modules themselves.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

function lazyModule<T extends object>(id: string): T {
  let loaded: T | undefined;
  return new Proxy({} as T, { get: (_target, key) => (loaded ??= require(id) as T)[key as keyof T] });
}

export const aws = lazyModule<typeof import("@pulumi/aws")>("@pulumi/aws");
export const digitalocean = lazyModule<typeof import("@pulumi/digitalocean")>("@pulumi/digitalocean");
export const hcloud = lazyModule<typeof import("@pulumi/hcloud")>("@pulumi/hcloud");
