package awsjson

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
)

// fastBlobMin is the length of base64 from which a blob member is taken out
// of the body before the generic decode. encoding/json scans strings a byte
// at a time, twice (validation parses into any, then the input struct is
// decoded); an UploadLayerPart body is almost all one 27 MiB blob, so
// handling that one string with memchr-speed loops is what pays.
const fastBlobMin = 64 << 10

// blobValue is a blob member decodeFast took out of the body, decoded.
type blobValue struct {
	name string // member name, which is also the json tag of its field
	data []byte
}

// errNoBlobField makes decodeFast give way to decodeSlow when the input
// struct has no plain []byte field for the blob member.
var errNoBlobField = errors.New("awsjson: input has no []byte field for the blob member")

// decodeFast handles a body with one large, escape-free blob member at
// the top level: it checks the blob on the raw bytes, validates and
// decodes the rest of the body (with "" in the blob's place) as
// decodeSlow would, and decodes the base64 straight into the input.
//
// It reports false whenever the body is unusual or anything fails, and
// then decodeSlow redoes the request from the start: decodeFast never
// decides an error, so every error is worded, ordered and logged exactly
// as the general path does it.
func (s *Service) decodeFast(info *RequestInfo, op Operation, h Handler, body []byte, minLen int) (func(context.Context) (any, error), bool) {
	in, ok := s.Model.shapes[op.Input]
	if !ok || len(body) < minLen {
		return nil, false
	}
	name, lo, hi, ok := findBlob(s.Model, in, body, minLen)
	if !ok {
		return nil, false
	}
	raw := body[lo:hi]
	// base64Len skips \r and \n as encoding/json's decoding does, but raw
	// control characters make the JSON string itself invalid, and these
	// bytes are about to leave the body that json.Unmarshal will check.
	if bytes.IndexByte(raw, '\n') >= 0 || bytes.IndexByte(raw, '\r') >= 0 {
		return nil, false
	}
	n, ok := base64Len(raw)
	if !ok || checkLength(name, s.Model.shapes[in.Members[name]], n) != nil {
		return nil, false
	}
	rest := make([]byte, 0, len(body)-len(raw))
	rest = append(append(rest, body[:lo]...), body[hi:]...)
	var v any
	if json.Unmarshal(rest, &v) != nil {
		return nil, false
	}
	// The scanner and json.Unmarshal must agree on where the blob was.
	obj, ok := v.(map[string]any)
	if !ok || obj[name] != "" {
		return nil, false
	}
	recordRepository(info, obj)
	stripped, err := s.Model.validateInput(in, obj, name)
	if err != nil {
		return nil, false
	}
	if stripped {
		if rest, err = json.Marshal(obj); err != nil {
			return nil, false
		}
	}
	data := make([]byte, base64.StdEncoding.DecodedLen(len(raw)))
	m, err := base64.StdEncoding.Decode(data, raw)
	if err != nil || int64(m) != n {
		return nil, false
	}
	call, err := h.decode(rest, &blobValue{name: name, data: data[:m]})
	if err != nil {
		return nil, false
	}
	return call, true
}

