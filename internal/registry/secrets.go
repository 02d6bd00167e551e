package registry

import (
	"context"
	"crypto/rand"
	"errors"
)

// Secret returns the named server secret, creating it with size random
// bytes the first time. Every replica over the same MetaStore gets the same
// bytes: when two create it at once, one insert wins and both read it.
func (r *Registry) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	var v []byte
	err := r.meta.View(ctx, func(tx Tx) (err error) {
		v, err = tx.Secret(name)
		return err
	})
	if err == nil || !errors.Is(err, ErrNotFound) {
		return v, err
	}
	fresh := make([]byte, size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	err = r.meta.Update(ctx, func(tx Tx) error {
		existing, err := tx.Secret(name)
		if err == nil {
			v = existing
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		v = fresh
		return tx.CreateSecret(name, fresh)
	})
	return v, err
}
