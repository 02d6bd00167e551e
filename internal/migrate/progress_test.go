package migrate

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/syncbuf"
)

// TestProgressPlain: off a terminal, progress is whole lines, one per
// interval while running, with objects, bytes, rate and ETA, and a last
// line saying it is done; never a carriage return or escape sequence.
func TestProgressPlain(t *testing.T) {
	var out syncbuf.Buffer
	p := newProgress(Options{Progress: &out, Interval: 10 * time.Millisecond}, 10, 4<<20)
	p.add(1, 0)
	p.addCopied(1 << 20)
	time.Sleep(50 * time.Millisecond)
	p.addCopied(3 << 20)
	p.add(9, 0)
	p.finish()
	p.stop() // after finish: nothing more

	text := out.String()
	if strings.ContainsAny(text, "\r\x1b") {
		t.Fatalf("plain progress has control characters: %q", text)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 2 {
		t.Fatalf("progress %q: want lines while running and a last one", text)
	}
	running := regexp.MustCompile(`^ecrd migrate: \d+/10 objects, [0-9.]+ (B|KiB|MiB)/4\.0 MiB, [0-9.]+ (B|KiB|MiB)/s, ETA \d+(ms|s|m[0-9]+s)?$`)
	for _, l := range lines[:len(lines)-1] {
		if !running.MatchString(l) {
			t.Errorf("running line %q does not match %s", l, running)
		}
	}
	last := regexp.MustCompile(`^ecrd migrate: 10/10 objects, 4\.0 MiB/4\.0 MiB, [0-9.]+ (KiB|MiB|GiB)/s, done in [0-9.]+m?s$`)
	if l := lines[len(lines)-1]; !last.MatchString(l) {
		t.Errorf("last line %q does not match %s", l, last)
	}
}

// TestProgressTerminal: on a terminal, progress redraws one line in place
// (\r, then the bar, then clearing the rest of the line), and ends it with
// a newline when done.
func TestProgressTerminal(t *testing.T) {
	var out syncbuf.Buffer
	p := newProgress(Options{Progress: &out, Terminal: true, Interval: 10 * time.Millisecond}, 4, 8<<20)
	p.addCopied(2 << 20)
	time.Sleep(50 * time.Millisecond)
	p.addCopied(6 << 20)
	p.add(4, 0)
	p.finish()

	text := out.String()
	if strings.Count(text, "\n") != 1 || !strings.HasSuffix(text, "\n") {
		t.Fatalf("terminal progress %q: want one line, ended once", text)
	}
	draws := strings.Split(strings.TrimPrefix(strings.TrimSuffix(text, "\n"), "\r"), "\r")
	if len(draws) < 2 {
		t.Fatalf("terminal progress %q: want redraws", text)
	}
	draw := regexp.MustCompile(`^\[[#.]{24}\] \d+/4 objects, .*\x1b\[K$`)
	for _, d := range draws {
		if !draw.MatchString(d) {
			t.Errorf("draw %q does not match %s", d, draw)
		}
	}
	if last := draws[len(draws)-1]; !strings.HasPrefix(last, "["+strings.Repeat("#", 24)+"] 4/4 objects, 8.0 MiB/8.0 MiB") || !strings.Contains(last, "done in") {
		t.Errorf("last draw %q: want a full bar and done", last)
	}
}

// TestProgressStopAfterFailure: stopping a terminal display that did not
// finish ends its line, so the error printed next starts a line of its own.
func TestProgressStopAfterFailure(t *testing.T) {
	var out syncbuf.Buffer
	p := newProgress(Options{Progress: &out, Terminal: true, Interval: time.Hour}, 1, 1)
	p.stop()
	if got := out.String(); got != "\n" {
		t.Fatalf("stopped display wrote %q, want a newline", got)
	}
	var none *progress
	none.add(1, 1)
	none.finish()
	none.stop()
}

// TestETA: the time left follows the bytes while any are left, then the
// objects.
func TestETA(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		objs, objTotal, bytes, bTot int64
		rate                        float64
		want                        string
	}{
		{"Bytes", 1, 10, 1 << 20, 3 << 20, 1 << 20, "2s"},
		{"NoRateYet", 0, 10, 0, 3 << 20, 0, "unknown"},
		{"Records", 5, 10, 3 << 20, 3 << 20, 1 << 20, "10s"},
		{"Done", 10, 10, 3 << 20, 3 << 20, 1 << 20, "0s"},
	} {
		if got := eta(10*time.Second, tc.objs, tc.objTotal, tc.bytes, tc.bTot, tc.rate); got != tc.want {
			t.Errorf("%s: eta = %s, want %s", tc.name, got, tc.want)
		}
	}
}
