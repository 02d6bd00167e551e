package awsjson

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Model patterns are java.util.regex patterns, and ECR applies them to the
// whole value (it refuses "Team/App" although RepositoryName's pattern
// finds "eam/pp" inside it). compilePattern rewrites a pattern into RE2
// syntax that means what Java means and anchors it as ^(?:p)$.
//
// What differs between the two dialects, and how it is handled:
//   - Character classes: parsed here by Java's rules (a '-' is a range only
//     between two single characters and not before ']'; a '-' after a
//     completed range, as in [a-zA-Z0-9-_+.], is a literal) and re-emitted
//     with every literal escaped, so RE2's own class parser has no say.
//   - \s and \S: Java's whitespace includes \x0B, RE2's does not.
//   - '.': Java stops at \n, \r, \u0085, \u2028 and \u2029; RE2 only at \n.
//   - \uXXXX and \e exist only in Java; they become \x{XXXX} and \x1B.
//   - Nested classes, intersections (&&), \v, \h, \R, \X, \Z, \G and octal
//     escapes have no faithful RE2 form and are refused, as are constructs
//     RE2 lacks (lookaround, backreferences, possessive quantifiers), which
//     regexp.Compile refuses for us.
//   - Java's '$' also matches before a final line terminator. Anchored
//     whole-value matching makes that moot unless a pattern consumes a line
//     terminator after a '$'; none of the ECR models do.

const (
	javaSpace    = `\t\n\x0B\f\r `
	javaDotClass = `[^\n\r\x{85}\x{2028}\x{2029}]`
)

func compilePattern(p string) (*regexp.Regexp, error) {
	t, err := translatePattern(p)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", p, err)
	}
	re, err := regexp.Compile(`^(?:` + t + `)$`)
	if err != nil {
		return nil, fmt.Errorf("pattern %q (as RE2 %q): %w", p, t, err)
	}
	return re, nil
}

