package sqlstore

import (
	"errors"
	"fmt"

	"github.com/ecrd/ecrd/internal/registry"
)

// scopeColumn is a registry's REGISTRY_POLICY_SCOPE, read beside its
// policy by the statements access decisions make ($1: the registry).
const scopeColumn = `(SELECT s.value FROM account_settings AS s WHERE s.registry_id = $1 AND s.name = 'REGISTRY_POLICY_SCOPE')`

// AccountSetting implements registry.Tx.
func (t *Tx) AccountSetting(reg registry.RegistryID, name string) (string, error) {
	var v string
	err := t.queryRow(`SELECT value FROM account_settings WHERE registry_id = $1 AND name = $2`, []any{reg, name}, &v)
	if errors.Is(err, errNoRow) {
		err = registry.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("account setting %s of registry %s: %w", name, reg, err)
	}
	return v, nil
}

// PutAccountSetting implements registry.Tx.
func (t *Tx) PutAccountSetting(reg registry.RegistryID, name, value string) error {
	if _, err := t.exec(`INSERT INTO account_settings (registry_id, name, value) VALUES ($1, $2, $3)
		ON CONFLICT (registry_id, name) DO UPDATE SET value = excluded.value`, reg, name, value); err != nil {
		return fmt.Errorf("put account setting %s of registry %s: %w", name, reg, err)
	}
	return nil
}
