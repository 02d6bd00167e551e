package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// templateBody is the settings of a creation template, kept as one JSON
// document: they are read and written whole, and never queried by.
type templateBody struct {
	Description          string                 `json:"description,omitempty"`
	TagMutability        string                 `json:"tagMutability"`
	MutabilityExclusions []string               `json:"mutabilityExclusions,omitempty"`
	EncryptionType       string                 `json:"encryptionType"`
	KMSKey               string                 `json:"kmsKey,omitempty"`
	ResourceTags         []registry.ResourceTag `json:"resourceTags,omitempty"`
	RepositoryPolicy     string                 `json:"repositoryPolicy,omitempty"`
	LifecyclePolicy      string                 `json:"lifecyclePolicy,omitempty"`
	AppliedFor           []string               `json:"appliedFor"`
	CustomRoleARN        string                 `json:"customRoleArn,omitempty"`
}

func encodeTemplate(t registry.CreationTemplate) (string, error) {
	b, err := json.Marshal(templateBody{Description: t.Description, TagMutability: t.TagMutability,
		MutabilityExclusions: t.MutabilityExclusions, EncryptionType: t.EncryptionType, KMSKey: t.KMSKey,
		ResourceTags: t.ResourceTags, RepositoryPolicy: t.RepositoryPolicy, LifecyclePolicy: t.LifecyclePolicy,
		AppliedFor: t.AppliedFor, CustomRoleARN: t.CustomRoleARN})
	return string(b), err
}

func decodeTemplate(t *registry.CreationTemplate, body string) error {
	var b templateBody
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return fmt.Errorf("template %q: %w", t.Prefix, err)
	}
	t.Description, t.TagMutability, t.MutabilityExclusions = b.Description, b.TagMutability, b.MutabilityExclusions
	t.EncryptionType, t.KMSKey, t.ResourceTags = b.EncryptionType, b.KMSKey, b.ResourceTags
	t.RepositoryPolicy, t.LifecyclePolicy, t.AppliedFor, t.CustomRoleARN = b.RepositoryPolicy, b.LifecyclePolicy, b.AppliedFor, b.CustomRoleARN
	return nil
}

// CreationTemplates implements registry.Tx.
func (t *Tx) CreationTemplates(reg registry.RegistryID) ([]registry.CreationTemplate, error) {
	var ts []registry.CreationTemplate
	err := t.each(`SELECT prefix, body, created_at, updated_at FROM creation_templates WHERE registry_id = $1 ORDER BY prefix`,
		[]any{reg}, func(scan func(...any) error) error {
			var ct registry.CreationTemplate
			var body string
			if err := scan(&ct.Prefix, &body, t.time(&ct.CreatedAt), t.time(&ct.UpdatedAt)); err != nil {
				return err
			}
			if err := decodeTemplate(&ct, body); err != nil {
				return err
			}
			ts = append(ts, ct)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("creation templates of registry %s: %w", reg, err)
	}
	return ts, nil
}

// CreationTemplate implements registry.Tx.
func (t *Tx) CreationTemplate(reg registry.RegistryID, prefix string) (registry.CreationTemplate, error) {
	ct := registry.CreationTemplate{Prefix: prefix}
	var body string
	err := t.queryRow(`SELECT body, created_at, updated_at FROM creation_templates WHERE registry_id = $1 AND prefix = $2`,
		[]any{reg, prefix}, &body, t.time(&ct.CreatedAt), t.time(&ct.UpdatedAt))
	if errors.Is(err, errNoRow) {
		err = registry.ErrNotFound
	}
	if err == nil {
		err = decodeTemplate(&ct, body)
	}
	if err != nil {
		return ct, fmt.Errorf("creation template %q of registry %s: %w", prefix, reg, err)
	}
	return ct, nil
}

// CreateCreationTemplate implements registry.Tx.
func (t *Tx) CreateCreationTemplate(reg registry.RegistryID, ct registry.CreationTemplate) error {
	what := fmt.Sprintf("create creation template %q of registry %s", ct.Prefix, reg)
	body, err := encodeTemplate(ct)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := t.exec(`INSERT INTO creation_templates (registry_id, prefix, body, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, reg, ct.Prefix, body, ct.CreatedAt, ct.UpdatedAt)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrExists)
	}
	return nil
}

// UpdateCreationTemplate implements registry.Tx; created_at stays.
func (t *Tx) UpdateCreationTemplate(reg registry.RegistryID, ct registry.CreationTemplate) error {
	what := fmt.Sprintf("update creation template %q of registry %s", ct.Prefix, reg)
	body, err := encodeTemplate(ct)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := t.exec(`UPDATE creation_templates SET body = $3, updated_at = $4 WHERE registry_id = $1 AND prefix = $2`,
		reg, ct.Prefix, body, ct.UpdatedAt)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}

// DeleteCreationTemplate implements registry.Tx.
func (t *Tx) DeleteCreationTemplate(reg registry.RegistryID, prefix string) error {
	what := fmt.Sprintf("delete creation template %q of registry %s", prefix, reg)
	n, err := t.exec(`DELETE FROM creation_templates WHERE registry_id = $1 AND prefix = $2`, reg, prefix)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}
