package awsjson

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Time is a timestamp as awsJson carries it: epoch seconds in a JSON
// number, with milliseconds as the fraction (1700000000.123). Use it for
// timestamp members of inputs and outputs; tag optional members omitzero
// so that a zero Time is left out rather than sent as year 1.
type Time struct {
	time.Time
}

// MarshalJSON writes t as epoch seconds with up to three decimals, no
// exponent and no trailing zeros.
func (t Time) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	// Every millisecond count since year 1 is far below 2^53, so ms/1000 is
	// the double nearest the exact decimal and 'f' with precision -1
	// prints that decimal back.
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds from a JSON number. A plain decimal is
// parsed exactly (to the nanosecond); one with an exponent goes through
// float64. null leaves t unchanged.
func (t *Time) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if s == "null" {
		return nil
	}
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("awsjson: timestamp %s is not epoch seconds", s)
		}
		sec := int64(f)
		t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
		return nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || (frac == "" && strings.Contains(s, ".")) {
		return fmt.Errorf("awsjson: timestamp %s is not epoch seconds", s)
	}
	var nsec int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9] // below a nanosecond: truncate
		}
		n, err := strconv.ParseUint(frac, 10, 64)
		if err != nil {
			return fmt.Errorf("awsjson: timestamp %s is not epoch seconds", s)
		}
		nsec = int64(n)
		for i := len(frac); i < 9; i++ {
			nsec *= 10
		}
	}
	if neg {
		nsec = -nsec
	}
	t.Time = time.Unix(sec, nsec).UTC()
	return nil
}
