// The door to a Kubo node's RPC API when that port is published (the storage
// templates).
//
// Kubo's own API.Authorizations guards /api/v0 only: /debug/pprof, /debug/vars
// and /debug/stack on the same port answer anyone (goroutine stacks, heap
// profiles, a CPU profiler anyone can keep busy), and Kubo cannot turn them off.
// So the published port is this guard, which lets through exactly:
//   - /api/v0/<command> with the resource's basic-auth credentials (else 401),
//   - GET /debug/metrics/prometheus without credentials (Prometheus' http_sd
//     cannot carry any, see api/prometheus-targets.ts),
// and answers 404 to everything else. Each client connection is one request:
// the request goes upstream with `Connection: close`, so a second request
// pipelined behind it is never read by Kubo, and the response's bytes are
// relayed as they come (uploads and streamed answers are not buffered).
//
// The guard checks the credentials itself (Kubo then needs no Authorizations:
// its CLI could only pass them in its arguments, which the host's `ps` shows).
// Kubo's port stays on the resource's private network, as in the cluster.
//
// A Perl script, like the metrics proxy: Perl is in both PostgreSQL images,
// so no extra image has to be pulled or built.
import type { ServiceSpec } from "../model/system.js";
import { kuboMetricsPath } from "./metrics-proxy.js";
import { healthCheck } from "./template.js";

export const rpcGuardFile = "kubo-rpc-guard.pl";
export const rpcGuardPort = 5001;
/** Environment variable holding the `Authorization` header value clients must send. */
const authorizationVar = "PROVISIONER_RPC_AUTHORIZATION";

/**
 * `serve <port> <upstream host:port>`: the guard. `check <port>`: an
 * authenticated /api/v0/id through the guard (its health check), exit 0 on 200.
 */
