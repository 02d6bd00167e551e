package sqlite

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/ecrd/ecrd/internal/registry"
)

// Statements over many rows (an image of 25,000 layers) bind them as one
// JSON array that SQLite's json_each expands, rather than as one statement
// per row or a statement of thousands of placeholders: one statement is
// prepared and run whatever the count, and SQLite's parameter limit never
// comes into it. Each row of json_each(?) has the element's index as key
// and the element as value; `value ->> n` is the n-th member of an array
// element, of its JSON type (a string as TEXT, an integer as INTEGER).

// stringsJSON encodes a list column's value as the JSON array its TEXT
// column holds: never null, an empty list being "[]".
func stringsJSON(ss []string) string {
	b := []byte{'['}
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return string(append(b, ']'))
}

// jsonStrings is the Scan destination of a list column: it decodes the
// JSON array into *s.
type jsonStrings struct{ s *[]string }

func (d jsonStrings) Scan(src any) error {
	var text []byte
	switch v := src.(type) {
	case string:
		text = []byte(v)
	case []byte:
		text = v
	default:
		return fmt.Errorf("a list column holds a %T", src)
	}
	return json.Unmarshal(text, d.s)
}

// digestsJSON encodes digests as a JSON array of strings.
func digestsJSON(digests []registry.Digest) string {
	b := make([]byte, 0, 2+len(digests)*(len("sha256:")+64+3))
	b = append(b, '[')
	for i, d := range digests {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, string(d))
	}
	return string(append(b, ']'))
}

// blobsJSON encodes image blobs as a JSON array of [digest, media type,
// size] arrays.
func blobsJSON(blobs []registry.ImageBlob) string {
	b := make([]byte, 0, 2+len(blobs)*(len("sha256:")+64+64))
	b = append(b, '[')
	for i, bl := range blobs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendJSONString(b, string(bl.Digest))
		b = append(b, ',')
		b = appendJSONString(b, bl.MediaType)
		b = append(b, ',')
		b = strconv.AppendInt(b, bl.Size, 10)
		b = append(b, ']')
	}
	return string(append(b, ']'))
}

// byMediaType groups digests by their media types, as the argument sets
// of dialect.SetLayerMediaTypes: a media type and the JSON array of its
// digests, in media type order.
func byMediaType(digests []registry.Digest, types []string) [][]any {
	byType := make(map[string][]registry.Digest)
	for i, d := range digests {
		byType[types[i]] = append(byType[types[i]], d)
	}
	sets := make([][]any, 0, len(byType))
	for _, mt := range slices.Sorted(maps.Keys(byType)) {
		sets = append(sets, []any{mt, digestsJSON(byType[mt])})
	}
	return sets
}

// appendJSONString appends s to b as a JSON string. Digests and media
// types are plain printable ASCII and go as they are; anything else is
// left to encoding/json, which would put U+FFFD for bytes that are not
// UTF-8 (the core's media types always are: it decoded them from JSON).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
