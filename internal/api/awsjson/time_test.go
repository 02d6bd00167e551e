package awsjson_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/api/awsjson"
)

func TestTime_MarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"Milliseconds", time.UnixMilli(1700000000123), "1700000000.123"},
		{"WholeSecond", time.Unix(1700000000, 0), "1700000000"},
		{"TrailingZero", time.UnixMilli(1700000000100), "1700000000.1"},
		{"SubMillisecondTruncated", time.Unix(1700000000, 999_999), "1700000000"},
		{"BeforeEpoch", time.UnixMilli(-1500), "-1.5"},
		{"FarFuture", time.UnixMilli(253402300799999), "253402300799.999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(awsjson.Time{Time: tt.t})
			if err != nil || string(got) != tt.want {
				t.Fatalf("Marshal = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestTime_UnmarshalJSON(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Time
		wantErr  bool
	}{
		{"Milliseconds", "1700000000.123", time.UnixMilli(1700000000123), false},
		{"Integer", "1700000000", time.Unix(1700000000, 0), false},
		{"Nanoseconds", "1700000000.123456789", time.Unix(1700000000, 123456789), false},
		{"BeyondNanoseconds", "1.0000000019", time.Unix(1, 1), false},
		{"Negative", "-1.5", time.UnixMilli(-1500), false},
		{"Exponent", "1.7e9", time.Unix(1700000000, 0), false},
		{"Null", "null", time.Time{}, false},
		{"String", `"2024-01-01T00:00:00Z"`, time.Time{}, true},
		{"DotOnly", "1.", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got awsjson.Time
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal(%s) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("Unmarshal(%s) = %v, want %v", tt.in, got.Time, tt.want)
			}
		})
	}
}

func TestTime_RoundTrip(t *testing.T) {
	in := awsjson.Time{Time: time.UnixMilli(1731234567891)}
	data, _ := json.Marshal(in)
	var out awsjson.Time
	if err := json.Unmarshal(data, &out); err != nil || !out.Equal(in.Time) {
		t.Fatalf("round trip %s = %v, %v", data, out.Time, err)
	}
}
