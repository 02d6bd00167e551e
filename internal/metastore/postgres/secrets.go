package postgres

import (
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Secret implements registry.Tx.
func (t *tx) Secret(name string) ([]byte, error) {
	var v []byte
	err := t.queryRow(`SELECT value FROM secrets WHERE name = $1`, []any{name}, &v)
	if errNoRow(err) {
		return nil, fmt.Errorf("secret %q: %w", name, registry.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	return v, nil
}

// CreateSecret implements registry.Tx.
func (t *tx) CreateSecret(name string, value []byte) error {
	what := fmt.Sprintf("create secret %q", name)
	if value == nil {
		value = []byte{} // the column is NOT NULL; nil binds as NULL
	}
	tag, err := t.exec(`INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		name, value, time.Now())
	if err != nil {
		return constraintError(err, what, "")
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, registry.ErrExists)
	}
	return nil
}
