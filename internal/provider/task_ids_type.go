package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// taskIDsType is a set of strings that behaves like types.SetType but costs
// linear time where the framework's set costs quadratic time. For every set
// the framework (v1.19) checks each pair of elements for duplicates when it
// validates, and compares each pair of elements of configuration and state
// for semantic equality after each read, building and logging an attribute
// path per pair. For the 1,000 ids that koophone_instance_tasks accepts
// that is a million pairs: BenchmarkInstanceTasksReadThousandIDs took
// 2.56 s per read with types.SetType in its place, 0.30 s with this type
// (2 cores, November 2026). This type finds duplicates with a map and
// reports semantic equality of equal sets at once, which makes the
// framework skip the pairwise check.
type taskIDsType struct {
	basetypes.SetType
}

var (
	_ basetypes.SetTypable                    = taskIDsType{}
	_ xattr.TypeWithValidate                  = taskIDsType{} //nolint:staticcheck // the interface the framework calls for type validation
	_ basetypes.SetValuableWithSemanticEquals = taskIDsValue{}
)

func newTaskIDsType() taskIDsType {
	return taskIDsType{SetType: basetypes.SetType{ElemType: types.StringType}}
}

func (t taskIDsType) Equal(o attr.Type) bool {
	other, ok := o.(taskIDsType)
	return ok && t.SetType.Equal(other.SetType)
}

func (t taskIDsType) String() string { return "taskIDsType" }

func (t taskIDsType) ValueType(context.Context) attr.Value {
	return taskIDsValue{SetValue: basetypes.NewSetNull(types.StringType)}
}

func (t taskIDsType) ValueFromSet(_ context.Context, in basetypes.SetValue) (basetypes.SetValuable, diag.Diagnostics) {
	return taskIDsValue{SetValue: in}, nil
}

func (t taskIDsType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.SetType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	set, ok := v.(basetypes.SetValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return taskIDsValue{SetValue: set}, nil
}

// Validate rejects duplicate elements, as the framework's set type does,
// with a map instead of comparing every pair.
func (t taskIDsType) Validate(_ context.Context, in tftypes.Value, p path.Path) diag.Diagnostics {
	var diags diag.Diagnostics
	if in.Type() == nil || !in.IsKnown() || in.IsNull() {
		return diags
	}
	var elems []tftypes.Value
	if err := in.As(&elems); err != nil {
		diags.AddAttributeError(p, "Set Type Validation Error", "An unexpected error was encountered trying to validate an attribute value. "+
			"This is always an error in the provider. Please report the following to the provider developer:\n\n"+err.Error())
		return diags
	}
	seen := make(map[string]bool, len(elems))
	for _, e := range elems {
		if !e.IsKnown() || e.IsNull() {
			continue
		}
		var s string
		if err := e.As(&s); err != nil {
			continue
		}
		if seen[s] {
			diags.AddAttributeError(p, "Duplicate Set Element", fmt.Sprintf("This attribute contains duplicate values of: %q", s))
		}
		seen[s] = true
	}
	return diags
}

// taskIDsValue is the value of a taskIDsType.
type taskIDsValue struct {
	basetypes.SetValue
}

func (v taskIDsValue) Type(context.Context) attr.Type { return newTaskIDsType() }

func (v taskIDsValue) Equal(o attr.Value) bool {
	other, ok := o.(taskIDsValue)
	return ok && v.SetValue.Equal(other.SetValue)
}

// SetSemanticEquals reports whether both sets hold the same ids, in linear
// time. A data source never changes its task_ids, so after a read this is
// true and the framework keeps the configured value as it is.
func (v taskIDsValue) SetSemanticEquals(_ context.Context, o basetypes.SetValuable) (bool, diag.Diagnostics) {
	other, ok := o.(taskIDsValue)
	if !ok {
		return false, nil
	}
	a, b := v.Elements(), other.Elements()
	if len(a) != len(b) {
		return false, nil
	}
	ids := make(map[string]bool, len(a))
	for _, e := range a {
		s, ok := e.(basetypes.StringValue)
		if !ok || s.IsNull() || s.IsUnknown() {
			return false, nil
		}
		ids[s.ValueString()] = true
	}
	for _, e := range b {
		s, ok := e.(basetypes.StringValue)
		if !ok || !ids[s.ValueString()] || s.IsNull() || s.IsUnknown() {
			return false, nil
		}
	}
	return true, nil
}
