package sqlstore

import (
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// RepositoryAccess implements registry.Tx: the repository and both
// policies in one statement, the read an access decision costs on top of
// the repository's record, which the operations read anyway; a
// repository that does not exist costs a second, for its registry's
// policy.
func (t *Tx) RepositoryAccess(key registry.RepoKey) (registry.RepositoryAccess, error) {
	what := fmt.Sprintf("access to %s/%s", key.Registry, key.Name)
	var a registry.RepositoryAccess
	var policy, registryPolicy, scope *string
	err := t.each(`SELECT `+repositoryColumns+`,
			(SELECT p.policy FROM repository_policies AS p WHERE p.registry_id = $1 AND p.repo_name = $2),
			(SELECT g.policy FROM registry_policies AS g WHERE g.registry_id = $1), `+scopeColumn+`
		FROM repositories WHERE registry_id = $1 AND name = $2`,
		[]any{key.Registry, key.Name}, func(scan func(...any) error) error {
			var tagsJSON []byte
			r := &a.Repository
			if err := scan(&r.Registry, &r.Name, t.time(&r.CreatedAt), &r.TagMutability,
				t.d.Strings(&r.MutabilityExclusions), &r.ScanOnPush, &r.EncryptionType, &r.KMSKey, &tagsJSON,
				&policy, &registryPolicy, &scope); err != nil {
				return err
			}
			a.Exists = true
			return decodeTags(tagsJSON, &r.Tags)
		})
	if err != nil {
		return a, fmt.Errorf("%s: %w", what, err)
	}
	if a.Exists {
		a.Policy, a.RegistryPolicy, a.RegistryPolicyScope = deref(policy), deref(registryPolicy), deref(scope)
		return a, nil
	}
	err = t.queryRow(`SELECT (SELECT g.policy FROM registry_policies AS g WHERE g.registry_id = $1), `+scopeColumn,
		[]any{key.Registry}, &registryPolicy, &scope)
	if err != nil {
		return a, fmt.Errorf("%s: %w", what, err)
	}
	a.RegistryPolicy, a.RegistryPolicyScope = deref(registryPolicy), deref(scope)
	return a, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
