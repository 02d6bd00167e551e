package sqlstore

import (
	"database/sql"
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// readImageQuery is ReadImage's statement, built once: a manifest GET
// runs it, as a HEAD runs layerStatusQuery.
var readImageQuery = `SELECT true, r.tags,
			(SELECT p.policy FROM repository_policies AS p WHERE p.registry_id = $1 AND p.repo_name = $2),
			(SELECT g.policy FROM registry_policies AS g WHERE g.registry_id = $1), ` + scopeColumn + `,
			COALESCE(tg.digest, ''), COALESCE(i.digest, ''), i.manifest, i.media_type, i.artifact_media_type, i.size,
			i.pushed_at, i.last_pulled_at, COALESCE(i.status, ''), i.last_archived_at, i.last_activated_at, i.active_at, i.subject
		FROM repositories AS r
		LEFT JOIN tags AS tg ON tg.registry_id = r.registry_id AND tg.repo_name = r.name AND tg.tag = $3
		LEFT JOIN images AS i ON i.registry_id = r.registry_id AND i.repo_name = r.name
			AND i.digest = COALESCE(NULLIF($4, ''), tg.digest)
		WHERE r.registry_id = $1 AND r.name = $2
		UNION ALL
		SELECT false, '[]', NULL, (SELECT g.policy FROM registry_policies AS g WHERE g.registry_id = $1), ` + scopeColumn + `,
			'', '', NULL, NULL, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL, NULL
		WHERE NOT EXISTS (SELECT 1 FROM repositories AS r WHERE r.registry_id = $1 AND r.name = $2)`

// ReadImage implements registry.Tx in one statement, which a manifest
// GET runs alone: the repository's row and its and its registry's
// policies, as LayerStatus reads them, the tag's row, and the image by d
// or else by the tag's digest, each a seek of a primary key; or, when
// there is no such repository, a row of its registry's policy alone.
func (t *Tx) ReadImage(key registry.RepoKey, tag string, d registry.Digest) (registry.ImageRead, error) {
	var (
		rd                               registry.ImageRead
		tagsJSON                         []byte
		policy, registryPolicy, scope    *string
		mediaType, artifactType, subject sql.NullString
		size                             sql.NullInt64
	)
	img := &rd.Image
	err := t.queryRow(readImageQuery,
		[]any{key.Registry, key.Name, tag, string(d)}, &rd.Access.Exists, &tagsJSON, &policy, &registryPolicy, &scope,
		&rd.Tagged, &img.Digest, &img.Manifest, &mediaType, &artifactType, &size,
		t.time(&img.PushedAt), t.time(&img.LastPulledAt), &img.Status, t.time(&img.LastArchivedAt),
		t.time(&img.LastActivatedAt), t.time(&img.ActiveAt), &subject)
	if err == nil && rd.Access.Exists {
		rd.Access.Repository = registry.Repository{Registry: key.Registry, Name: key.Name}
		err = decodeTags(tagsJSON, &rd.Access.Repository.Tags)
		rd.Access.Policy = deref(policy)
	}
	if err != nil {
		return registry.ImageRead{}, fmt.Errorf("image %q %s of %s/%s: %w", tag, d, key.Registry, key.Name, err)
	}
	rd.Access.RegistryPolicy, rd.Access.RegistryPolicyScope = deref(registryPolicy), deref(scope)
	img.MediaType, img.ArtifactMediaType, img.Subject = mediaType.String, artifactType.String, registry.Digest(subject.String)
	img.Size = size.Int64
	if img.Digest == "" {
		rd.Image = registry.Image{}
	}
	return rd, nil
}
