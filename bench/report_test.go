package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestEmbeddedTargets: the embedded table's rows read against distribution,
// the machine's limits and absolute bounds, and say which targets they met.
func TestEmbeddedTargets(t *testing.T) {
	ecrd := []measures{{"head-1": 3000, "head-32": 9000, "bcla-32": 250000, "bcla-p99-1": 6,
		"manifest-p50": 1, "push-1": 300, "rss-push": 20}}
	dist := []measures{{"head-1": 1000, "head-32": 5000, "manifest-p50": 3, "push-1": 100, "rss-push": 40}}
	r := newReport(true, 1)
	r.Limits.Disk = 400
	r.Limits.HTTP = &floor{Head1: 5000, HeadN: 30000, GetP50: 0.5}
	r.fill(rows, ecrd, dist)
	got := map[string]string{}
	of := map[string]float64{}
	for _, rw := range r.Rows {
		got[rw.ecrdKey] = targetCell(rw)
		of[rw.ecrdKey] = rw.OfLimit
	}
	for key, want := range map[string]string{
		"head-1":       "≥ 2×, ≥ 50% of limit: met",    // 3×, 60% of the floor
		"head-32":      "≥ 2×, ≥ 50% of limit: MISSED", // 1.8×, 30%
		"bcla-32":      "≥ 40×: met",                   // 50× distribution's HEAD
		"bcla-p99-1":   "< 5 ms: MISSED",
		"manifest-p50": "≥ 2×: met", // a third of distribution's latency
		"push-1":       "≥ 1.5×, ≥ 90% of limit: MISSED",
		"rss-push":     "< 64 MiB: met",
		"manifest-rps": "≥ 2×", // not measured
	} {
		if got[key] != want {
			t.Errorf("%s: %q, want %q", key, got[key], want)
		}
	}
	if of["head-1"] != 0.6 || of["manifest-p50"] != 0.5 || of["push-1"] != 0.75 {
		t.Errorf("of limit: head-1 %v (want 0.6), manifest-p50 %v (0.5), push-1 %v (0.75)", of["head-1"], of["manifest-p50"], of["push-1"])
	}
	var md bytes.Buffer
	r.markdown(&md)
	for _, want := range []string{"| of limit | target |", "| physical limit: trivial Go handler, HEAD, 1 client | req/s | 5000 | | | | | Go HTTP |", "| 60% | ≥ 2×, ≥ 50% of limit: met |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, md.String())
		}
	}
}