export const rpcGuardScript = `#!/usr/bin/perl
# Lets /api/v0/* (with the credentials in $${authorizationVar}) and
# GET ${kuboMetricsPath} through to a Kubo RPC API; nothing else.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

my ($mode, $port, $upstream) = @ARGV;
my $expected = $ENV{${authorizationVar}} // '';
die "${authorizationVar} is not set\\n" if $expected eq '';

if (($mode // '') eq 'check') {
  my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or exit 1;
  alarm 10;
  print $s "POST /api/v0/id HTTP/1.0\\r\\nHost: localhost\\r\\nAuthorization: $expected\\r\\nContent-Length: 0\\r\\n\\r\\n";
  my $status = <$s> // '';
  exit($status =~ m{^HTTP/1\\.[01] 200 } ? 0 : 1);
}
die "usage: $0 serve <port> <upstream host:port> | check <port>\\n" unless ($mode // '') eq 'serve' && $upstream;

$SIG{CHLD} = 'IGNORE';
$SIG{PIPE} = 'IGNORE';
# PID 1 of its container: without handlers SIGTERM is ignored and every stop waits for the kill timeout.
$SIG{TERM} = $SIG{INT} = sub { exit 0 };
$| = 1;
my $server = IO::Socket::INET->new(LocalAddr => "0.0.0.0:$port", Listen => 64, ReuseAddr => 1) or die "listen on $port: $!\\n";
print "kubo rpc guard on :$port for $upstream\\n";
while (1) {
  my $client = $server->accept or next;
  my $pid = fork;
  if (!defined $pid || $pid) { close $client; next; }
  close $server;
  handle($client);
  exit 0;
}

sub reply {
  my ($client, $status, $body, $extra) = @_;
  $extra //= '';
  syswrite $client, "HTTP/1.1 $status\\r\\nContent-Type: text/plain\\r\\nContent-Length: " . length($body) . "\\r\\nConnection: close\\r\\n$extra\\r\\n$body";
  exit 0;
}

# Equal strings, in a time that does not depend on where they differ.
sub same {
  my ($x, $y) = @_;
  return 0 unless length $x == length $y;
  my $diff = 0;
  $diff |= ord(substr $x, $_, 1) ^ ord(substr $y, $_, 1) for 0 .. length($x) - 1;
  return $diff == 0;
}

sub write_all {
  my ($fh, $data) = @_;
  while (length $data) {
    my $n = syswrite $fh, $data;
    return 0 unless $n;
    substr($data, 0, $n) = '';
  }
  return 1;
}

sub handle {
  my ($client) = @_;
  alarm 30; # to send the request head
  my $buffer = '';
  my $end;
  until (defined($end = index($buffer, "\\r\\n\\r\\n")) && $end >= 0) {
    reply($client, '431 Request Header Fields Too Large', "request head too large\\n") if length $buffer > 65536;
    my $n = sysread $client, $buffer, 16384, length $buffer;
    return unless $n;
  }
  my $head = substr $buffer, 0, $end;
  my $rest = substr $buffer, $end + 4;
  my ($line, @lines) = split /\\r\\n/, $head, -1;
  my ($method, $target, $version) = $line =~ m{^([A-Z]+) (\\S+) (HTTP/1\\.[01])$} or reply($client, '400 Bad Request', "bad request line\\n");
  my (@forward, @authorization);
  for my $header (@lines) {
    my ($name, $value) = $header =~ m{^([!#\\$%&'*+.^_\`|~0-9A-Za-z-]+):[ \\t]*(.*?)[ \\t]*$} or reply($client, '400 Bad Request', "bad header\\n");
    my $key = lc $name;
    if ($key eq 'authorization') { push @authorization, $value; next; }
    next if $key =~ /^(connection|keep-alive|proxy-connection|upgrade|te|trailer)$/;
    push @forward, "$name: $value";
  }
  my ($path) = $target =~ m{^(/[^?#]*)};
  reply($client, '404 Not Found', "not found\\n") unless defined $path && $path =~ m{^[A-Za-z0-9/_.-]+$} && $path !~ m{//|(^|/)\\.\\.?(/|$)};
  if ($path =~ m{^/api/v0/.}) {
    my $ok = @authorization == 1 && same($authorization[0], $expected);
    reply($client, '401 Unauthorized', "unauthorized\\n", "WWW-Authenticate: Basic realm=\\"kubo-rpc\\"\\r\\n") unless $ok;
  } elsif (!($path eq '${kuboMetricsPath}' && $method eq 'GET')) {
    reply($client, '404 Not Found', "only /api/v0/* and GET ${kuboMetricsPath}\\n");
  }

  my $up = IO::Socket::INET->new(PeerAddr => $upstream, Timeout => 5) or reply($client, '502 Bad Gateway', "kubo unreachable\\n");
  write_all($up, join("\\r\\n", "$method $target $version", @forward, 'Connection: close', '', '') . $rest) or return;
  alarm 0;
  # Relay both ways until Kubo has answered and closed.
  my $select = IO::Select->new($client, $up);
  while (my @ready = $select->can_read(3600)) {
    for my $fh (@ready) {
      my $n = sysread $fh, my $chunk, 65536;
      if ($fh == $up) {
        return unless $n;
        write_all($client, $chunk) or return;
      } elsif ($n) {
        write_all($up, $chunk) or return;
      } else {
        $select->remove($client);
        shutdown $up, 1; # the client has sent everything
      }
    }
  }
}
`;

export interface RpcGuardOptions {
  /** An image with /usr/bin/perl (the PostgreSQL image). */
  image: string;
  /** host:port of the Kubo RPC API on the system's network. */
  upstream: string;
  /** The Kubo service, which must be healthy first. */
  kuboService: string;
  /** The basic-auth credentials clients must present. */
  username: string;
  password: string;
  hostPort: number;
  publishIp: string;
}

export function rpcGuardService(options: RpcGuardOptions): ServiceSpec {
  const script = `/etc/provisioner/${rpcGuardFile}`;
  return {
    image: options.image,
    entrypoint: ["perl", script],
    command: ["serve", String(rpcGuardPort), options.upstream],
    environment: { [authorizationVar]: `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}` },
    mounts: [{ source: `file:${rpcGuardFile}`, target: script, readOnly: true }],
    ports: [{ host: options.hostPort, container: rpcGuardPort, hostIp: options.publishIp }],
    // Healthy once an authenticated call goes through it to Kubo.
    healthCheck: healthCheck(["CMD", "perl", script, "check", String(rpcGuardPort)]),
    dependsOn: [options.kuboService],
    limits: { cpus: 0.25, memoryMb: 128 },
    hostOverhead: true,
    restart: "unless-stopped",
    user: "65534:65534",
  };
}
