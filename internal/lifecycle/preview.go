package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// previewPage is how many results one transaction of a preview writes.
const previewPage = 500

func previewInProgress(key registry.RepoKey) error {
	return registry.Errorf(registry.CodePreviewInProgress,
		"The previous lifecycle policy preview request has not completed for the repository with name '%s' in the registry with id '%s'; try again later", key.Name, key.Registry.Account())
}

func previewNotFound(key registry.RepoKey) error {
	return registry.Errorf(registry.CodePreviewNotFound,
		"There is no dry run for this repository: the lifecycle policy preview was not found for the repository with name '%s' in the registry with id '%s'", key.Name, key.Registry.Account())
}

// running reports whether a preview record is of a computation that is
// still going on: in progress, by a process that runs.
func (s *Service) running(p registry.LifecyclePreview) bool {
	return p.Status == registry.PreviewInProgress && s.reg.Holders().Alive(p.Holder)
}

// StartPreview starts a preview of text (the repository's policy when
// empty) over the repository's images as they are now, computed in the
// background, and returns the normalized text it previews. Errors:
// RepositoryNotFound, LifecyclePolicyNotFound, InvalidParameter,
// LifecyclePolicyPreviewInProgress, AccessDenied.
func (s *Service) StartPreview(ctx context.Context, key registry.RepoKey, text string) (registry.RepoKey, string, error) {
	key, err := s.reg.Resolve(ctx, key)
	if err != nil {
		return key, "", err
	}
	var p Policy
	if text != "" {
		if p, text, err = Parse(text); err != nil {
			return key, "", err
		}
	}
	// The stores keep times to the microsecond; ours compares this one
	// with what they return.
	start := registry.LifecyclePreview{Status: registry.PreviewInProgress, Holder: s.reg.Holders().Self(),
		StartedAt: s.reg.Now().UTC().Truncate(time.Microsecond)}
	err = s.reg.UpdateRepository(ctx, "StartLifecyclePolicyPreview", key, func(tx registry.Tx) error {
		start.Text = text
		if start.Text == "" {
			stored, err := tx.LifecyclePolicy(key)
			if errors.Is(err, registry.ErrNotFound) {
				return policyNotFound(key)
			} else if err != nil {
				return err
			}
			start.Text = stored.Text
		}
		cur, err := tx.LifecyclePreview(key)
		if err != nil && !errors.Is(err, registry.ErrNotFound) {
			return err
		}
		if err == nil && s.running(cur) {
			return previewInProgress(key)
		}
		if err := tx.DeleteLifecyclePreviewResults(key); err != nil {
			return err
		}
		return tx.PutLifecyclePreview(key, start)
	})
	if err != nil {
		return key, "", err
	}
	if text == "" {
		if p, _, err = Parse(start.Text); err != nil {
			return key, "", fmt.Errorf("the stored lifecycle policy of %s: %w", key.Name, err)
		}
	}
	s.previews.Add(1)
	go func() {
		defer s.previews.Done()
		ctx, cancel := context.WithTimeout(s.base, s.timeout)
		defer cancel()
		s.computePreview(ctx, key, p, start)
	}()
	return key, start.Text, nil
}

// computePreview evaluates the preview's policy as of its start and
// records its results, then its completion, or its failure.
func (s *Service) computePreview(ctx context.Context, key registry.RepoKey, p Policy, start registry.LifecyclePreview) {
	images, decisions, err := s.decide(ctx, key, p, start.StartedAt)
	done := start
	if err == nil {
		done.Expiring, done.Transitioning, err = s.recordResults(ctx, key, start, images, decisions)
	}
	done.Status, done.DoneAt = registry.PreviewComplete, s.reg.Now().UTC()
	if err != nil {
		s.log.Warn("a lifecycle policy preview failed", "repository", key.Name, "registry", key.Registry, "err", err)
		done.Status, done.Failure, done.Expiring, done.Transitioning = registry.PreviewFailed, "The preview could not be computed: "+err.Error(), 0, 0
	}
	// The end is written even when the computation was stopped.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = s.reg.UpdateRepository(registry.AsCore(ctx), "StartLifecyclePolicyPreview", key, func(tx registry.Tx) error {
		if ok, err := s.ours(tx, key, start); !ok || err != nil {
			return err
		}
		return tx.PutLifecyclePreview(key, done)
	})
	if err != nil && !isRepositoryNotFound(err) {
		s.log.Error("could not record the end of a lifecycle policy preview", "repository", key.Name, "registry", key.Registry, "err", err)
	}
}

// recordResults writes the preview's results a page per transaction, as
// long as the preview is still the one started, and counts each action.
func (s *Service) recordResults(ctx context.Context, key registry.RepoKey, start registry.LifecyclePreview, images []Image, decisions []Decision) (expiring, transitioning int, err error) {
	byDigest := make(map[registry.Digest]*Image, len(images))
	for i := range images {
		byDigest[images[i].Digest] = &images[i]
	}
	results := make([]registry.PreviewResult, 0, len(decisions))
	for _, d := range decisions {
		img := byDigest[d.Digest]
		results = append(results, registry.PreviewResult{Digest: d.Digest, Tags: img.Tags, PushedAt: img.PushedAt,
			Action: wireAction(d.Action), Rule: d.Rule, StorageClass: storageClass(d.Status)})
		if d.Action == ActionTransition {
			transitioning++
		} else {
			expiring++
		}
	}
	for i := 0; i < len(results); i += previewPage {
		page := results[i:min(i+previewPage, len(results))]
		err := s.reg.UpdateRepository(registry.AsCore(ctx), "StartLifecyclePolicyPreview", key, func(tx registry.Tx) error {
			if ok, err := s.ours(tx, key, start); err != nil {
				return err
			} else if !ok {
				return errSuperseded
			}
			return tx.AddLifecyclePreviewResults(key, page)
		})
		if err != nil {
			return 0, 0, err
		}
	}
	return expiring, transitioning, nil
}