// translatePattern rewrites a Java regex into RE2 syntax (unanchored).
func translatePattern(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); {
		switch c := p[i]; c {
		case '[':
			n, err := translateClass(&b, p[i:])
			if err != nil {
				return "", err
			}
			i += n
		case '.':
			b.WriteString(javaDotClass)
			i++
		case '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("trailing backslash")
			}
			if p[i+1] == 'Q' { // \Q...\E quotes literally in both dialects
				end := strings.Index(p[i+2:], `\E`)
				if end < 0 {
					b.WriteString(regexp.QuoteMeta(p[i+2:]))
					return b.String(), nil
				}
				b.WriteString(regexp.QuoteMeta(p[i+2 : i+2+end]))
				i += 2 + end + 2
				continue
			}
			n, err := translateEscape(&b, p[i:], false)
			if err != nil {
				return "", err
			}
			i += n
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// translateClass translates the Java character class at the start of p,
// writes its RE2 form to b and returns how many bytes of p it used.
func translateClass(b *strings.Builder, p string) (int, error) {
	i := 1
	b.WriteByte('[')
	if i < len(p) && p[i] == '^' {
		b.WriteByte('^')
		i++
	}
	first := true
	for {
		if i >= len(p) {
			return 0, fmt.Errorf("unclosed character class")
		}
		switch {
		case p[i] == ']' && !first:
			b.WriteByte(']')
			return i + 1, nil
		case p[i] == '[':
			return 0, fmt.Errorf("nested character classes are not supported")
		case strings.HasPrefix(p[i:], "&&"):
			return 0, fmt.Errorf("character class intersection is not supported")
		}
		first = false
		lo, n, err := classAtom(b, p[i:])
		if err != nil {
			return 0, err
		}
		i += n
		if lo < 0 { // a predefined class such as \d, already written
			continue
		}
		// Java: a '-' makes a range unless it is followed by ']' or '['.
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' && p[i+1] != '[' {
			var hb strings.Builder
			hi, n, err := classAtom(&hb, p[i+1:])
			if err != nil {
				return 0, err
			}
			if hi < 0 {
				return 0, fmt.Errorf("range ends in a character class")
			}
			if hi < lo {
				return 0, fmt.Errorf("illegal character range %q-%q", lo, hi)
			}
			i += 1 + n
			fmt.Fprintf(b, `\x{%x}-\x{%x}`, lo, hi)
			continue
		}
		fmt.Fprintf(b, `\x{%x}`, lo)
	}
}

// classAtom reads one class element at the start of p. For a single
// character it returns the rune (writing nothing); for a predefined class
// it writes the class to b and returns -1.
func classAtom(b *strings.Builder, p string) (r rune, n int, err error) {
	if p[0] != '\\' {
		r, n = utf8.DecodeRuneInString(p)
		return r, n, nil
	}
	var eb strings.Builder
	n, err = translateEscape(&eb, p, true)
	if err != nil {
		return 0, 0, err
	}
	e := eb.String()
	// translateEscape writes single characters as \x{...}; anything else
	// is a class to splice in.
	if hex, ok := strings.CutPrefix(e, `\x{`); ok && strings.HasSuffix(hex, "}") {
		v, err := strconv.ParseUint(strings.TrimSuffix(hex, "}"), 16, 32)
		if err == nil {
			return rune(v), n, nil
		}
	}
	b.WriteString(e)
	return -1, n, nil
}

// translateEscape translates the escape sequence at the start of p (which
// begins with a backslash), writes it to b and returns its length. Single
// characters are always written as \x{...}.
func translateEscape(b *strings.Builder, p string, inClass bool) (int, error) {
	if len(p) < 2 {
		return 0, fmt.Errorf("trailing backslash")
	}
	c := p[1]
	lit := func(r rune, n int) (int, error) {
		fmt.Fprintf(b, `\x{%x}`, r)
		return n, nil
	}
	switch c {
	case 't':
		return lit('\t', 2)
	case 'n':
		return lit('\n', 2)
	case 'r':
		return lit('\r', 2)
	case 'f':
		return lit('\f', 2)
	case 'a':
		return lit('\a', 2)
	case 'e':
		return lit(0x1B, 2)
	case 'd', 'D', 'w', 'W':
		b.WriteString(p[:2]) // ASCII-only in both dialects
		return 2, nil
	case 's':
		if inClass {
			b.WriteString(javaSpace)
		} else {
			b.WriteString(`[` + javaSpace + `]`)
		}
		return 2, nil
	case 'S':
		if inClass {
			return 0, fmt.Errorf(`\S inside a character class is not supported`)
		}
		b.WriteString(`[^` + javaSpace + `]`)
		return 2, nil
	case 'b', 'B', 'A', 'z':
		if inClass {
			return 0, fmt.Errorf(`\%c inside a character class`, c)
		}
		b.WriteString(p[:2])
		return 2, nil
	case 'p', 'P':
		end := 3
		if len(p) > 2 && p[2] == '{' {
			end = strings.IndexByte(p, '}') + 1
		}
		if end <= 2 || end > len(p) {
			return 0, fmt.Errorf("bad property escape")
		}
		b.WriteString(p[:end])
		return end, nil
	case 'x':
		if len(p) > 2 && p[2] == '{' {
			end := strings.IndexByte(p, '}')
			v, err := strconv.ParseUint(p[3:max(end, 3)], 16, 32)
			if end < 0 || err != nil {
				return 0, fmt.Errorf("bad \\x{...} escape")
			}
			return lit(rune(v), end+1)
		}
		return hexEscape(p, 2, lit)
	case 'u':
		return hexEscape(p, 4, lit)
	}
	if c < utf8.RuneSelf && !isAlnum(c) {
		return lit(rune(c), 2) // Java: any escaped non-alphanumeric is itself
	}
	return 0, fmt.Errorf(`escape \%c is not supported`, c)
}

func hexEscape(p string, digits int, lit func(rune, int) (int, error)) (int, error) {
	if len(p) < 2+digits {
		return 0, fmt.Errorf("short \\%c escape", p[1])
	}
	v, err := strconv.ParseUint(p[2:2+digits], 16, 32)
	if err != nil {
		return 0, fmt.Errorf("bad \\%c escape", p[1])
	}
	return lit(rune(v), 2+digits)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
