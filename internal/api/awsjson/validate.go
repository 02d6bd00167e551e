package awsjson

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SerializationError says a value has the wrong JSON type for its member,
// e.g. a string where the model wants a long. The service answers it with
// SerializationException.
type SerializationError struct {
	Path string // member path, e.g. "partFirstByte"; empty for the whole input
	Want string // what the model wants, e.g. "a long"
	Got  string // what was sent, e.g. "a string"; may be empty
}

func (e *SerializationError) Error() string {
	at := "Value at '" + e.Path + "'"
	if e.Path == "" {
		at = "Input"
	}
	if e.Got == "" {
		return at + " must be " + e.Want
	}
	return at + " must be " + e.Want + ", not " + e.Got
}

// ConstraintError says a well-typed value breaks one of the model's
// constraints. The service answers it with InvalidParameterException and
// Error() as the message, worded as ECR words it.
type ConstraintError struct {
	Path       string // e.g. "repositoryName", "tags.1.member.Key"
	Constraint string // e.g. "must have length greater than or equal to 2"
}

func (e *ConstraintError) Error() string {
	return "Invalid parameter at '" + e.Path + "' failed to satisfy constraint: '" + e.Constraint + "'"
}

// Validate checks v, a JSON value decoded into any (numbers as json.Number
// when decoded with UseNumber, or float64), against the named shape. It
// returns the first violation as a *SerializationError or
// *ConstraintError, or another error when the shape is unknown.
//
// Members are walked in sorted name order, map entries in sorted key order
// and list elements in order, so the violation reported is deterministic.
// JSON null members count as absent; unknown members are ignored, as AWS
// ignores them. Paths use ECR's style: "a.b" for nested members,
// "tags.1.member.Key" for (1-based) list elements, "m.key" for map entries.
func (m *Model) Validate(shape string, v any) error {
	s, ok := m.shapes[shape]
	if !ok {
		return fmt.Errorf("awsjson: unknown shape %q", shape)
	}
	w := walker{m: m}
	return w.value("", s, v)
}

// validateInput validates a decoded request body and removes keys that
// differ from a member name only in case (see Shape.foldedMember). It
// reports whether it removed any, in which case the body must be
// re-encoded before it is decoded into Go structs. A non-empty preset names
// a top-level member that decodeFast took out of the body and has already
// validated on the raw bytes; it is skipped here.
func (m *Model) validateInput(s *Shape, v any, preset string) (stripped bool, err error) {
	w := walker{m: m, strip: true, preset: preset}
	err = w.value("", s, v)
	return w.stripped, err
}

type walker struct {
	m        *Model
	strip    bool
	stripped bool
	preset   string // top-level member validated elsewhere; see validateInput
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (w *walker) value(path string, s *Shape, v any) error {
	switch s.Type {
	case TypeStructure:
		obj, ok := v.(map[string]any)
		if !ok {
			return typeError(path, "an object", v)
		}
		return w.structure(path, s, obj)
	case TypeList:
		arr, ok := v.([]any)
		if !ok {
			return typeError(path, "an array", v)
		}
		if err := checkLength(path, s, int64(len(arr))); err != nil {
			return err
		}
		elem := w.m.shapes[s.Member]
		for i, e := range arr {
			p := path + "." + strconv.Itoa(i+1) + ".member"
			if e == nil {
				return &ConstraintError{Path: p, Constraint: "must not be null"}
			}
			if err := w.value(p, elem, e); err != nil {
				return err
			}
		}
		return nil
	case TypeMap:
		obj, ok := v.(map[string]any)
		if !ok {
			return typeError(path, "an object", v)
		}
		return w.mapEntries(path, s, obj)
	case TypeString:
		str, ok := v.(string)
		if !ok {
			return typeError(path, "a string", v)
		}
		return checkString(path, s, str)
	case TypeBlob:
		str, ok := v.(string)
		if !ok {
			return typeError(path, "a base64-encoded string", v)
		}
		n, ok := base64Len(str)
		if !ok {
			return &SerializationError{Path: path, Want: "valid base64 (standard alphabet, padded)"}
		}
		return checkLength(path, s, n)
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return typeError(path, "a boolean", v)
		}
		return nil
	case TypeInteger, TypeLong:
		return checkInteger(path, s, v)
	case TypeDouble, TypeTimestamp:
		return checkFloat(path, s, v)
	}
	return fmt.Errorf("awsjson: shape %s has unknown type %q", s.Name, s.Type)
}

func (w *walker) structure(path string, s *Shape, obj map[string]any) error {
	if w.strip {
		for k := range obj {
			if s.foldedMember(k) {
				delete(obj, k)
				w.stripped = true
			}
		}
	}
	for _, name := range s.memberNames {
		if path == "" && name == w.preset {
			continue
		}
		p := join(path, name)
		v, present := obj[name]
		if !present || v == nil {
			if s.required[name] {
				return &ConstraintError{Path: p, Constraint: "must not be null"}
			}
			continue
		}
		if err := w.value(p, w.m.shapes[s.Members[name]], v); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) mapEntries(path string, s *Shape, obj map[string]any) error {
	if err := checkLength(path, s, int64(len(obj))); err != nil {
		return err
	}
	key, val := w.m.shapes[s.Key], w.m.shapes[s.Value]
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range obj {
			if !yield(k) {
				return
			}
		}
	}) {
		p := join(path, k)
		if err := w.value(p, key, k); err != nil {
			return err
		}
		if obj[k] == nil {
			return &ConstraintError{Path: p, Constraint: "must not be null"}
		}
		if err := w.value(p, val, obj[k]); err != nil {
			return err
		}
	}
	return nil
}

