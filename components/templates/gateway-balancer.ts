// One gateway URL for a whole cluster: a small HTTP balancer in front of every
// Kubo node's gateway, which skips a node that is stopped or not answering.
//
// Active health checks: one checker process per node fetches the empty
// identity CID (/ipfs/bafkqaaa, served by a node without any network) every
// second and touches /tmp/gateway-health/<node> when it answers 200. A request
// goes to the nodes whose mark is fresh (younger than 3 s), in turn, and only
// then to the others. Passive failover: a node that refuses the connection or
// closes it before answering is skipped and the request goes to the next one
// (the gateway serves only GET, HEAD and OPTIONS, which are safe to repeat).
//
// Why a Perl script: Perl is in the PostgreSQL image (official and local),
// the only image of the catalogue with an interpreter that can serve HTTP; no
// nginx or HAProxy image can be pulled here, and building one more image for a
// relay of a few lines is not worth it (the same reasoning as metrics-proxy.ts).
// One process per connection (fork), one request per connection: the answer
// says `Connection: close`.
import type { ServiceSpec } from "../model/system.js";
import { healthCheck } from "./template.js";

export const gatewayBalancerFile = "gateway-balancer.pl";
export const gatewayBalancerPort = 8080;

export const gatewayBalancerScript = String.raw`#!/usr/bin/perl
# serve <port> <node>=<host:port>...  |  check <port>
use strict;
use warnings;
use IO::Socket::INET;

my ($mode, $listen, @routes) = @ARGV;

# The answer's status line of a HEAD of the empty identity CID, or undef.
sub probe {
  my ($address) = @_;
  my $status;
  eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 2;
    my $s = IO::Socket::INET->new(PeerAddr => $address, Timeout => 2) or die "connect\n";
    # Not "localhost": Kubo redirects that name to its subdomain gateway.
    print $s "HEAD /ipfs/bafkqaaa HTTP/1.0\r\nHost: $address\r\n\r\n";
    $status = <$s>;
    alarm 0;
  };
  alarm 0;
  return $status;
}

if ($mode eq 'check') {
  my $status = probe("127.0.0.1:$listen") // '';
  exit($status =~ m{^HTTP/1\.\d 200} ? 0 : 1);
}

my @nodes = map { [split /=/, $_, 2] } @routes;
my $marks = "/tmp/gateway-health";
mkdir $marks;
my @checkers;
$SIG{CHLD} = 'IGNORE';
# PID 1 of its container: without handlers SIGTERM is ignored and every stop waits for the kill timeout.
$SIG{TERM} = $SIG{INT} = sub { kill 'TERM', @checkers; exit 0 };
$| = 1;

for my $node (@nodes) {
  my ($name, $address) = @$node;
  my $pid = fork;
  die "fork: $!\n" unless defined $pid;
  if ($pid) { push @checkers, $pid; next; }
  $SIG{TERM} = sub { exit 0 };
  while (1) {
    my $status = probe($address) // '';
    if ($status =~ m{^HTTP/1\.\d 200}) {
      if (open(my $f, '>', "$marks/$name.tmp")) { close $f; rename "$marks/$name.tmp", "$marks/$name"; }
    } else {
      unlink "$marks/$name";
    }
    sleep 1;
  }
}

my $server = IO::Socket::INET->new(LocalAddr => "0.0.0.0:$listen", Listen => 64, ReuseAddr => 1) or die "listen on $listen: $!\n";
print "gateway balancer on :$listen for ", join(", ", map { $_->[0] } @nodes), "\n";
my $turn = 0;
while (1) {
  my $client = $server->accept or next;
  $turn++;
  my $pid = fork;
  if (!defined $pid || $pid) { close $client; next; }
  close $server;
  $SIG{TERM} = 'DEFAULT';
  handle($client, $turn);
  exit 0;
}

sub reply {
  my ($client, $status, $text) = @_;
  print $client "HTTP/1.1 $status\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n$text\n";
}

sub handle {
  my ($client, $turn) = @_;
  alarm 30;
  my $line = <$client> // return;
  my @headers;
  while (my $header = <$client>) {
    last if $header =~ /^\r?\n$/;
    push @headers, $header unless $header =~ /^(connection|keep-alive|proxy-connection|te|upgrade)\s*:/i;
    return reply($client, "431 Request Header Fields Too Large", "too many headers") if @headers > 100;
  }
  my ($method) = $line =~ m{^(\S+) \S+ HTTP/1\.[01]\r?\n$};
  return reply($client, "400 Bad Request", "bad request line") unless defined $method;
  return reply($client, "405 Method Not Allowed", "the gateway serves GET, HEAD and OPTIONS") unless $method =~ /^(GET|HEAD|OPTIONS)$/;
  my $request = $line . join('', @headers) . "Connection: close\r\n\r\n";

  my $now = time;
  my @fresh = grep { my @s = stat "$marks/$_->[0]"; @s && $now - $s[9] < 3 } @nodes;
  my %isFresh = map { $_->[0] => 1 } @fresh;
  my @rest = grep { !$isFresh{$_->[0]} } @nodes;
  my $start = @fresh ? $turn % @fresh : 0;
  my @order = (@fresh[$start .. $#fresh], @fresh[0 .. $start - 1], @rest);
  for my $node (@order) {
    my ($name, $address) = @$node;
    my ($up, $first);
    eval {
      local $SIG{ALRM} = sub { die "timeout\n" };
      alarm($isFresh{$name} ? 60 : 5);
      $up = IO::Socket::INET->new(PeerAddr => $address, Timeout => 2) or die "connect\n";
      print $up $request;
      sysread($up, $first, 65536) or die "closed\n";
      alarm 0;
    };
    alarm 0;
    next unless defined $first && length $first;
    # Answered: relay it all; a stalled node may take a minute per read.
    print $client $first;
    my $buffer;
    while (1) {
      alarm 60;
      my $n = sysread($up, $buffer, 65536);
      last unless $n;
      print $client $buffer or last;
    }
    return;
  }
  reply($client, "502 Bad Gateway", "no IPFS node answers");
}
`;

export interface GatewayBalancerOptions {
  /** An image with /usr/bin/perl (the PostgreSQL image). */
  image: string;
  /** Node name → host:port of its gateway on the system's network. */
  upstreams: Record<string, string>;
  hostPort: number;
  publishIp: string;
}

export function gatewayBalancerService(options: GatewayBalancerOptions): ServiceSpec {
  const script = `/etc/provisioner/${gatewayBalancerFile}`;
  return {
    image: options.image,
    entrypoint: ["perl", script],
    command: ["serve", String(gatewayBalancerPort), ...Object.entries(options.upstreams).map(([node, address]) => `${node}=${address}`)],
    mounts: [{ source: `file:${gatewayBalancerFile}`, target: script, readOnly: true }],
    ports: [{ host: options.hostPort, container: gatewayBalancerPort, hostIp: options.publishIp }],
    // Healthy once a request through it reaches a node.
    // Every second, like the cluster peers': it is healthy as soon as one node's gateway answers.
    healthCheck: { ...healthCheck(["CMD", "perl", script, "check", String(gatewayBalancerPort)]), intervalSeconds: 1, retries: 60 },
    limits: { cpus: 0.2, memoryMb: 64 },
    hostOverhead: true,
    restart: "unless-stopped",
    user: "65534:65534",
  };
}
