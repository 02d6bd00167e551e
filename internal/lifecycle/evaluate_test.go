package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

var now = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }

func img(name string, age int, tags ...string) Image {
	return Image{Digest: registry.Digest(name), Tags: tags, PushedAt: daysAgo(age), Status: registry.ImageActive}
}

// policy builds a policy text from rules written as JSON objects.
func policy(t *testing.T, rules ...string) Policy {
	t.Helper()
	text := `{"rules":[` + strings.Join(rules, ",") + `]}`
	for len(text) < MinTextLen {
		text += " "
	}
	p, _, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(%s): %v", text, err)
	}
	return p
}

func prefixKeep(prio int, prefix string, keep int) string {
	return fmt.Sprintf(`{"rulePriority":%d,"selection":{"tagStatus":"tagged","tagPrefixList":[%q],"countType":"imageCountMoreThan","countNumber":%d},"action":{"type":"expire"}}`, prio, prefix, keep)
}

func acted(ds []Decision) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmt.Sprintf("%s:%s@%d", d.Digest, d.Action, d.Rule))
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

// TestEvaluateDocExamples: the user guide's worked examples come out as
// it says (ecr-semantics-2.md §1.4).
func TestEvaluateDocExamples(t *testing.T) {
	abc := []Image{img("A", 10, "beta-1", "prod-1"), img("B", 9, "beta-2", "prod-2"), img("C", 8, "beta-3")}
	cases := []struct {
		name   string
		p      Policy
		images []Image
		want   string
	}{
		// B is claimed by rule 1, which keeps it: rule 2 cannot expire it.
		{"ClaimedAndKept", policy(t, prefixKeep(1, "prod", 1), prefixKeep(2, "beta", 1)), abc, "A:expire@1"},
		{"BetaFirst", policy(t, prefixKeep(1, "beta", 1), prefixKeep(2, "prod", 1)), abc, "A:expire@1 B:expire@1"},
		// Rule 3 keeps E, which rule 2 claims; D is rule 3's only own
		// candidate.
		{"AnyCountsClaimed", policy(t, prefixKeep(1, "alpha", 1),
			`{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}`,
			`{"rulePriority":3,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}`),
			[]Image{img("A", 4, "alpha-1", "beta-1"), img("B", 3), img("C", 2, "alpha-2"), img("D", 1, "git hash"), {Digest: "E", PushedAt: now.Add(-time.Hour), Status: registry.ImageActive}},
			"A:expire@1 B:expire@2 D:expire@3"},
		// A prefix list needs every prefix among the image's tags.
		{"EveryPrefix", policy(t, `{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["alpha","beta"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}`),
			[]Image{img("A", 5, "alpha-1", "beta-1"), img("B", 5, "alpha-2"), img("C", 5, "beta-2")}, "A:expire@1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := acted(Evaluate(c.p, c.images, now)); got != c.want {
				t.Errorf("acted on %q; want %q", got, c.want)
			}
		})
	}
}

// TestEvaluateCountTypes: each count type reads its own time.
func TestEvaluateCountTypes(t *testing.T) {
	pulled := img("pulled", 40)
	pulled.LastPulledAt = daysAgo(2)
	stale := img("stale", 40)
	stale.LastPulledAt = daysAgo(35)
	restored := img("restored", 100)
	restored.LastActivatedAt = daysAgo(3)
	old := img("old", 40)
	archivedLong := Image{Digest: "archived-long", PushedAt: daysAgo(400), LastArchivedAt: daysAgo(120), Status: registry.ImageArchived}
	archivedNew := Image{Digest: "archived-new", PushedAt: daysAgo(400), LastArchivedAt: daysAgo(10), Status: registry.ImageArchived}
	restoring := Image{Digest: "restoring", PushedAt: daysAgo(400), Status: registry.ImageActivating}
	images := []Image{pulled, stale, restored, old, archivedLong, archivedNew, restoring}
	cases := []struct {
		name, rule, want string
	}{
		{"SincePushed", `{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"expire"}}`,
			"old:expire@1 pulled:expire@1 stale:expire@1"},
		{"SincePulled", `{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}}`,
			"old:transition@1 stale:transition@1"},
		{"SinceTransitioned", `{"rulePriority":1,"selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90},"action":{"type":"expire"}}`,
			"archived-long:expire@1"},
		// Newest first by push time, a restore counting as a push.
		{"CountMoreThan", `{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}`,
			"pulled:expire@1 stale:expire@1"}, // old, pulled and stale tie: digest order
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := acted(Evaluate(policy(t, c.rule), images, now)); got != c.want {
				t.Errorf("acted on %q; want %q", got, c.want)
			}
		})
	}
}

// TestEvaluateIndexesAndReferrers: an index keeps its children out of
// reach; a referrer goes with its subject and is not judged alone.
func TestEvaluateIndexesAndReferrers(t *testing.T) {
	keep1 := policy(t, `{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}`)
	child1, child2 := img("child1", 5), img("child2", 5)
	index := img("index", 1, "latest")
	index.Children = []registry.Digest{"child1", "child2"}
	if got := acted(Evaluate(keep1, []Image{child1, child2, index}, now)); got != "" {
		t.Errorf("with an index pushed last, acted on %q; want nothing", got)
	}
	archivedIndex := index
	archivedIndex.Status = registry.ImageArchived
	if got := acted(Evaluate(keep1, []Image{child1, child2, archivedIndex}, now)); got != "" {
		t.Errorf("with the index archived, expired %q; want nothing expired from under it", got)
	}
	archive1 := policy(t, `{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"transition","targetStorageClass":"archive"}}`)
	if got := acted(Evaluate(archive1, []Image{child1, child2, archivedIndex}, now)); got != "child2:transition@1" {
		t.Errorf("with the index archived, archived %q; want child2 (child1 and child2 tie, digest order)", got)
	}
	old, sig, sigOfSig := img("old", 9), img("sig", 0), img("sigsig", 0)
	sig.Subject, sigOfSig.Subject = "old", "sig"
	if got := acted(Evaluate(keep1, []Image{old, img("new", 1), sig, sigOfSig}, now)); got != "old:expire@1 sig:expire@1 sigsig:expire@1" {
		t.Errorf("referrers: acted on %q; want old with its referrers", got)
	}
}

// TestMatch: tag patterns are anchored globs.
func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, tag string
		want         bool
	}{
		{"prod*", "prod", true}, {"prod*", "production-team1", true}, {"prod*", "xprod", false},
		{"*prod*", "my-prod-1", true}, {"*prod", "prod", true}, {"*prod", "prod1", false},
		{"a*b*c", "abc", true}, {"a*b*c", "acb", false}, {"a*a", "a", false}, {"v1", "v1", true}, {"v1", "v12", false},
		{"*test*1*2*3", "mytest-1-2-3", true},
	} {
		if got := Match(c.pattern, c.tag); got != c.want {
			t.Errorf("Match(%q, %q) = %v; want %v", c.pattern, c.tag, got, c.want)
		}
	}
}
