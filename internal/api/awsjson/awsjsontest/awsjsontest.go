// Package awsjsontest holds test helpers for the AWS JSON front ends.
package awsjsontest

import (
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/registry"
)

// CheckStruct holds a Go shape to the model's shapeName: every field's json
// name is a member (recursing into structures and lists of them), and, when
// complete, every member has a field.
func CheckStruct(t *testing.T, m *awsjson.Model, shapeName string, typ reflect.Type, complete bool) {
	t.Helper()
	shape, ok := m.Shape(shapeName)
	if !ok {
		t.Fatalf("no shape %s", shapeName)
	}
	seen := map[string]bool{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		seen[name] = true
		member, ok := shape.Members[name]
		if !ok {
			t.Errorf("%s.%s (json %q) is not a member of %s", typ.Name(), f.Name, name, shapeName)
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		ms, _ := m.Shape(member)
		if ft.Kind() == reflect.Struct && ms != nil && ms.Type == awsjson.TypeStructure && ft != reflect.TypeFor[awsjson.Time]() {
			CheckStruct(t, m, member, ft, complete)
		}
		if ms != nil && ms.Type == awsjson.TypeList {
			if es, _ := m.Shape(ms.Member); es != nil && es.Type == awsjson.TypeStructure {
				CheckStruct(t, m, ms.Member, ft, complete)
			}
		}
	}
	if complete {
		for member := range shape.Members {
			if !seen[member] {
				t.Errorf("%s has no field for member %s of %s", typ.Name(), member, shapeName)
			}
		}
	}
}

// CheckErrorTable walks every domain code through a front end's mapError:
// each maps to an exception the model declares (or a common AWS error), as
// a client error carrying the domain message; a non-domain error maps to
// nil (ServerException).
func CheckErrorTable(t *testing.T, m *awsjson.Model, mapError func(error) *awsjson.WireError, common []string) {
	t.Helper()
	exceptions := m.Exceptions()
	for _, code := range registry.Codes {
		we := mapError(&registry.Error{Code: code, Message: "m"})
		if we == nil {
			t.Errorf("code %s has no exception", code)
			continue
		}
		if !slices.Contains(exceptions, we.Type) && !slices.Contains(common, we.Type) {
			t.Errorf("code %s maps to %s, which is neither in the model nor a common AWS error", code, we.Type)
		}
		if we.Status != http.StatusBadRequest || we.Message != "m" {
			t.Errorf("code %s: status %d message %q", code, we.Status, we.Message)
		}
	}
	if we := mapError(errors.New("disk on fire")); we != nil {
		t.Errorf("a non-domain error mapped to %+v, want nil (ServerException)", we)
	}
}
