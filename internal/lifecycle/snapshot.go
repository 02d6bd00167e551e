package lifecycle

import (
	"context"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// snapshotPage is how many images or tags one store call of a snapshot
// reads.
const snapshotPage = 1000

// snapshot reads what evaluation needs of every image of the repository,
// as of at, in one read transaction: one consistent view, whatever is
// pushed or deleted meanwhile. Images come in digest order.
func (s *Service) snapshot(ctx context.Context, key registry.RepoKey, at time.Time) ([]Image, error) {
	var images []Image
	err := s.reg.ViewRepository(registry.AsCore(ctx), "GetLifecyclePolicyPreview", key, func(tx registry.Tx) error {
		images = images[:0]
		tags := map[registry.Digest][]string{}
		for after := ""; ; {
			page, err := tx.Tags(key, after, snapshotPage)
			if err != nil {
				return err
			}
			for _, t := range page {
				tags[t.Digest] = append(tags[t.Digest], t.Tag) // byte order, as Tags lists them
			}
			if len(page) < snapshotPage {
				break
			}
			after = page[len(page)-1].Tag
		}
		for after := registry.Digest(""); ; {
			page, err := tx.Images(key, registry.ImageQuery{After: after, Limit: snapshotPage, Now: at})
			if err != nil {
				return err
			}
			for _, img := range page {
				e := Image{Digest: img.Digest, Tags: tags[img.Digest], PushedAt: img.PushedAt, LastPulledAt: img.LastPulledAt,
					LastArchivedAt: img.LastArchivedAt, LastActivatedAt: img.LastActivatedAt,
					Status: registry.StatusAt(img, at), Subject: img.Subject}
				if registry.IsIndex(img.MediaType) {
					full, err := tx.Image(key, img.Digest)
					if err != nil {
						return err
					}
					e.Children = full.Children
				}
				images = append(images, e)
			}
			if len(page) < snapshotPage {
				break
			}
			after = page[len(page)-1].Digest
		}
		return nil
	})
	return images, err
}

// decide evaluates policy p over the repository as of at.
func (s *Service) decide(ctx context.Context, key registry.RepoKey, p Policy, at time.Time) ([]Image, []Decision, error) {
	images, err := s.snapshot(ctx, key, at)
	if err != nil {
		return nil, nil, err
	}
	return images, Evaluate(p, images, at), nil
}

// storageClass is the API's name of the storage class of an image of this
// status.
func storageClass(status string) string {
	if status == registry.ImageArchived {
		return registry.StorageClassArchive
	}
	return registry.StorageClassStandard
}

// wireAction is the API's name of a policy action.
func wireAction(action string) string {
	if action == ActionTransition {
		return registry.PreviewTransition
	}
	return registry.PreviewExpire
}
