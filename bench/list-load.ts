// The "second process" of the service benchmark: GET /v1/resources under
// load with autocannon; prints its latency figures as one JSON line.
import autocannon from "autocannon";

const [url, apiKey, seconds] = process.argv.slice(2);
const result = await autocannon({
  url: url!,
  connections: 10,
  duration: Number(seconds ?? 10),
  headers: { authorization: `Bearer ${apiKey}` },
});
process.stdout.write(
  JSON.stringify({
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    rps: result.requests.average,
    non2xx: result.non2xx,
    errors: result.errors,
  }) + "\n",
);
