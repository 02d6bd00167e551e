package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseDockerfile(t *testing.T) {
	df := `# syntax=docker/dockerfile:1
FROM golang AS build
run echo a \
  # a comment inside a continuation is dropped
  && echo b

COPY --from=build --chmod=0755 /out/ecrd /usr/local/bin/ecrd
`
	got, err := parseDockerfile(strings.NewReader(df))
	if err != nil {
		t.Fatal(err)
	}
	want := []instruction{
		{line: 2, cmd: "FROM", args: "golang AS build", text: "FROM golang AS build"},
		{line: 3, cmd: "RUN", args: "echo a && echo b", text: "run echo a && echo b"},
		{line: 7, cmd: "COPY", flags: []instrFlag{{"from", "build"}, {"chmod", "0755"}},
			args: "/out/ecrd /usr/local/bin/ecrd", text: "COPY --from=build --chmod=0755 /out/ecrd /usr/local/bin/ecrd"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseDockerfileRefuses(t *testing.T) {
	for _, tc := range []struct{ name, df, err string }{
		{"EscapeDirective", "# escape=`\nFROM scratch\n", "escape character"},
		{"Heredoc", "FROM scratch\nRUN <<EOF\necho\nEOF\n", "heredocs"},
		{"TrailingContinuation", "FROM scratch \\\n", "line continuation"},
		{"FlagWithoutValue", "FROM scratch\nCOPY --link a b\n", "--link has no value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseDockerfile(strings.NewReader(tc.df))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want one saying %q", err, tc.err)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	vars := lookupIn(map[string]string{"A": "x", "B": "y z"})
	for _, tc := range []struct{ in, want, err string }{
		{in: "plain", want: "plain"},
		{in: "$A", want: "x"},
		{in: "${A}b", want: "xb"},
		{in: "$Ab", err: "$Ab"},
		{in: `"$B and $A"`, want: "y z and x"},
		{in: `'$A'`, want: "$A"},
		{in: `\$A`, want: "$A"},
		{in: `"a\"b\n"`, want: `a"b\n`},
		{in: "cost $5", want: "cost $5"},
		{in: "${A:-d}", err: "only plain ${NAME}"},
		{in: "$UNDEFINED", err: "no ARG or ENV"},
		{in: "${A", err: "unterminated"},
	} {
		got, err := expand(tc.in, vars)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("expand(%q): err %v, want one saying %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestKeyValues(t *testing.T) {
	vars := lookupIn(map[string]string{"V": "1.0"})
	for _, tc := range []struct {
		in   string
		want [][2]string
	}{
		{`a=1 b="two words" c=$V`, [][2]string{{"a", "1"}, {"b", "two words"}, {"c", "1.0"}}},
		{`KEY value with  spaces`, [][2]string{{"KEY", "value with  spaces"}}},
		{`org.opencontainers.image.version="$V"`, [][2]string{{"org.opencontainers.image.version", "1.0"}}},
	} {
		got, err := keyValues(tc.in, vars)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("keyValues(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := keyValues(`a=1 b`, vars); err == nil {
		t.Error(`keyValues("a=1 b") succeeded; want an error for "b"`)
	}
}
