// Where a webhook may send (issue 12). Teams do not trust each other, and the
// service sits inside the operator's network: a webhook to 10.0.0.5 or
// 169.254.169.254 would make the service a probe of that network (SSRF). By
// default only public unicast addresses are reached; private, loopback,
// link-local, unique-local, carrier-grade NAT, multicast and reserved ranges,
// and IPv6 forms that embed an IPv4 address, are refused.
// WEBHOOK_ALLOW_PRIVATE_DESTINATIONS=true lifts it (a single-tenant service, the tests).
// The check runs twice: on the URL at create (an address literal, `localhost`),
// and on every address the name resolves to at each delivery, on the very
// address connected to (lookup below), so a name that changes to a private
// address later (DNS rebinding) is refused too.
import dns from "node:dns";
import type { LookupFunction } from "node:net";
import net from "node:net";
import ipaddr from "ipaddr.js";

/** Why an address may not be reached (its range), or undefined when it may. */
export function refusedRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return "not an IP address";
  const range = ipaddr.process(address).range();
  return range === "unicast" ? undefined : range;
}

export class DestinationRefused extends Error {
  constructor(host: string, address: string, range: string) {
    super(`destination refused: ${host === address ? address : `${host} resolves to ${address}`}, a ${range} address`);
    this.name = "DestinationRefused";
  }
}

/** Why a URL's host may not be a webhook's destination, known without resolving it (a literal address or a localhost name). */
export function refusedHost(hostname: string): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return "a loopback name";
  if (!net.isIP(host)) return undefined;
  const range = refusedRange(host);
  return range && `a ${range} address`;
}

/**
 * A `lookup` for http.request that resolves as usual, then refuses the
 * connection if any address of the name is refused: the socket connects only
 * to an address that was checked.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, "", 0);
    const list = addresses;
    for (const { address } of list) {
      const range = refusedRange(address);
      if (range) return callback(new DestinationRefused(hostname, address, range), "", 0);
    }
    if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    const first = list[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 0);
    callback(null, first.address, first.family);
  });
};
