// A metrics-only door to Kubo nodes whose RPC API must stay private.
//
// Prometheus scrapes Kubo at /debug/metrics/prometheus on the RPC API port
// (5001). In ipfs-cluster-small that port is not published: it carries the
// whole, unauthenticated RPC API (admin commands), which the cluster peers use
// and whose client (ipfs-cluster's ipfshttp connector) cannot authenticate.
// So one small sidecar per resource forwards exactly one path per node and
// nothing else. http_sd cannot carry credentials, so the door has none; what
// it serves is the node's metrics, nothing more.
//
// The proxy is a Perl script: Perl is in the PostgreSQL image (official and
// local), the only image of the catalogue with an interpreter that can serve
// HTTP; no extra image has to be pulled or built.
import type { ServiceSpec } from "../model/system.js";

export const metricsProxyFile = "metrics-proxy.pl";
export const metricsProxyPort = 9401;
export const kuboMetricsPath = "/debug/metrics/prometheus";

/** GET /<node>/debug/metrics/prometheus → http://<upstream>/debug/metrics/prometheus; anything else 404. */
export const metricsProxyScript = `#!/usr/bin/perl
# Forwards GET /<node>${kuboMetricsPath} to that node, and nothing else.
use strict;
use warnings;
use IO::Socket::INET;

my ($listen, @routes) = @ARGV;
my %upstream = map { split /=/, $_, 2 } @routes;
$SIG{CHLD} = 'IGNORE';
# PID 1 of its container: without handlers SIGTERM is ignored and every stop waits for the kill timeout.
$SIG{TERM} = $SIG{INT} = sub { exit 0 };
$| = 1;
my $server = IO::Socket::INET->new(LocalAddr => "0.0.0.0:$listen", Listen => 32, ReuseAddr => 1) or die "listen on $listen: $!\\n";
print "metrics proxy on :$listen for ", join(", ", sort keys %upstream), "\\n";
while (1) {
  my $client = $server->accept or next;
  my $pid = fork;
  if (!defined $pid || $pid) { close $client; next; }
  close $server;
  alarm 20;
  my $line = <$client> // exit 0;
  while (my $header = <$client>) { last if $header =~ /^\\r?\\n$/; }
  my ($method, $path) = $line =~ m{^(\\S+) (\\S+)};
  my ($node) = ($path // '') =~ m{^/([a-z0-9-]+)${kuboMetricsPath}(?:\\?.*)?$};
  if (($method // '') ne 'GET' || !defined $node || !exists $upstream{$node}) {
    print $client "HTTP/1.0 404 Not Found\\r\\nContent-Type: text/plain\\r\\n\\r\\nonly GET /<node>${kuboMetricsPath}\\n";
    exit 0;
  }
  my $up = IO::Socket::INET->new(PeerAddr => $upstream{$node}, Timeout => 5);
  if (!$up) {
    print $client "HTTP/1.0 502 Bad Gateway\\r\\nContent-Type: text/plain\\r\\n\\r\\n$node unreachable: $@\\n";
    exit 0;
  }
  print $up "GET ${kuboMetricsPath} HTTP/1.0\\r\\nHost: $upstream{$node}\\r\\n\\r\\n";
  my $buffer;
  print $client $buffer while read($up, $buffer, 65536);
  exit 0;
}
`;

export interface MetricsProxyOptions {
  /** An image with /usr/bin/perl (the PostgreSQL image). */
  image: string;
  /** Node name → host:port of its RPC API on the system's network. */
  upstreams: Record<string, string>;
  hostPort: number;
  publishIp: string;
}

export function metricsProxyService(options: MetricsProxyOptions): ServiceSpec {
  return {
    image: options.image,
    entrypoint: ["perl", `/etc/provisioner/${metricsProxyFile}`],
    command: [String(metricsProxyPort), ...Object.entries(options.upstreams).map(([node, address]) => `${node}=${address}`)],
    mounts: [{ source: `file:${metricsProxyFile}`, target: `/etc/provisioner/${metricsProxyFile}`, readOnly: true }],
    ports: [{ host: options.hostPort, container: metricsProxyPort, hostIp: options.publishIp }],
    limits: { cpus: 0.1, memoryMb: 64 },
    hostOverhead: true,
    restart: "unless-stopped",
    user: "65534:65534",
  };
}
