// Command pulumi-resource-command is an offline stand-in for the upstream
// pulumi-command provider plugin (github.com/pulumi/pulumi-command).
//
// Why it exists: the upstream plugin is downloaded from GitHub releases, and on
// machines that reach only the Go module proxy no version of
// github.com/pulumi/pulumi-command/provider is served, so it cannot be built
// either. This plugin implements the part of the provider's protocol that the
// @pulumi/command SDK uses for `command:local:Command` and
// `command:remote:Command` (create/update/delete commands, environment, stdin,
// dir, interpreter, triggers, SSH connection), with the upstream semantics:
//   - a change of `triggers` replaces the resource;
//   - any other change runs `update` (or `create` when `update` is empty);
//   - `delete` runs on destroy, with PULUMI_COMMAND_STDOUT/STDERR of the last run.
//
// The bootstrap installs it only when the official plugin cannot be had.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/pkg/v3/resource/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// pluginVersion must equal the version the @pulumi/command SDK requests
// (its package.json "pulumi.version"), or the engine will not pick this binary.
const pluginVersion = "1.2.1"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println(pluginVersion + " (offline-compatible build)")
		return
	}
	err := provider.Main("command", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &commandProvider{host: host}, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
