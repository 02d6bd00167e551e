package sqlstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// RegistryPolicy implements registry.Tx.
func (t *Tx) RegistryPolicy(reg registry.RegistryID) (string, error) {
	var text string
	err := t.queryRow(`SELECT policy FROM registry_policies WHERE registry_id = $1`, []any{reg}, &text)
	if errors.Is(err, errNoRow) {
		err = registry.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("policy of registry %s: %w", reg, err)
	}
	return text, nil
}

// PutRegistryPolicy implements registry.Tx.
func (t *Tx) PutRegistryPolicy(reg registry.RegistryID, text string) error {
	_, err := t.exec(`INSERT INTO registry_policies (registry_id, policy) VALUES ($1, $2)
		ON CONFLICT (registry_id) DO UPDATE SET policy = excluded.policy`, reg, text)
	if err != nil {
		return fmt.Errorf("put policy of registry %s: %w", reg, err)
	}
	return nil
}

// DeleteRegistryPolicy implements registry.Tx.
func (t *Tx) DeleteRegistryPolicy(reg registry.RegistryID) error {
	what := fmt.Sprintf("delete policy of registry %s", reg)
	n, err := t.exec(`DELETE FROM registry_policies WHERE registry_id = $1`, reg)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return mustAffect(n, what)
}

// Secret implements registry.Tx.
func (t *Tx) Secret(name string) ([]byte, error) {
	var v []byte
	err := t.queryRow(`SELECT value FROM secrets WHERE name = $1`, []any{name}, &v)
	if errors.Is(err, errNoRow) {
		return nil, fmt.Errorf("secret %q: %w", name, registry.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	return v, nil
}

// CreateSecret implements registry.Tx.
func (t *Tx) CreateSecret(name string, value []byte) error {
	what := fmt.Sprintf("create secret %q", name)
	if value == nil {
		value = []byte{} // the column is NOT NULL; nil binds as NULL
	}
	n, err := t.exec(`INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		name, value, time.Now())
	if err != nil {
		return t.constraintError(err, what, "")
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrExists)
	}
	return nil
}
