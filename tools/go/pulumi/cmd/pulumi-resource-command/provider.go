package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	localCommandType  = "command:local:Command"
	remoteCommandType = "command:remote:Command"
)

// Outputs the provider computes; everything else in the state is an input.
var computedKeys = map[resource.PropertyKey]bool{"stdout": true, "stderr": true}

type commandProvider struct {
	pulumirpc.UnimplementedResourceProviderServer
	host *provider.HostClient
}

var marshalOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, marshalOpts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, marshalOpts)
}

func (p *commandProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: pluginVersion}, nil
}

func (p *commandProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":"command","version":%q}`, pluginVersion)}, nil
}

func (p *commandProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *commandProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{}, nil
}

func (p *commandProvider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *commandProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func checkType(t string) error {
	if t != localCommandType && t != remoteCommandType {
		return fmt.Errorf("unknown resource type %q: this build of pulumi-resource-command supports %s and %s",
			t, localCommandType, remoteCommandType)
	}
	return nil
}

func (p *commandProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	t := string(resource.URN(req.GetUrn()).Type())
	if err := checkType(t); err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	if t == remoteCommandType && !news.HasValue("connection") {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "connection", Reason: "connection is required"})
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

// inputsOf drops the computed outputs from a state, leaving what the program gave.
func inputsOf(state resource.PropertyMap) resource.PropertyMap {
	inputs := resource.PropertyMap{}
	for k, v := range state {
		if !computedKeys[k] {
			inputs[k] = v
		}
	}
	return inputs
}

func (p *commandProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 {
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, err
		}
		olds = inputsOf(olds)
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	ignored := map[string]bool{}
	for _, k := range req.GetIgnoreChanges() {
		ignored[k] = true
	}

	var diffs, replaces []string
	changed := map[resource.PropertyKey]bool{}
	if d := olds.Diff(news); d != nil {
		for _, k := range d.ChangedKeys() {
			changed[k] = true
		}
	}
	// An unknown input (preview) may change: report it as a change.
	for k, v := range news {
		if v.ContainsUnknowns() {
			changed[k] = true
		}
	}
	for k := range changed {
		if ignored[string(k)] {
			continue
		}
		diffs = append(diffs, string(k))
		if k == "triggers" {
			replaces = append(replaces, string(k))
		}
	}
	sort.Strings(diffs)
	sort.Strings(replaces)

	result := pulumirpc.DiffResponse_DIFF_NONE
	if len(diffs) > 0 {
		result = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{
		Changes:             result,
		Diffs:               diffs,
		Replaces:            replaces,
		DeleteBeforeReplace: false,
	}, nil
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// withOutputs returns the new state: the inputs plus stdout and stderr, or
// unknowns during a preview.
func withOutputs(inputs resource.PropertyMap, res *runResult, preview bool) resource.PropertyMap {
	state := inputs.Copy()
	if preview {
		state["stdout"] = resource.MakeComputed(resource.NewStringProperty(""))
		state["stderr"] = resource.MakeComputed(resource.NewStringProperty(""))
		return state
	}
	state["stdout"] = resource.NewStringProperty(res.stdout)
	state["stderr"] = resource.NewStringProperty(res.stderr)
	return state
}

func (p *commandProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	urn := resource.URN(req.GetUrn())
	inputs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := marshal(withOutputs(inputs, nil, true))
		return &pulumirpc.CreateResponse{Properties: props}, err
	}
	res, err := runCommand(ctx, string(urn.Type()), inputs, "create", nil)
	if err != nil {
		return nil, err
	}
	props, err := marshal(withOutputs(inputs, res, false))
	return &pulumirpc.CreateResponse{Id: newID(), Properties: props}, err
}

func (p *commandProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	urn := resource.URN(req.GetUrn())
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := marshal(withOutputs(news, nil, true))
		return &pulumirpc.UpdateResponse{Properties: props}, err
	}
	step := "update"
	if stringInput(news, "update") == "" {
		step = "create"
	}
	res, err := runCommand(ctx, string(urn.Type()), news, step, olds)
	if err != nil {
		return nil, err
	}
	props, err := marshal(withOutputs(news, res, false))
	return &pulumirpc.UpdateResponse{Properties: props}, err
}

func (p *commandProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	urn := resource.URN(req.GetUrn())
	state, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if stringInput(state, "delete") != "" {
		if _, err := runCommand(ctx, string(urn.Type()), state, "delete", state); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}