// findBlob scans body, expected to be one JSON object, for a top-level
// member whose shape in in is a blob and whose value is a string of at
// least minLen bytes without escapes. It returns the member's name and
// the bounds of the string's contents (without the quotes).
//
// It is a lexer, not a validator: it tells strings from structure exactly
// as JSON does, which is enough to find the member in a valid body, and
// decodeFast has json.Unmarshal check the rest. It reports false, sending
// the body down the general path, for anything it is unsure of: a key with
// escapes (it could spell a member name), a blob member given twice (JSON
// keeps the last, and the short one may be last), or a shape it does not
// expect.
func findBlob(m *Model, in *Shape, body []byte, minLen int) (name string, lo, hi int, ok bool) {
	var seen []string // blob members met so far
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return "", 0, 0, false
	}
	i = skipSpace(body, i+1)
	for i < len(body) && body[i] == '"' {
		end, esc := skipString(body, i)
		if end < 0 || esc {
			return "", 0, 0, false
		}
		key := body[i+1 : end]
		blob := isBlobMember(m, in, key)
		if blob {
			for _, k := range seen {
				if k == string(key) {
					return "", 0, 0, false
				}
			}
			seen = append(seen, string(key))
		}
		i = skipSpace(body, end+1)
		if i >= len(body) || body[i] != ':' {
			return "", 0, 0, false
		}
		i = skipSpace(body, i+1)
		if i >= len(body) {
			return "", 0, 0, false
		}
		switch body[i] {
		case '"':
			end, esc := skipString(body, i)
			if end < 0 {
				return "", 0, 0, false
			}
			if blob && !esc && end-(i+1) >= minLen && name == "" {
				name, lo, hi = string(key), i+1, end
			}
			i = end + 1
		case '{', '[':
			if i = skipNested(body, i); i < 0 {
				return "", 0, 0, false
			}
		default: // number, true, false or null: short
			j := bytes.IndexAny(body[i:], ", \t\r\n}]")
			if j < 0 {
				return "", 0, 0, false
			}
			i += j
		}
		i = skipSpace(body, i)
		if i < len(body) && body[i] == ',' {
			i = skipSpace(body, i+1)
			continue
		}
		if i < len(body) && body[i] == '}' {
			return name, lo, hi, name != ""
		}
		return "", 0, 0, false
	}
	return "", 0, 0, false
}

func isBlobMember(m *Model, in *Shape, key []byte) bool {
	shape, ok := in.Members[string(key)]
	return ok && m.shapes[shape].Type == TypeBlob
}

// skipSpace returns the index of the first non-whitespace byte at or
// after i (JSON whitespace: space, tab, CR, LF).
func skipSpace(body []byte, i int) int {
	for i < len(body) {
		switch body[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index of the quote that closes the string opening
// at body[i], and whether the string holds escapes; -1 if it is not closed.
// It looks for quotes and backslashes with bytes.IndexByte, so an
// escape-free 27 MiB string is crossed at memchr speed.
func skipString(body []byte, i int) (end int, escaped bool) {
	j := i + 1
	quote := -1 // the first quote at or after j, once found
	for j <= len(body) {
		if quote < j {
			q := bytes.IndexByte(body[j:], '"')
			if q < 0 {
				return -1, escaped
			}
			quote = j + q
		}
		b := bytes.IndexByte(body[j:quote], '\\')
		if b < 0 {
			return quote, escaped
		}
		escaped = true
		j += b + 2 // the escaped byte, which may be the quote, is skipped
	}
	return -1, escaped
}

// skipNested returns the index just past the object or array opening at
// body[i], or -1 if it is not closed. Brackets are only counted, not
// matched: a mismatch makes the body invalid, which json.Unmarshal finds.
func skipNested(body []byte, i int) int {
	depth := 0
	for i < len(body) {
		j := bytes.IndexAny(body[i:], `"{}[]`)
		if j < 0 {
			return -1
		}
		i += j
		switch body[i] {
		case '"':
			end, _ := skipString(body, i)
			if end < 0 {
				return -1
			}
			i = end + 1
			continue
		case '{', '[':
			depth++
		default:
			depth--
		}
		i++
		if depth == 0 {
			return i
		}
	}
	return -1
}

// blobField finds the field of struct v that encoding/json fills from
// member name: the one exported field tagged with that name, and only if it
// is a plain []byte, which encoding/json fills with the decoded base64.
// Anything else (no such field, two of them, an embedded one, a named byte
// type with its own decoding) is left to decodeSlow.
func blobField(v reflect.Value, name string) (reflect.Value, bool) {
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	t := v.Type()
	found := -1
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || f.Anonymous || tag != name {
			continue
		}
		if found >= 0 {
			return reflect.Value{}, false
		}
		found = i
	}
	if found < 0 || t.Field(found).Type != reflect.TypeFor[[]byte]() {
		return reflect.Value{}, false
	}
	return v.Field(found), true
}
