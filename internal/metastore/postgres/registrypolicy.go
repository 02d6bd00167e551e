package postgres

import (
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// RegistryPolicy implements registry.Tx.
func (t *tx) RegistryPolicy(reg registry.RegistryID) (string, error) {
	var text string
	err := t.queryRow(`SELECT policy FROM registry_policies WHERE registry_id = $1`, []any{reg}, &text)
	if errNoRow(err) {
		err = registry.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("policy of registry %s: %w", reg, err)
	}
	return text, nil
}

// PutRegistryPolicy implements registry.Tx.
func (t *tx) PutRegistryPolicy(reg registry.RegistryID, text string) error {
	_, err := t.exec(`INSERT INTO registry_policies (registry_id, policy) VALUES ($1, $2)
		ON CONFLICT (registry_id) DO UPDATE SET policy = excluded.policy`, reg, text)
	if err != nil {
		return fmt.Errorf("put policy of registry %s: %w", reg, err)
	}
	return nil
}

// DeleteRegistryPolicy implements registry.Tx.
func (t *tx) DeleteRegistryPolicy(reg registry.RegistryID) error {
	what := fmt.Sprintf("delete policy of registry %s", reg)
	tag, err := t.exec(`DELETE FROM registry_policies WHERE registry_id = $1`, reg)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(tag, what)
}
