package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Secret implements registry.Tx.
func (t *tx) Secret(name string) ([]byte, error) {
	var v []byte
	err := t.queryRow(`SELECT value FROM secrets WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("secret %q: %w", name, registry.ErrNotFound)
	}
	return v, err
}

// CreateSecret implements registry.Tx.
func (t *tx) CreateSecret(name string, value []byte) error {
	_, err := t.exec(`INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)`, name, value, micros(time.Now()))
	if err != nil {
		return insertError(err, "secret "+name)
	}
	return nil
}
