package provider

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// The framework turns a data source's state into trees of attr and tftypes
// values, copies them (semantic equality, a deep comparison, null-block
// reification) and only then encodes them as msgpack: about ten copies of
// a kilobyte-sized tree per job. For the largest koophone_instance_tasks
// read (1,000 tasks of 100 jobs) that is over 600 MB of peak memory and
// seconds of CPU, for a 10 MB answer.
//
// So the provider is served by the framework's protocol 6 server with one
// addition: for koophone_instance_tasks, Read (run by the framework as
// usual: configuration, validation, waiting, diagnostics, all other
// attributes) leaves tasks null and hands the tasks over through the
// context; this server then writes them into the msgpack state directly,
// by the same mapping (see encodeTasksMsgPack and its equivalence test).
// Without this server, for example under providerserver.NewProtocol6,
// Read builds tasks through the framework like any attribute.

// NewProtocol6Server returns the provider's protocol 6 server, for
// tf6server.Serve. It serves the data sources, functions and ephemeral
// resources of the framework's server; it does not expose the optional
// list-resource, action or state-store RPCs, which this provider does not
// have.
func NewProtocol6Server(p provider.Provider) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		return &protocol6Server{ProviderServer: providerserver.NewProtocol6(p)()}
	}
}

// NewProtocol6ServerWithError is NewProtocol6Server in the form that
// terraform-plugin-testing's ProtoV6ProviderFactories expect.
func NewProtocol6ServerWithError(p provider.Provider) func() (tfprotov6.ProviderServer, error) {
	return func() (tfprotov6.ProviderServer, error) { return NewProtocol6Server(p)(), nil }
}

type protocol6Server struct {
	tfprotov6.ProviderServer

	typeOnce sync.Once
	tasksTyp tftypes.Object
	typeErr  error
}

// instanceTasksTypeName is the type name of koophone_instance_tasks.
const instanceTasksTypeName = "koophone_instance_tasks"

// tasksHandOff carries the tasks of a koophone_instance_tasks read from
// Read to the server.
type tasksHandOff struct {
	tasks []koophone.Task
	set   bool
}

type tasksHandOffKey struct{}

// tasksHandOffFrom returns the hand-off of the read, or nil when the
// server does not encode tasks itself.
func tasksHandOffFrom(ctx context.Context) *tasksHandOff {
	h, _ := ctx.Value(tasksHandOffKey{}).(*tasksHandOff)
	return h
}

func (s *protocol6Server) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	if req.TypeName != instanceTasksTypeName {
		return s.ProviderServer.ReadDataSource(ctx, req)
	}
	handOff := &tasksHandOff{}
	resp, err := s.ProviderServer.ReadDataSource(context.WithValue(ctx, tasksHandOffKey{}, handOff), req)
	if err != nil || resp == nil || resp.State == nil || !handOff.set || hasErrorDiagnostic(resp.Diagnostics) {
		return resp, err
	}
	// A failure to encode is reported as a diagnostic, as the framework
	// reports its own, not as an RPC error.
	state, spliceErr := s.spliceTasks(ctx, resp.State, handOff.tasks)
	resp.State = state
	if spliceErr != nil {
		resp.Diagnostics = append(resp.Diagnostics, &tfprotov6.Diagnostic{
			Severity: tfprotov6.DiagnosticSeverityError,
			Summary:  "Unable to encode the tasks",
			Detail: "An unexpected error was encountered when encoding the tasks of koophone_instance_tasks. " +
				"This is a bug in the provider; please report it.\n\n" + spliceErr.Error(),
		})
	}
	return resp, nil
}

func hasErrorDiagnostic(diags []*tfprotov6.Diagnostic) bool {
	for _, d := range diags {
		if d != nil && d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

// stateType is the Terraform type of koophone_instance_tasks.
func (s *protocol6Server) stateType(ctx context.Context) (tftypes.Object, error) {
	s.typeOnce.Do(func() {
		var resp datasource.SchemaResponse
		newInstanceTasksDataSource().Schema(ctx, datasource.SchemaRequest{}, &resp)
		t, ok := resp.Schema.Type().TerraformType(ctx).(tftypes.Object)
		if !ok {
			s.typeErr = fmt.Errorf("the schema of %s is not an object", instanceTasksTypeName)
			return
		}
		s.tasksTyp = t
	})
	return s.tasksTyp, s.typeErr
}

// spliceTasks returns the state with its (null) tasks attribute replaced
// by tasks, encoded directly as msgpack. The other attributes are encoded
// by terraform-plugin-go, as the framework encoded them.
func (s *protocol6Server) spliceTasks(ctx context.Context, state *tfprotov6.DynamicValue, tasks []koophone.Task) (*tfprotov6.DynamicValue, error) {
	typ, err := s.stateType(ctx)
	if err != nil {
		return nil, err
	}
	if len(state.MsgPack) == 0 {
		return nil, fmt.Errorf("the state is not msgpack-encoded")
	}
	raw, err := state.Unmarshal(typ)
	if err != nil {
		return nil, fmt.Errorf("decoding the state: %w", err)
	}
	var attrs map[string]tftypes.Value
	if err := raw.As(&attrs); err != nil {
		return nil, fmt.Errorf("reading the state: %w", err)
	}
	names := make([]string, 0, len(typ.AttributeTypes))
	for name := range typ.AttributeTypes {
		names = append(names, name)
	}
	sort.Strings(names)
	w := newMsgpackWriter(estimateTasksSize(tasks) + 1024)
	w.mapHeader(len(names))
	for _, name := range names {
		w.str(name)
		if name == "tasks" {
			encodeTasksMsgPack(w, tasks)
			continue
		}
		v, ok := attrs[name]
		if !ok {
			return nil, fmt.Errorf("the state lacks %s", name)
		}
		enc, err := tfprotov6.NewDynamicValue(typ.AttributeTypes[name], v)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", name, err)
		}
		w.raw(enc.MsgPack)
	}
	return &tfprotov6.DynamicValue{MsgPack: w.bytes()}, nil
}
