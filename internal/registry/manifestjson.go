package registry

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
)

// The types in this file decode the members of a manifest that ecrd reads
// while remembering what the document held: absent, null, or a value of
// some JSON type. Decoding straight into Go values would turn null and a
// missing member alike into a zero value (a "layers": null manifest would
// read as one without layers), and a value of the wrong type into an
// encoding/json error that names Go types. encoding/json calls
// UnmarshalJSON for null too, so one decoding pass learns everything, and
// the checks in manifest.go then name the member that is wrong.
//
// No UnmarshalJSON here fails on a value of the wrong type: each records
// the kind it found and leaves the judgement to the checks, which know the
// member's path (layers[3].size) and the order in which to report.

// jsonKind is the JSON type of a member's value.
type jsonKind uint8

const (
	absent jsonKind = iota // the member is not in the document
	jsonNull
	jsonString
	jsonNumber
	jsonBool
	jsonArray
	jsonObject
)

// kindOf tells the kind of b, a JSON value as encoding/json hands it to
// UnmarshalJSON: valid, with no leading white space.
func kindOf(b []byte) jsonKind {
	if len(b) == 0 {
		return absent
	}
	switch b[0] {
	case 'n':
		return jsonNull
	case '"':
		return jsonString
	case 't', 'f':
		return jsonBool
	case '[':
		return jsonArray
	case '{':
		return jsonObject
	}
	return jsonNumber
}

// String is how messages name the kind: "layers must be an array, not null".
func (k jsonKind) String() string {
	return [...]string{"missing", "null", "a string", "a number", "a boolean", "an array", "an object"}[k]
}

// jsonStr is a member that should be a string.
type jsonStr struct {
	kind jsonKind
	v    string
}

func (s *jsonStr) UnmarshalJSON(b []byte) error {
	s.kind = kindOf(b)
	if s.kind != jsonString {
		return nil
	}
	// Digests and media types are plain ASCII: take them as they are
	// rather than paying for encoding/json's unquoting of each one. Escapes
	// and other bytes go the long way, which also replaces invalid UTF-8.
	inner := b[1 : len(b)-1]
	for _, c := range inner {
		if c == '\\' || c >= 0x80 {
			return json.Unmarshal(b, &s.v)
		}
	}
	s.v = string(inner)
	return nil
}

// jsonInt is a member that should be an integer: ok says it is one that
// fits an int64, v its value. raw keeps a number that is not, as written,
// for messages.
type jsonInt struct {
	kind jsonKind
	v    int64
	ok   bool
	raw  string
}

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	n.kind, n.v, n.ok, n.raw = kindOf(b), 0, false, ""
	if n.kind != jsonNumber {
		return nil
	}
	// Sizes are plain digits: add them up rather than allocate a string
	// per descriptor for strconv. Eighteen digits cannot overflow.
	if len(b) <= 18 {
		var v int64
		for _, c := range b {
			if c < '0' || c > '9' {
				v = -1
				break
			}
			v = v*10 + int64(c-'0')
		}
		if v >= 0 {
			n.v, n.ok = v, true
			return nil
		}
	}
	n.raw = string(b)
	v, err := strconv.ParseInt(n.raw, 10, 64)
	n.v, n.ok = v, err == nil
	return nil
}

// String is the number as the manifest wrote it (in canonical form when
// it is an integer).
func (n jsonInt) String() string {
	if n.raw == "" {
		return strconv.FormatInt(n.v, 10)
	}
	return n.raw
}

// jsonStrs is a member that should be an array of strings.
type jsonStrs struct {
	kind  jsonKind
	items []jsonStr
}

func (l *jsonStrs) UnmarshalJSON(b []byte) error {
	l.kind = kindOf(b)
	if l.kind != jsonArray {
		return nil
	}
	return json.Unmarshal(b, &l.items)
}

// jsonStrMap is a member that should be an object of strings
// (annotations). Only the first member that is not a string, in key
// order, is kept: nothing reads the values.
type jsonStrMap struct {
	kind    jsonKind
	badKey  string
	badKind jsonKind
}

func (m *jsonStrMap) UnmarshalJSON(b []byte) error {
	m.kind = kindOf(b)
	m.badKey, m.badKind = "", absent
	if m.kind != jsonObject {
		return nil
	}
	var members map[string]jsonStr
	if err := json.Unmarshal(b, &members); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(members)) {
		if members[k].kind != jsonString {
			m.badKey, m.badKind = k, members[k].kind
			return nil
		}
	}
	return nil
}

// descriptor holds the members of an OCI/Docker descriptor that the
// registry checks or reads; others (platform, data) pass unread.
type descriptor struct {
	MediaType    jsonStr    `json:"mediaType"`
	Digest       jsonStr    `json:"digest"`
	Size         jsonInt    `json:"size"`
	URLs         jsonStrs   `json:"urls"`
	Annotations  jsonStrMap `json:"annotations"`
	ArtifactType jsonStr    `json:"artifactType"`
}

// jsonDesc is a member that should be a descriptor object (config,
// subject).
type jsonDesc struct {
	kind jsonKind
	d    descriptor
}

func (m *jsonDesc) UnmarshalJSON(b []byte) error {
	m.kind = kindOf(b)
	if m.kind != jsonObject {
		return nil
	}
	m.d = descriptor{}
	return json.Unmarshal(b, &m.d)
}

// jsonDescs is a member that should be an array of descriptor objects
// (layers, manifests). items holds the elements in order, nil for a null
// one. An element that is neither an object nor null ends items: badAt is
// its index and badKind its kind (absent when there is none).
type jsonDescs struct {
	kind    jsonKind
	items   []*descriptor
	badAt   int
	badKind jsonKind
}

// UnmarshalJSON decodes the array in one call, into pointers so that a
// null element shows as nil: giving each element an UnmarshalJSON of its
// own would make encoding/json validate and scan every element twice more,
// and a manifest of 25,000 layers is 3.7 MiB. Only an element of another
// type, which encoding/json reports as a type error without its index,
// takes the slow way to find which one it is.
func (l *jsonDescs) UnmarshalJSON(b []byte) error {
	l.kind, l.items, l.badAt, l.badKind = kindOf(b), nil, 0, absent
	if l.kind != jsonArray {
		return nil
	}
	err := json.Unmarshal(b, &l.items)
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		return err
	}
	l.items = l.items[:0]
	for i, e := range elems {
		switch k := kindOf(e); k {
		case jsonNull:
			l.items = append(l.items, nil)
		case jsonObject:
			d := new(descriptor)
			if err := json.Unmarshal(e, d); err != nil {
				return err
			}
			l.items = append(l.items, d)
		default:
			l.badAt, l.badKind = i, k
			return nil
		}
	}
	return nil
}
