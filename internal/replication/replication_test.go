package replication

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 9: 256 * time.Second, 10: 5 * time.Minute, 30: 5 * time.Minute} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestParseRegions(t *testing.T) {
	rs, err := ParseRegions("us-west-2=http://AKID:secret@west:5000, eu-west-1=https://K:S@eu.example")
	if err != nil || rs["us-west-2"].Host != "west:5000" || rs["us-west-2"].User.Username() != "AKID" || rs["eu-west-1"].Scheme != "https" {
		t.Fatalf("ParseRegions: %v, %v", rs, err)
	}
	for _, bad := range []string{"us-west-2", "us-west-2=http://west:5000", "=http://K:S@x", "us-west-2=ftp://K:S@x"} {
		if _, err := ParseRegions(bad); err == nil {
			t.Errorf("ParseRegions(%q) took it", bad)
		}
	}
}
