package lifecycle

import (
	"slices"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Image is what evaluation knows of one image of the repository.
type Image struct {
	Digest registry.Digest
	Tags   []string
	// PushedAt, LastPulledAt (zero: never pulled), LastArchivedAt and
	// LastActivatedAt (zero: never) are the image's times.
	PushedAt, LastPulledAt, LastArchivedAt, LastActivatedAt time.Time
	// Status is registry.ImageActive, ImageArchived or ImageActivating as
	// of the evaluation's time: standard rules see active images, archive
	// rules archived ones, and no rule an image being restored.
	Status string
	// Subject is the digest of the image a referrer refers to ("" for an
	// image that is no referrer).
	Subject registry.Digest
	// Children are the manifests an index refers to.
	Children []registry.Digest
}

// Decision is an action a policy takes on one image.
type Decision struct {
	Digest registry.Digest
	// Action is ActionExpire or ActionTransition (to archive).
	Action string
	// Rule is the priority of the rule that acts.
	Rule int
	// Status is the image's status when evaluated (active or archived).
	Status string
}

// Evaluate returns what policy p does, at time now, to a repository's
// images: each image acted on by at most one rule, in the order of images
// given. It is the one evaluation behind previews and runs, and a pure
// function of its arguments.
//
// Following ECR: rules see the images of their storage class; an image
// belongs to the first rule (by priority) whose tag selection matches it,
// and only that rule can act on it, though later rules still count it; a
// rule's count or age decides which of the images its tag selection
// matches it acts on. An image an active index of the repository refers
// to is left out until the index goes, and a referrer follows its
// subject: it goes when its subject goes, and is not judged on its own
// while its subject is in the repository. Children of an archived index
// may be archived, never expired.
func Evaluate(p Policy, images []Image, now time.Time) []Decision {
	present := make(map[registry.Digest]bool, len(images))
	held := map[registry.Digest]bool{}     // in an index not archived
	parented := map[registry.Digest]bool{} // in any index
	for _, img := range images {
		present[img.Digest] = true
		for _, c := range img.Children {
			parented[c] = true
			if img.Status != registry.ImageArchived {
				held[c] = true
			}
		}
	}
	acted := map[registry.Digest]Decision{}
	for _, class := range []string{ClassStandard, ClassArchive} {
		status := registry.ImageActive
		if class == ClassArchive {
			status = registry.ImageArchived
		}
		var rules []Rule
		for _, r := range p.Rules {
			if r.class() == class {
				rules = append(rules, r)
			}
		}
		var pool []*Image
		for i := range images {
			img := &images[i]
			if img.Status == status && !held[img.Digest] && (img.Subject == "" || !present[img.Subject]) {
				pool = append(pool, img)
			}
		}
		claim := make(map[registry.Digest]int, len(pool))
		for _, img := range pool {
			for _, r := range rules {
				if r.Selection.matches(img.Tags) {
					claim[img.Digest] = r.Priority
					break
				}
			}
		}
		for _, r := range rules {
			for _, img := range r.candidates(pool, now) {
				// An archived index still needs its children: they may be
				// archived with it, never expired from under it.
				if r.Action.Type == ActionExpire && parented[img.Digest] {
					continue
				}
				if _, done := acted[img.Digest]; !done && claim[img.Digest] == r.Priority {
					acted[img.Digest] = Decision{Digest: img.Digest, Action: r.Action.Type, Rule: r.Priority, Status: status}
				}
			}
		}
	}
	// Referrers go with their subject, recursively (a signature of an
	// SBOM of an image).
	for changed := true; changed; {
		changed = false
		for _, img := range images {
			d, ok := acted[img.Subject]
			if _, done := acted[img.Digest]; img.Subject == "" || !ok || done || img.Status != d.Status {
				continue
			}
			acted[img.Digest] = Decision{Digest: img.Digest, Action: d.Action, Rule: d.Rule, Status: d.Status}
			changed = true
		}
	}
	var out []Decision
	for _, img := range images {
		if d, ok := acted[img.Digest]; ok {
			out = append(out, d)
		}
	}
	return out
}

// matches reports whether an image with these tags is selected by the
// selection's tag status and lists: with a list, every entry must match
// one of the tags.
func (s Selection) matches(tags []string) bool {
	switch s.TagStatus {
	case TagUntagged:
		return len(tags) == 0
	case TagAny:
		return true
	}
	if len(tags) == 0 {
		return false
	}
	for _, p := range s.TagPrefixList {
		if !slices.ContainsFunc(tags, func(t string) bool { return strings.HasPrefix(t, p) }) {
			return false
		}
	}
	for _, p := range s.TagPatternList {
		if !slices.ContainsFunc(tags, func(t string) bool { return Match(p, t) }) {
			return false
		}
	}
	return true
}

// candidates returns the images of pool the rule's tag selection matches
// (claimed by it or not) that its count or age puts beyond what it keeps.
func (r Rule) candidates(pool []*Image, now time.Time) []*Image {
	var m []*Image
	for _, img := range pool {
		if r.Selection.matches(img.Tags) {
			m = append(m, img)
		}
	}
	s := r.Selection
	if s.CountType == CountMoreThan {
		if len(m) <= s.CountNumber {
			return nil
		}
		// Newest first; ties by digest, so that runs and previews agree.
		slices.SortFunc(m, func(a, b *Image) int {
			if c := pushTime(*b).Compare(pushTime(*a)); c != 0 {
				return c
			}
			return strings.Compare(string(a.Digest), string(b.Digest))
		})
		return m[s.CountNumber:]
	}
	cutoff := now.Add(-time.Duration(s.CountNumber) * 24 * time.Hour)
	var out []*Image
	for _, img := range m {
		var t time.Time
		switch s.CountType {
		case CountSincePushed:
			t = pushTime(*img)
		case CountSincePulled:
			t = pushTime(*img)
			if img.LastPulledAt.After(t) {
				t = img.LastPulledAt
			}
		case CountSinceTransitioned:
			t = img.LastArchivedAt
		}
		if !t.IsZero() && t.Before(cutoff) {
			out = append(out, img)
		}
	}
	return out
}

// pushTime is when the image last arrived among the active images: its
// push, or its restore from archive when later.
func pushTime(img Image) time.Time {
	if img.LastActivatedAt.After(img.PushedAt) {
		return img.LastActivatedAt
	}
	return img.PushedAt
}

// Match reports whether tag matches a tagPatternList pattern: an
// anchored glob whose '*' matches any run of characters.
func Match(pattern, tag string) bool { return registry.WildcardMatch(pattern, tag) }
