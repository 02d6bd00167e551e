// Package awsjson is the AWS JSON 1.1 ("awsJson1_1") plumbing shared by
// ecrd's ECR and ECR Public front ends: a service model trimmed from
// botocore, validation of request bodies against that model's constraints,
// and an http.Handler that dispatches on X-Amz-Target, decodes, validates,
// calls a typed operation and writes the result or a __type error.
//
// The model is the wire specification: operation and member names,
// required members, lengths, ranges, patterns and enums all come from it, so
// a front end declares only Go structs whose json tags are the model's
// member names.
package awsjson

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Shape types that appear in the models and that Validate understands.
const (
	TypeStructure = "structure"
	TypeList      = "list"
	TypeMap       = "map"
	TypeString    = "string"
	TypeInteger   = "integer"
	TypeLong      = "long"
	TypeDouble    = "double"
	TypeBoolean   = "boolean"
	TypeTimestamp = "timestamp"
	TypeBlob      = "blob"
)

// Model is a loaded service model. It is read-only after LoadModel and safe
// for concurrent use.
type Model struct {
	// TargetPrefix is the X-Amz-Target prefix, e.g.
	// "AmazonEC2ContainerRegistry_V20150921".
	TargetPrefix string
	// SigningName is the SigV4 service name, e.g. "ecr".
	SigningName string

	ops    map[string]Operation
	shapes map[string]*Shape
}

// Operation describes one operation: the names of its input, output and error
// shapes. Input or Output is empty when the operation has none.
type Operation struct {
	Name   string
	Input  string
	Output string
	Errors []string // sorted
}

// Shape is one shape of the model. Min and Max are nil when unconstrained.
// Callers must not modify the slices and maps it holds.
type Shape struct {
	Name      string
	Type      string
	Members   map[string]string // member name -> shape name (structures)
	Required  []string          // sorted (structures)
	Member    string            // element shape (lists)
	Key       string            // key shape (maps)
	Value     string            // value shape (maps)
	Min, Max  *int64
	Pattern   string   // as written in the model; see compilePattern
	Enum      []string // in model order
	Exception bool
	Fault     bool

	re          *regexp.Regexp
	memberNames []string // sorted: Validate walks members in this order
	required    map[string]bool
	enum        map[string]bool
}

// LoadModel parses a model written by TrimModel (or the modeltrim command)
// and checks it is self-consistent: every referenced shape exists, every
// type is known, every required member is a member and every pattern
// compiles.
func LoadModel(data []byte) (*Model, error) {
	var t trimmedModel
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("awsjson: parse model: %w", err)
	}
	m := &Model{
		TargetPrefix: t.Metadata.TargetPrefix,
		SigningName:  t.Metadata.SigningName,
		ops:          make(map[string]Operation, len(t.Operations)),
		shapes:       make(map[string]*Shape, len(t.Shapes)),
	}
	if m.TargetPrefix == "" {
		return nil, fmt.Errorf("awsjson: model has no targetPrefix")
	}
	for name, ts := range t.Shapes {
		s, err := newShape(name, ts)
		if err != nil {
			return nil, err
		}
		m.shapes[name] = s
	}
	for _, s := range m.shapes {
		for _, ref := range s.refs() {
			if _, ok := m.shapes[ref]; !ok {
				return nil, fmt.Errorf("awsjson: shape %s refers to unknown shape %q", s.Name, ref)
			}
		}
	}
	for name, to := range t.Operations {
		op := Operation{Name: name, Input: to.Input, Output: to.Output, Errors: to.Errors}
		for _, ref := range append([]string{op.Input, op.Output}, op.Errors...) {
			if _, ok := m.shapes[ref]; ref != "" && !ok {
				return nil, fmt.Errorf("awsjson: operation %s refers to unknown shape %q", name, ref)
			}
		}
		if in := m.shapes[op.Input]; in != nil && in.Type != TypeStructure {
			return nil, fmt.Errorf("awsjson: operation %s input %s is a %s, not a structure", name, in.Name, in.Type)
		}
		m.ops[name] = op
	}
	return m, nil
}