// errSuperseded stops a preview that a later one replaced.
var errSuperseded = errors.New("a later preview replaced this one")

// ours reports whether the repository's preview is still the one start
// began.
func (s *Service) ours(tx registry.Tx, key registry.RepoKey, start registry.LifecyclePreview) (bool, error) {
	cur, err := tx.LifecyclePreview(key)
	if errors.Is(err, registry.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return cur.Status == registry.PreviewInProgress && cur.Holder == start.Holder && cur.StartedAt.Equal(start.StartedAt), nil
}

func isRepositoryNotFound(err error) bool {
	var e *registry.Error
	return errors.Is(err, errSuperseded) || errors.As(err, &e) && e.Code == registry.CodeRepositoryNotFound
}

// PreviewQuery selects what GetLifecyclePolicyPreview returns.
type PreviewQuery struct {
	// IDs, when set, asks for these images only (by digest or tag).
	IDs []registry.ImageID
	// Page is the page asked for (Max 0: 100).
	Page registry.Page
	// TagStatus is TAGGED, UNTAGGED, ANY or "".
	TagStatus string
}

// PreviewAnswer is a page of a preview.
type PreviewAnswer struct {
	Preview registry.LifecyclePreview
	Results []registry.PreviewResult
	// Next is the token of the next page, "" on the last.
	Next string
}

// Preview returns the repository's latest preview, with the page of
// results q asks for once it is complete. A preview whose process died is
// FAILED; one completed longer ago than the retention is EXPIRED, its
// results gone. Errors: RepositoryNotFound, LifecyclePolicyPreviewNotFound,
// InvalidParameter.
func (s *Service) Preview(ctx context.Context, key registry.RepoKey, q PreviewQuery) (registry.RepoKey, PreviewAnswer, error) {
	key, err := s.reg.Resolve(ctx, key)
	if err != nil {
		return key, PreviewAnswer{}, err
	}
	if q.Page.Token != "" && len(q.IDs) > 0 {
		return key, PreviewAnswer{}, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter: nextToken cannot be used with imageIds")
	}
	after, err := registry.DecodePageToken("lifecycle-preview", q.Page.Token)
	if err != nil {
		return key, PreviewAnswer{}, err
	}
	limit := q.Page.Max
	if limit <= 0 {
		limit = 100
	}
	var a PreviewAnswer
	err = s.reg.ViewRepository(ctx, "GetLifecyclePolicyPreview", key, func(tx registry.Tx) error {
		a = PreviewAnswer{}
		p, err := tx.LifecyclePreview(key)
		if errors.Is(err, registry.ErrNotFound) {
			return previewNotFound(key)
		} else if err != nil {
			return err
		}
		switch {
		case p.Status == registry.PreviewInProgress && !s.running(p):
			p.Status, p.Failure = registry.PreviewFailed, "The ecrd process computing the preview stopped before it completed; start the preview again"
		case p.Status == registry.PreviewComplete && s.reg.Now().Sub(p.DoneAt) > s.retention:
			p.Status = registry.PreviewExpired
		}
		a.Preview = p
		if p.Status != registry.PreviewComplete {
			return nil
		}
		rq := registry.PreviewQuery{After: registry.Digest(after), Limit: limit + 1}
		switch q.TagStatus {
		case registry.TagStatusTagged, registry.TagStatusUntagged:
			tagged := q.TagStatus == registry.TagStatusTagged
			rq.Tagged = &tagged
		}
		if len(q.IDs) > 0 {
			if rq.Digests, err = previewDigests(tx, key, q.IDs); err != nil {
				return err
			}
			rq.Limit = len(q.IDs)
		}
		a.Results, err = tx.LifecyclePreviewResults(key, rq)
		if err != nil {
			return err
		}
		if len(q.IDs) == 0 && len(a.Results) > limit {
			a.Results = a.Results[:limit]
			a.Next = registry.EncodePageToken("lifecycle-preview", string(a.Results[limit-1].Digest))
		}
		if rq.Tagged != nil && len(q.IDs) > 0 {
			a.Results = filterTagged(a.Results, *rq.Tagged)
		}
		return nil
	})
	return key, a, err
}

// previewDigests resolves the image IDs asked for to digests: by digest,
// or by the tag's image now. An ID that names no image has no result.
func previewDigests(tx registry.Tx, key registry.RepoKey, ids []registry.ImageID) ([]registry.Digest, error) {
	digests := []registry.Digest{}
	for _, id := range ids {
		switch {
		case id.Digest != "":
			d, err := registry.ParseDigest(id.Digest)
			if err != nil {
				return nil, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter at 'imageIds': the image digest %q is not valid", id.Digest)
			}
			digests = append(digests, d)
		case id.Tag != "":
			d, err := tx.Tag(key, id.Tag)
			if errors.Is(err, registry.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			digests = append(digests, d)
		default:
			return nil, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter at 'imageIds': both tag and digest cannot be null")
		}
	}
	return digests, nil
}

func filterTagged(rs []registry.PreviewResult, tagged bool) []registry.PreviewResult {
	out := rs[:0]
	for _, r := range rs {
		if (len(r.Tags) > 0) == tagged {
			out = append(out, r)
		}
	}
	return out
}