// checkString applies length (in characters), pattern and enum constraints.
func checkString(path string, s *Shape, v string) error {
	// Count characters only when the byte length cannot settle the bounds
	// (a character is 1 to 4 bytes): manifests run to 4 MiB.
	b := int64(len(v))
	settled := (s.Min == nil || (b+3)/4 >= *s.Min) && (s.Max == nil || b <= *s.Max)
	if !settled {
		if err := checkLength(path, s, int64(utf8.RuneCountInString(v))); err != nil {
			return err
		}
	}
	if !s.MatchPattern(v) {
		return &ConstraintError{Path: path, Constraint: "must satisfy regular expression '" + s.Pattern + "'"}
	}
	if s.enum != nil && !s.enum[v] {
		return &ConstraintError{Path: path, Constraint: "must satisfy enum value set: [" + strings.Join(s.Enum, ", ") + "]"}
	}
	return nil
}

// checkLength applies min/max as a length: characters of a string, items
// of a list or map, decoded bytes of a blob.
func checkLength(path string, s *Shape, n int64) error {
	if s.Min != nil && n < *s.Min {
		return &ConstraintError{Path: path, Constraint: "must have length greater than or equal to " + strconv.FormatInt(*s.Min, 10)}
	}
	if s.Max != nil && n > *s.Max {
		return &ConstraintError{Path: path, Constraint: "must have length less than or equal to " + strconv.FormatInt(*s.Max, 10)}
	}
	return nil
}

func checkInteger(path string, s *Shape, v any) error {
	want, bits := "an integer", 32
	if s.Type == TypeLong {
		want, bits = "a long", 64
	}
	var n int64
	switch v := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(v), 10, bits)
		if err != nil {
			return &SerializationError{Path: path, Want: want, Got: string(v)}
		}
		n = i
	case float64:
		limit := math.Ldexp(1, bits-1)
		if v != math.Trunc(v) || v < -limit || v >= limit {
			return &SerializationError{Path: path, Want: want, Got: strconv.FormatFloat(v, 'g', -1, 64)}
		}
		n = int64(v)
	default:
		return typeError(path, want, v)
	}
	if s.Min != nil && n < *s.Min {
		return &ConstraintError{Path: path, Constraint: "must be greater than or equal to " + strconv.FormatInt(*s.Min, 10)}
	}
	if s.Max != nil && n > *s.Max {
		return &ConstraintError{Path: path, Constraint: "must be less than or equal to " + strconv.FormatInt(*s.Max, 10)}
	}
	return nil
}

// checkFloat handles doubles and timestamps, which awsJson sends as
// epoch seconds in a JSON number.
func checkFloat(path string, s *Shape, v any) error {
	want := "a number"
	if s.Type == TypeTimestamp {
		want = "a number of epoch seconds"
	}
	var f float64
	switch v := v.(type) {
	case json.Number:
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return &SerializationError{Path: path, Want: want, Got: string(v)}
		}
		f = x
	case float64:
		f = v
	default:
		return typeError(path, want, v)
	}
	if s.Min != nil && f < float64(*s.Min) {
		return &ConstraintError{Path: path, Constraint: "must be greater than or equal to " + strconv.FormatInt(*s.Min, 10)}
	}
	if s.Max != nil && f > float64(*s.Max) {
		return &ConstraintError{Path: path, Constraint: "must be less than or equal to " + strconv.FormatInt(*s.Max, 10)}
	}
	return nil
}

func typeError(path, want string, v any) *SerializationError {
	return &SerializationError{Path: path, Want: want, Got: jsonKind(v)}
}

// jsonKind names the JSON type of a decoded value for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

// base64Len returns the decoded length of s if it is standard, padded
// base64 as encoding/json's []byte decoding accepts it (which skips \r and
// \n), without decoding: layer parts are 20 MiB and are decoded once,
// later, straight into the operation's input. It takes []byte too, so that
// decodeFast can check a blob in the body without copying it to a string.
func base64Len[T string | []byte](s T) (int64, bool) {
	var n, pad int64
	// A table lookup per byte, not a switch: layer parts carry about
	// 27 MiB of base64, and this loop runs over all of it.
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch base64Class[c] {
		case b64Data:
			if pad > 0 {
				return 0, false // data after padding
			}
		case b64Pad:
			pad++
		case b64Newline:
			continue
		default:
			return 0, false
		}
		n++
	}
	if n%4 != 0 || pad > 2 {
		return 0, false
	}
	return n/4*3 - pad, true
}

// Classes of bytes in standard base64.
const (
	b64Invalid = iota
	b64Data
	b64Pad
	b64Newline
)

// base64Class classifies every byte value for base64Len.
var base64Class = func() (t [256]byte) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
		t[c] = b64Data
	}
	t['='] = b64Pad
	t['\r'], t['\n'] = b64Newline, b64Newline
	return t
}()