func newShape(name string, t trimmedShape) (*Shape, error) {
	s := &Shape{
		Name: name, Type: t.Type, Members: t.Members, Required: t.Required,
		Member: t.Member, Key: t.Key, Value: t.Value, Min: t.Min, Max: t.Max,
		Pattern: t.Pattern, Enum: t.Enum, Exception: t.Exception, Fault: t.Fault,
	}
	switch s.Type {
	case TypeStructure, TypeString, TypeInteger, TypeLong, TypeDouble,
		TypeBoolean, TypeTimestamp, TypeBlob:
	case TypeList:
		if s.Member == "" {
			return nil, fmt.Errorf("awsjson: list shape %s has no member", name)
		}
	case TypeMap:
		if s.Key == "" || s.Value == "" {
			return nil, fmt.Errorf("awsjson: map shape %s lacks a key or value", name)
		}
	default:
		return nil, fmt.Errorf("awsjson: shape %s has unknown type %q", name, s.Type)
	}
	s.memberNames = slices.Sorted(func(yield func(string) bool) {
		for k := range s.Members {
			if !yield(k) {
				return
			}
		}
	})
	s.required = make(map[string]bool, len(s.Required))
	for _, r := range s.Required {
		if _, ok := s.Members[r]; !ok {
			return nil, fmt.Errorf("awsjson: shape %s requires %q, which is not a member", name, r)
		}
		s.required[r] = true
	}
	if len(s.Enum) > 0 {
		s.enum = make(map[string]bool, len(s.Enum))
		for _, e := range s.Enum {
			s.enum[e] = true
		}
	}
	if s.Pattern != "" {
		re, err := compilePattern(s.Pattern)
		if err != nil {
			return nil, fmt.Errorf("awsjson: shape %s: %w", name, err)
		}
		s.re = re
	}
	return s, nil
}

// refs lists the shapes s refers to.
func (s *Shape) refs() []string {
	var r []string
	for _, n := range s.memberNames {
		r = append(r, s.Members[n])
	}
	for _, n := range []string{s.Member, s.Key, s.Value} {
		if n != "" {
			r = append(r, n)
		}
	}
	return r
}

// MatchPattern reports whether v satisfies the shape's pattern, matched
// against the whole value as ECR does. A shape without a pattern accepts
// everything.
func (s *Shape) MatchPattern(v string) bool {
	return s.re == nil || s.re.MatchString(v)
}

// Operation returns the named operation (without the target prefix).
func (m *Model) Operation(name string) (Operation, bool) {
	op, ok := m.ops[name]
	return op, ok
}

// Operations returns the names of every operation, sorted.
func (m *Model) Operations() []string {
	names := make([]string, 0, len(m.ops))
	for n := range m.ops {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Shape returns the named shape.
func (m *Model) Shape(name string) (*Shape, bool) {
	s, ok := m.shapes[name]
	return s, ok
}

// Exceptions returns the name of every exception shape, sorted. Front ends
// use it to check that each __type they can send is one the model declares.
func (m *Model) Exceptions() []string {
	var names []string
	for n, s := range m.shapes {
		if s.Exception {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Patterns returns every distinct pattern in the model, sorted.
func (m *Model) Patterns() []string {
	var ps []string
	for _, s := range m.shapes {
		if s.Pattern != "" {
			ps = append(ps, s.Pattern)
		}
	}
	slices.Sort(ps)
	return slices.Compact(ps)
}

// HasMember reports whether the structure shape has the named member.
func (m *Model) HasMember(shape, member string) bool {
	s, ok := m.shapes[shape]
	if !ok {
		return false
	}
	_, ok = s.Members[member]
	return ok
}

// foldedMember reports whether name is not a member of s but equals one
// under case folding. encoding/json matches struct fields case-
// insensitively while AWS matches member names exactly, so such keys must
// be dropped before decoding into Go structs, or they would bypass
// validation.
func (s *Shape) foldedMember(name string) bool {
	if _, ok := s.Members[name]; ok {
		return false
	}
	for _, m := range s.memberNames {
		if strings.EqualFold(m, name) {
			return true
		}
	}
	return false
}
