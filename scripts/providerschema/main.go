// Command providerschema prints the provider's schemas in the format of
// `terraform providers schema -json`, from the provider served in-process.
//
// scripts/docs.sh hands its output to tfplugindocs (--providers-schema)
// instead of letting tfplugindocs ask Terraform: only Terraform 1.14 and
// later print action schemas, and the Terraform that `make docs` can use
// offline (1.6.6 built through the Go module proxy, or the one on PATH) is
// older, so the actions' pages would be missing.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/koophone/terraform-provider-koophone/internal/provider"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "providerschema:", err)
		os.Exit(1)
	}
}

func run() error {
	server := providerserver.NewProtocol6(provider.New("docs")())()
	resp, err := server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		return err
	}
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return fmt.Errorf("%s: %s", d.Summary, d.Detail)
		}
	}
	p := providerJSON{
		Provider:          schemaOf(resp.Provider),
		ResourceSchemas:   map[string]*schemaJSON{},
		DataSourceSchemas: map[string]*schemaJSON{},
		ActionSchemas:     map[string]*schemaJSON{},
	}
	for name, s := range resp.ResourceSchemas {
		p.ResourceSchemas[name] = schemaOf(s)
	}
	for name, s := range resp.DataSourceSchemas {
		p.DataSourceSchemas[name] = schemaOf(s)
	}
	for name, s := range resp.ActionSchemas {
		p.ActionSchemas[name] = schemaOf(s.Schema)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"format_version":   "1.0",
		"provider_schemas": map[string]providerJSON{"koophone": p},
	})
}

// The JSON shapes of `terraform providers schema -json`.
type (
	providerJSON struct {
		Provider          *schemaJSON            `json:"provider"`
		ResourceSchemas   map[string]*schemaJSON `json:"resource_schemas,omitempty"`
		DataSourceSchemas map[string]*schemaJSON `json:"data_source_schemas,omitempty"`
		ActionSchemas     map[string]*schemaJSON `json:"action_schemas,omitempty"`
	}
	schemaJSON struct {
		Version int64      `json:"version"`
		Block   *blockJSON `json:"block"`
	}
	blockJSON struct {
		Attributes      map[string]*attributeJSON `json:"attributes,omitempty"`
		BlockTypes      map[string]*blockTypeJSON `json:"block_types,omitempty"`
		Description     string                    `json:"description,omitempty"`
		DescriptionKind string                    `json:"description_kind"`
		Deprecated      bool                      `json:"deprecated,omitempty"`
	}
	blockTypeJSON struct {
		NestingMode string     `json:"nesting_mode"`
		Block       *blockJSON `json:"block"`
		MinItems    int64      `json:"min_items,omitempty"`
		MaxItems    int64      `json:"max_items,omitempty"`
	}
	attributeJSON struct {
		Type            any         `json:"type,omitempty"`
		NestedType      *nestedJSON `json:"nested_type,omitempty"`
		Description     string      `json:"description,omitempty"`
		DescriptionKind string      `json:"description_kind"`
		Deprecated      bool        `json:"deprecated,omitempty"`
		Required        bool        `json:"required,omitempty"`
		Optional        bool        `json:"optional,omitempty"`
		Computed        bool        `json:"computed,omitempty"`
		Sensitive       bool        `json:"sensitive,omitempty"`
		WriteOnly       bool        `json:"write_only,omitempty"`
	}
	nestedJSON struct {
		Attributes  map[string]*attributeJSON `json:"attributes"`
		NestingMode string                    `json:"nesting_mode"`
	}
)

func schemaOf(s *tfprotov6.Schema) *schemaJSON {
	if s == nil {
		return nil
	}
	return &schemaJSON{Version: s.Version, Block: blockOf(s.Block)}
}

func blockOf(b *tfprotov6.SchemaBlock) *blockJSON {
	out := &blockJSON{Description: b.Description, DescriptionKind: kind(b.DescriptionKind), Deprecated: b.Deprecated}
	if len(b.Attributes) > 0 {
		out.Attributes = attributesOf(b.Attributes)
	}
	for _, nb := range b.BlockTypes {
		if out.BlockTypes == nil {
			out.BlockTypes = map[string]*blockTypeJSON{}
		}
		out.BlockTypes[nb.TypeName] = &blockTypeJSON{
			NestingMode: nestingWords[int(nb.Nesting)], Block: blockOf(nb.Block), MinItems: nb.MinItems, MaxItems: nb.MaxItems,
		}
	}
	return out
}

// nestingWords are Terraform's names of the nesting modes, by their
// numbers in the plugin protocol (blocks and nested attributes number
// them alike).
var nestingWords = map[int]string{1: "single", 2: "list", 3: "set", 4: "map", 5: "group"}

func attributesOf(attrs []*tfprotov6.SchemaAttribute) map[string]*attributeJSON {
	out := make(map[string]*attributeJSON, len(attrs))
	for _, a := range attrs {
		j := &attributeJSON{
			Description: a.Description, DescriptionKind: kind(a.DescriptionKind), Deprecated: a.Deprecated,
			Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, WriteOnly: a.WriteOnly,
		}
		if a.NestedType != nil {
			j.NestedType = &nestedJSON{Attributes: attributesOf(a.NestedType.Attributes), NestingMode: nestingWords[int(a.NestedType.Nesting)]}
		} else {
			j.Type = typeJSON(a.Type)
		}
		out[a.Name] = j
	}
	return out
}

// typeJSON is an attribute's type as Terraform writes it: "string",
// ["list", "string"], ["object", {"a": "number"}], ...
func typeJSON(t tftypes.Type) any {
	switch t := t.(type) {
	case tftypes.List:
		return []any{"list", typeJSON(t.ElementType)}
	case tftypes.Set:
		return []any{"set", typeJSON(t.ElementType)}
	case tftypes.Map:
		return []any{"map", typeJSON(t.ElementType)}
	case tftypes.Object:
		attrs := make(map[string]any, len(t.AttributeTypes))
		for name, at := range t.AttributeTypes {
			attrs[name] = typeJSON(at)
		}
		return []any{"object", attrs}
	case tftypes.Tuple:
		elems := make([]any, len(t.ElementTypes))
		for i, et := range t.ElementTypes {
			elems[i] = typeJSON(et)
		}
		return []any{"tuple", elems}
	}
	switch {
	case t.Is(tftypes.String):
		return "string"
	case t.Is(tftypes.Number):
		return "number"
	case t.Is(tftypes.Bool):
		return "bool"
	case t.Is(tftypes.DynamicPseudoType):
		return "dynamic"
	}
	panic(fmt.Sprintf("providerschema: type %s not handled", t))
}

func kind(k tfprotov6.StringKind) string {
	if k == tfprotov6.StringKindMarkdown {
		return "markdown"
	}
	return "plain"
}
