package postgres

import (
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// ReleaseLayers implements registry.Tx. Like every statement over many
// rows, it binds the digests as one array (see dialect).
func (t *tx) ReleaseLayers(key registry.RepoKey, digests []registry.Digest, now time.Time) error {
	if len(digests) == 0 {
		return nil
	}
	if _, err := t.exec(`UPDATE layers SET released_at = $1
		WHERE registry_id = $2 AND repo_name = $3 AND digest = ANY($4)`,
		now, key.Registry, key.Name, digestStrings(digests)); err != nil {
		return fmt.Errorf("release layers in %s/%s: %w", key.Registry, key.Name, err)
	}
	return nil
}
