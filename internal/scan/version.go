package scan

import (
	"strconv"
	"strings"
)

// compareFunc orders two versions of a package manager: <0, 0 or >0.
type compareFunc func(a, b string) int

// compareDeb orders Debian versions as dpkg does:
// [epoch:]upstream[-revision], each part compared by verrevcmp.
func compareDeb(a, b string) int {
	ea, ua, ra := splitDeb(a)
	eb, ub, rb := splitDeb(b)
	if ea != eb {
		return ea - eb
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

func splitDeb(v string) (epoch int, upstream, revision string) {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, _ = strconv.Atoi(v[:i])
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// rest is s past its first byte ("" stays "").
func rest(s string) string {
	if s == "" {
		return s
	}
	return s[1:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// debOrder is a character's weight outside digit runs: '~' before the
// end, the end before letters, letters before everything else.
func debOrder(s string) int {
	if s == "" {
		return 0
	}
	c := s[0]
	switch {
	case isDigit(c):
		return 0
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return int(c)
	case c == '~':
		return -1
	}
	return int(c) + 256
}

// verrevcmp alternates non-digit runs, compared by debOrder, and digit
// runs, compared as numbers.
func verrevcmp(a, b string) int {
	for a != "" || b != "" {
		for (a != "" && !isDigit(a[0])) || (b != "" && !isDigit(b[0])) {
			ac, bc := debOrder(a), debOrder(b)
			if ac != bc {
				return ac - bc
			}
			a, b = rest(a), rest(b)
		}
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		first := 0
		for a != "" && b != "" && isDigit(a[0]) && isDigit(b[0]) {
			if first == 0 {
				first = int(a[0]) - int(b[0])
			}
			a, b = a[1:], b[1:]
		}
		if a != "" && isDigit(a[0]) {
			return 1
		}
		if b != "" && isDigit(b[0]) {
			return -1
		}
		if first != 0 {
			return first
		}
	}
	return 0
}

// apkVersion is an Alpine version taken apart:
// digits{.digits}[letter]{_suffix[digits]}[-rN].
type apkVersion struct {
	numbers  []int
	letter   byte
	suffixes [][2]int // rank, number
	revision int
}

// apkSuffixes rank the suffixes: pre-releases before the release (0),
// the rest after.
var apkSuffixes = map[string]int{"alpha": -4, "beta": -3, "pre": -2, "rc": -1, "cvs": 1, "svn": 2, "git": 3, "hg": 4, "p": 5}

func parseAPK(v string) apkVersion {
	var out apkVersion
	if i := strings.LastIndex(v, "-r"); i >= 0 {
		out.revision, _ = strconv.Atoi(v[i+2:])
		v = v[:i]
	}
	main, rest, _ := strings.Cut(v, "_")
	for len(main) > 0 {
		j := 0
		for j < len(main) && isDigit(main[j]) {
			j++
		}
		n, _ := strconv.Atoi(main[:j])
		out.numbers = append(out.numbers, n)
		main = main[j:]
		if len(main) > 0 && main[0] == '.' {
			main = main[1:]
			continue
		}
		if len(main) > 0 {
			out.letter = main[0]
		}
		break
	}
	for rest != "" {
		var s string
		s, rest, _ = strings.Cut(rest, "_")
		j := 0
		for j < len(s) && !isDigit(s[j]) {
			j++
		}
		n, _ := strconv.Atoi(s[j:])
		out.suffixes = append(out.suffixes, [2]int{apkSuffixes[s[:j]], n})
	}
	return out
}

// compareAPK orders Alpine versions as apk does for the forms its
// packages use.
func compareAPK(a, b string) int {
	va, vb := parseAPK(a), parseAPK(b)
	for i := 0; i < max(len(va.numbers), len(vb.numbers)); i++ {
		switch {
		case i >= len(va.numbers):
			return -1
		case i >= len(vb.numbers):
			return 1
		case va.numbers[i] != vb.numbers[i]:
			return va.numbers[i] - vb.numbers[i]
		}
	}
	if va.letter != vb.letter {
		return int(va.letter) - int(vb.letter)
	}
	for i := 0; i < max(len(va.suffixes), len(vb.suffixes)); i++ {
		var sa, sb [2]int
		if i < len(va.suffixes) {
			sa = va.suffixes[i]
		}
		if i < len(vb.suffixes) {
			sb = vb.suffixes[i]
		}
		if sa[0] != sb[0] {
			return sa[0] - sb[0]
		}
		if sa[1] != sb[1] {
			return sa[1] - sb[1]
		}
	}
	return va.revision - vb.revision
}
