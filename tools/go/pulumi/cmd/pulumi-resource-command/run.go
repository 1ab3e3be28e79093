package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"golang.org/x/crypto/ssh"
)

type runResult struct{ stdout, stderr string }

// plain unwraps secrets: the command needs the real value.
func plain(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

func stringInput(m resource.PropertyMap, key string) string {
	if v := plain(m[resource.PropertyKey(key)]); v.IsString() {
		return v.StringValue()
	}
	return ""
}

func numberInput(m resource.PropertyMap, key string, fallback int) int {
	if v := plain(m[resource.PropertyKey(key)]); v.IsNumber() {
		return int(v.NumberValue())
	}
	return fallback
}

func objectInput(m resource.PropertyMap, key string) resource.PropertyMap {
	if v := plain(m[resource.PropertyKey(key)]); v.IsObject() {
		return v.ObjectValue()
	}
	return resource.PropertyMap{}
}

// environment returns the `environment` input, plus the previous run's output
// as upstream does (addPreviousOutputInEnv, default true).
func environment(inputs, previous resource.PropertyMap) map[string]string {
	env := map[string]string{}
	for k, v := range objectInput(inputs, "environment") {
		if s := plain(v); s.IsString() {
			env[string(k)] = s.StringValue()
		}
	}
	addPrevious := true
	if v := plain(inputs["addPreviousOutputInEnv"]); v.IsBool() {
		addPrevious = v.BoolValue()
	}
	if previous != nil && addPrevious {
		env["PULUMI_COMMAND_STDOUT"] = stringInput(previous, "stdout")
		env["PULUMI_COMMAND_STDERR"] = stringInput(previous, "stderr")
	}
	return env
}

func runCommand(ctx context.Context, typ string, inputs resource.PropertyMap, step string,
	previous resource.PropertyMap,
) (*runResult, error) {
	command := stringInput(inputs, step)
	if command == "" {
		return &runResult{}, nil
	}
	env := environment(inputs, previous)
	stdin := stringInput(inputs, "stdin")
	var res *runResult
	var err error
	if typ == remoteCommandType {
		res, err = runRemote(ctx, objectInput(inputs, "connection"), command, env, stdin)
	} else {
		res, err = runLocal(ctx, inputs, command, env, stdin)
	}
	if err != nil {
		return nil, fmt.Errorf("%s command failed: %w\nstdout: %s\nstderr: %s", step, err, tail(res.stdout), tail(res.stderr))
	}
	return res, nil
}

// tail keeps error messages readable when a command printed a lot.
func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return s
}

func runLocal(ctx context.Context, inputs resource.PropertyMap, command string, env map[string]string,
	stdin string,
) (*runResult, error) {
	interpreter := []string{"/bin/sh", "-c"}
	if v := plain(inputs["interpreter"]); v.IsArray() && len(v.ArrayValue()) > 0 {
		interpreter = nil
		for _, e := range v.ArrayValue() {
			interpreter = append(interpreter, plain(e).StringValue())
		}
	}
	args := append(interpreter[1:], command)
	cmd := exec.CommandContext(ctx, interpreter[0], args...)
	cmd.Dir = stringInput(inputs, "dir")
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// Own process group, so a cancelled deployment stops the whole command tree.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return &runResult{stdout: trimNewline(stdout.String()), stderr: trimNewline(stderr.String())}, err
}

func trimNewline(s string) string { return strings.TrimSuffix(s, "\n") }

func sshConfig(conn resource.PropertyMap) (*ssh.ClientConfig, error) {
	var auth []ssh.AuthMethod
	if key := stringInput(conn, "privateKey"); key != "" {
		var signer ssh.Signer
		var err error
		if pass := stringInput(conn, "privateKeyPassword"); pass != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(key), []byte(pass))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(key))
		}
		if err != nil {
			return nil, fmt.Errorf("connection.privateKey: %w", err)
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if pass := stringInput(conn, "password"); pass != "" {
		auth = append(auth, ssh.Password(pass))
	}
	hostKeyCallback := ssh.InsecureIgnoreHostKey() // upstream's behaviour when no hostKey is given
	if hostKey := stringInput(conn, "hostKey"); hostKey != "" {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hostKey))
		if err != nil {
			return nil, fmt.Errorf("connection.hostKey: %w", err)
		}
		hostKeyCallback = ssh.FixedHostKey(pub)
	}
	user := stringInput(conn, "user")
	if user == "" {
		user = "root"
	}
	return &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: hostKeyCallback,
		Timeout:         time.Duration(numberInput(conn, "perDialTimeout", 15)) * time.Second,
	}, nil
}

// dial retries like upstream (dialErrorLimit, default 10): a fresh VM's sshd
// may not be up yet.
func dial(ctx context.Context, conn resource.PropertyMap) (*ssh.Client, error) {
	config, err := sshConfig(conn)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(stringInput(conn, "host"), strconv.Itoa(numberInput(conn, "port", 22)))
	limit := numberInput(conn, "dialErrorLimit", 10)
	for attempt := 1; ; attempt++ {
		client, err := ssh.Dial("tcp", addr, config)
		if err == nil {
			return client, nil
		}
		if attempt >= limit && limit >= 0 {
			return nil, fmt.Errorf("ssh dial %s: %w", addr, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt) * time.Second):
		}
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func runRemote(ctx context.Context, conn resource.PropertyMap, command string, env map[string]string,
	stdin string,
) (*runResult, error) {
	client, err := dial(ctx, conn)
	if err != nil {
		return &runResult{}, err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return &runResult{}, err
	}
	defer session.Close()

	// sshd refuses most Setenv requests (AcceptEnv), so exports go in the command.
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var script strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&script, "export %s=%s\n", k, shellQuote(env[k]))
	}
	script.WriteString(command)

	var stdout, stderr bytes.Buffer
	session.Stdout, session.Stderr = &stdout, &stderr
	if stdin != "" {
		session.Stdin = strings.NewReader(stdin)
	}
	done := make(chan error, 1)
	go func() { done <- session.Run(script.String()) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = session.Signal(ssh.SIGTERM)
		err = ctx.Err()
	}
	return &runResult{stdout: trimNewline(stdout.String()), stderr: trimNewline(stderr.String())}, err
}
