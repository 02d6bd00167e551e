package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// instruction is one Dockerfile instruction, its continuation lines joined.
type instruction struct {
	line  int         // the line it starts on, for messages
	cmd   string      // its keyword, upper case
	flags []instrFlag // the --name=value flags after the keyword
	args  string      // the rest
	text  string      // the whole instruction on one line, for the image's history
}

// instrFlag is one --name=value flag of an instruction.
type instrFlag struct{ name, value string }

func (in instruction) errorf(format string, a ...any) error {
	return fmt.Errorf("Dockerfile:%d: %s: %s", in.line, in.cmd, fmt.Sprintf(format, a...))
}

// heredocRE finds a heredoc (RUN <<EOF), which parseDockerfile cannot split
// into instructions.
var heredocRE = regexp.MustCompile(`(^|\s)<<-?["']?[A-Za-z_]`)

// parseDockerfile splits a Dockerfile into instructions as Docker's parser
// does: comment lines are dropped (also between continuation lines), a line
// ending in a backslash continues on the next, and flags are taken from the
// front of every instruction. Only the default escape character is supported.
func parseDockerfile(r io.Reader) ([]instruction, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var (
		out   []instruction
		cur   []string
		start int
	)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			if len(out) == 0 && len(cur) == 0 {
				if d, ok := strings.CutPrefix(strings.ReplaceAll(line, " ", ""), "#escape="); ok && d != `\` {
					return nil, fmt.Errorf("Dockerfile:%d: only the default escape character is supported", n)
				}
			}
			continue
		}
		if line == "" {
			continue
		}
		if len(cur) == 0 {
			start = n
		}
		body, more := strings.CutSuffix(line, `\`)
		cur = append(cur, strings.TrimSpace(body))
		if more {
			continue
		}
		in, err := splitInstruction(start, strings.Join(cur, " "))
		if err != nil {
			return nil, err
		}
		out = append(out, in)
		cur = nil
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(cur) > 0 {
		return nil, fmt.Errorf("Dockerfile:%d: the last instruction ends in a line continuation", start)
	}
	return out, nil
}

func splitInstruction(line int, text string) (instruction, error) {
	cmd, rest, _ := strings.Cut(text, " ")
	in := instruction{line: line, cmd: strings.ToUpper(cmd), text: text}
	rest = strings.TrimSpace(rest)
	for strings.HasPrefix(rest, "--") {
		word, after, _ := strings.Cut(rest, " ")
		name, value, ok := strings.Cut(word[2:], "=")
		if !ok {
			return in, in.errorf("flag %s has no value (want --name=value)", word)
		}
		in.flags = append(in.flags, instrFlag{name, value})
		rest = strings.TrimSpace(after)
	}
	in.args = rest
	switch in.cmd {
	case "RUN", "COPY", "ADD":
		if heredocRE.MatchString(rest) {
			return in, in.errorf("heredocs are not supported")
		}
	}
	return in, nil
}

// splitWords splits s at whitespace outside quotes, keeping the quotes and
// escapes in each word for expand.
func splitWords(s string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
		quote  rune
		escape bool
	)
	for _, r := range s {
		switch {
		case escape:
			escape = false
		case r == '\\' && quote != '\'':
			escape = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			continue
		}
		cur.WriteRune(r)
		inWord = true
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// varNameRE is what may follow $ in a variable reference.
var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

// expand removes the quotes and escapes of one word and replaces $NAME and
// ${NAME} (but not inside single quotes) with the variable's value. Unlike
// Docker, which expands an undefined variable to nothing, it refuses one:
// in this repository's Dockerfile that is always a mistake. The ${NAME:-…}
// forms are not supported.
func expand(word string, lookup func(string) (string, bool)) (string, error) {
	var (
		out   strings.Builder
		quote rune
	)
	rs := []rune(word)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && quote != '\'' && i+1 < len(rs):
			next := rs[i+1]
			if quote == '"' && next != '"' && next != '\\' && next != '$' {
				out.WriteRune(r)
				continue
			}
			out.WriteRune(next)
			i++
		case r == '\'' && quote != '"', r == '"' && quote != '\'':
			if quote == 0 {
				quote = r
			} else {
				quote = 0
			}
		case r == '$' && quote != '\'':
			rest := string(rs[i+1:])
			var name string
			braced := strings.HasPrefix(rest, "{")
			if braced {
				end := strings.IndexByte(rest, '}')
				if end < 0 {
					return "", fmt.Errorf("unterminated ${ in %q", word)
				}
				name = rest[1:end]
				if !varNameRE.MatchString(name) || varNameRE.FindString(name) != name {
					return "", fmt.Errorf("${%s} in %q: only plain ${NAME} is supported", name, word)
				}
			} else if name = varNameRE.FindString(rest); name == "" {
				out.WriteRune(r)
				continue
			}
			v, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("%q uses $%s, which no ARG or ENV before it defines", word, name)
			}
			out.WriteString(v)
			i += len([]rune(name))
			if braced {
				i += 2
			}
		default:
			out.WriteRune(r)
		}
	}
	return out.String(), nil
}

// expandWords splits s into words and expands each.
func expandWords(s string, lookup func(string) (string, bool)) ([]string, error) {
	raw, err := splitWords(s)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(raw))
	for i, w := range raw {
		if out[i], err = expand(w, lookup); err != nil {
			return nil, err
		}
	}
	return out, nil
}
