package awsjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// The trimmed model is the part of a botocore service-2.json that dispatch
// and validation read. Struct fields are declared in alphabetical order of
// their JSON names and maps marshal with sorted keys, so that TrimModel's
// output is byte-for-byte deterministic and a regenerated file diffs cleanly.

type trimmedModel struct {
	Metadata   trimmedMetadata             `json:"metadata"`
	Operations map[string]trimmedOperation `json:"operations"`
	Shapes     map[string]trimmedShape     `json:"shapes"`
}

type trimmedMetadata struct {
	SigningName  string `json:"signingName"`
	TargetPrefix string `json:"targetPrefix"`
}

type trimmedOperation struct {
	Errors []string `json:"errors,omitempty"`
	Input  string   `json:"input,omitempty"`
	Output string   `json:"output,omitempty"`
}

type trimmedShape struct {
	Enum      []string          `json:"enum,omitempty"`
	Exception bool              `json:"exception,omitempty"`
	Fault     bool              `json:"fault,omitempty"`
	Key       string            `json:"key,omitempty"`
	Max       *int64            `json:"max,omitempty"`
	Member    string            `json:"member,omitempty"`
	Members   map[string]string `json:"members,omitempty"`
	Min       *int64            `json:"min,omitempty"`
	Pattern   string            `json:"pattern,omitempty"`
	Required  []string          `json:"required,omitempty"`
	Type      string            `json:"type"`
	Value     string            `json:"value,omitempty"`
}

// botocore's own layout, reduced to the keys TrimModel copies.

type botoRef struct {
	Shape string `json:"shape"`
}

type botoModel struct {
	Metadata struct {
		Protocol     string `json:"protocol"`
		SigningName  string `json:"signingName"`
		TargetPrefix string `json:"targetPrefix"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input  *botoRef  `json:"input"`
		Output *botoRef  `json:"output"`
		Errors []botoRef `json:"errors"`
	} `json:"operations"`
	Shapes map[string]struct {
		Type      string             `json:"type"`
		Required  []string           `json:"required"`
		Members   map[string]botoRef `json:"members"`
		Member    *botoRef           `json:"member"`
		Key       *botoRef           `json:"key"`
		Value     *botoRef           `json:"value"`
		Min       *int64             `json:"min"`
		Max       *int64             `json:"max"`
		Pattern   string             `json:"pattern"`
		Enum      []string           `json:"enum"`
		Exception bool               `json:"exception"`
		Fault     bool               `json:"fault"`
	} `json:"shapes"`
}

// TrimModel reduces a botocore service-2.json document (uncompressed) to the
// trimmed, documentation-free JSON that LoadModel reads: the target prefix
// and signing name, each operation's input, output and error shape names,
// and each shape's type, members and constraints. The output is indented,
// has sorted keys and ends in a newline. Only awsJson ("json" protocol)
// models are accepted, because that is the only wire format this package
// speaks.
func TrimModel(raw []byte) ([]byte, error) {
	var in botoModel
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("awsjson: parse botocore model: %w", err)
	}
	if in.Metadata.Protocol != "json" {
		return nil, fmt.Errorf("awsjson: model protocol is %q, want \"json\"", in.Metadata.Protocol)
	}
	out := trimmedModel{
		Metadata: trimmedMetadata{
			SigningName:  in.Metadata.SigningName,
			TargetPrefix: in.Metadata.TargetPrefix,
		},
		Operations: make(map[string]trimmedOperation, len(in.Operations)),
		Shapes:     make(map[string]trimmedShape, len(in.Shapes)),
	}
	for name, op := range in.Operations {
		t := trimmedOperation{Input: ref(op.Input), Output: ref(op.Output)}
		for _, e := range op.Errors {
			t.Errors = append(t.Errors, e.Shape)
		}
		slices.Sort(t.Errors)
		out.Operations[name] = t
	}
	for name, s := range in.Shapes {
		t := trimmedShape{
			Type:      s.Type,
			Member:    ref(s.Member),
			Key:       ref(s.Key),
			Value:     ref(s.Value),
			Min:       s.Min,
			Max:       s.Max,
			Pattern:   s.Pattern,
			Enum:      s.Enum, // model order: ECR's messages list the set in it
			Exception: s.Exception,
			Fault:     s.Fault,
			Required:  slices.Sorted(slices.Values(s.Required)),
		}
		if len(s.Members) > 0 {
			t.Members = make(map[string]string, len(s.Members))
			for m, r := range s.Members {
				t.Members[m] = r.Shape
			}
		}
		out.Shapes[name] = t
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep patterns readable: '&' not \u0026
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("awsjson: encode trimmed model: %w", err)
	}
	// Load the result so that a model this package cannot use (dangling
	// shape, unknown type, pattern that will not compile) fails at
	// generation time rather than at server start.
	if _, err := LoadModel(buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func ref(r *botoRef) string {
	if r == nil {
		return ""
	}
	return r.Shape
}
