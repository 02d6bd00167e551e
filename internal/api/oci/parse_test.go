package oci

import (
	"net/http"
	"slices"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

func TestParseContentRange(t *testing.T) {
	cases := []struct {
		in         string
		start, end int64
		ok         bool
	}{
		{"0-99", 0, 99, true},
		{"100-199", 100, 199, true},
		{"bytes 100-199/*", 100, 199, true},
		{"bytes=5-5", 5, 5, true},
		{"5-4", 0, 0, false},
		{"-5", 0, 0, false},
		{"a-b", 0, 0, false},
		{"10", 0, 0, false},
	}
	for _, c := range cases {
		s, e, ok := parseContentRange(c.in)
		if ok != c.ok || ok && (s != c.start || e != c.end) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v", c.in, s, e, ok)
		}
	}
}

func TestAcceptedTypes(t *testing.T) {
	cases := []struct {
		accept []string
		want   []string
	}{
		{nil, nil},
		{[]string{"application/json"}, nil},
		{[]string{registry.MediaTypeOCIManifest + "; q=0.5, " + registry.MediaTypeDockerManifest}, []string{registry.MediaTypeOCIManifest, registry.MediaTypeDockerManifest}},
		{[]string{registry.MediaTypeOCIIndex, registry.MediaTypeDockerManifestList}, []string{registry.MediaTypeOCIIndex, registry.MediaTypeDockerManifestList}},
		{[]string{registry.MediaTypeOCIIndex + ", */*"}, nil},
	}
	for _, c := range cases {
		r := &http.Request{Header: http.Header{"Accept": c.accept}}
		if got := acceptedTypes(r); !slices.Equal(got, c.want) {
			t.Errorf("acceptedTypes(%q) = %q, want %q", c.accept, got, c.want)
		}
	}
}

func TestByteRange(t *testing.T) {
	for size, want := range map[int64]string{0: "0-0", 1: "0-0", 100: "0-99"} {
		if got := byteRange(size); got != want {
			t.Errorf("byteRange(%d) = %q, want %q", size, got, want)
		}
	}
}
