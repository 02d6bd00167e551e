package iam

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// conditionsHold evaluates a statement's Condition against a request's
// context: every operator and every key under it must hold (AND); a key
// holds when the request's value matches any of the condition's (OR).
// Condition keys are case-insensitive, as in IAM.
func conditionsHold(cond map[string]map[string][]string, ctx map[string][]string) bool {
	for op, keys := range cond {
		for key, want := range keys {
			have, present := lookup(ctx, key)
			if !holds(op, have, present, want) {
				return false
			}
		}
	}
	return true
}

func lookup(ctx map[string][]string, key string) ([]string, bool) {
	if v, ok := ctx[key]; ok {
		return v, true
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// holds evaluates one operator for one key.
func holds(op string, have []string, present bool, want []string) bool {
	if op == "Null" {
		// "true": the key must be absent; "false": present.
		return len(want) > 0 && (want[0] == "true") == !present
	}
	set := ""
	if rest, ok := strings.CutPrefix(op, "ForAnyValue:"); ok {
		set, op = "any", rest
	} else if rest, ok := strings.CutPrefix(op, "ForAllValues:"); ok {
		set, op = "all", rest
	}
	ifExists := false
	if base, ok := strings.CutSuffix(op, "IfExists"); ok {
		ifExists, op = true, base
	}
	negated := isNegated(op)
	switch {
	case set == "all":
		// Every value the request has must match one wanted value; none
		// (or an absent key) is vacuously true.
		for _, h := range have {
			if !matchOne(op, h, want) {
				return false
			}
		}
		return true
	case set == "any":
		for _, h := range have {
			if matchOne(op, h, want) {
				return true
			}
		}
		return false
	case !present:
		// A missing key: IfExists holds; a negated operator holds (nothing
		// equals what is not there); the rest fail.
		return ifExists || negated
	}
	if negated {
		// A negated operator holds when every value is unlike every wanted
		// one (matchOne negates the positive match).
		for _, h := range have {
			if !matchOne(op, h, want) {
				return false
			}
		}
		return true
	}
	for _, h := range have {
		if matchOne(op, h, want) {
			return true
		}
	}
	return false
}

func isNegated(op string) bool {
	return strings.Contains(op, "Not") && op != "Null"
}

// positive is a negated operator's positive form.
func positive(op string) string {
	switch op {
	case "NotIpAddress":
		return "IpAddress"
	case "ArnNotEquals":
		return "ArnEquals"
	case "ArnNotLike":
		return "ArnLike"
	}
	return strings.Replace(op, "Not", "", 1)
}

// matchOne reports whether the request's value h matches any wanted value
// under op (op's negation is handled by holds).
func matchOne(op, h string, want []string) bool {
	if isNegated(op) {
		return !matchOne(positive(op), h, want)
	}
	for _, w := range want {
		if compare(op, h, w) {
			return true
		}
	}
	return false
}

func compare(op, h, w string) bool {
	switch op {
	case "StringEquals":
		return h == w
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(h, w)
	case "StringLike":
		return Match(w, h)
	case "ArnEquals", "ArnLike":
		return arnLike(w, h)
	case "Bool":
		return strings.EqualFold(h, w)
	case "BinaryEquals":
		return h == w
	case "IpAddress":
		return inPrefix(h, w)
	case "NumericEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals":
		a, err1 := strconv.ParseFloat(h, 64)
		b, err2 := strconv.ParseFloat(w, 64)
		return err1 == nil && err2 == nil && order(op[len("Numeric"):], compareFloat(a, b))
	case "DateEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals":
		a, ok1 := parseDate(h)
		b, ok2 := parseDate(w)
		return ok1 && ok2 && order(op[len("Date"):], a.Compare(b))
	}
	return false
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// order reports whether a comparison's result c satisfies the relation.
func order(rel string, c int) bool {
	switch rel {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThan":
		return c > 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// parseDate reads an ISO 8601 date-time, a date, or epoch seconds.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

// inPrefix reports whether the address ip is in w, a CIDR block or one
// address.
func inPrefix(ip, w string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	if !strings.Contains(w, "/") {
		want, err := netip.ParseAddr(w)
		return err == nil && want.Unmap() == addr.Unmap()
	}
	p, err := netip.ParsePrefix(w)
	return err == nil && p.Contains(addr.Unmap())
}

// arnLike matches ARNs field by field, each with wildcards, as ArnLike
// does (ArnEquals matches the same way).
func arnLike(pattern, arn string) bool {
	pf, af := strings.SplitN(pattern, ":", 6), strings.SplitN(arn, ":", 6)
	if len(pf) != 6 || len(af) != 6 {
		return false
	}
	for i := range pf {
		if !Match(pf[i], af[i]) {
			return false
		}
	}
	return true
}
