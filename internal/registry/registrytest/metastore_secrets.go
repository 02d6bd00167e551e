package registrytest

import (
	"bytes"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

// testSecrets: a secret is created once, read back byte for byte, and a
// second create of the same name is refused without changing it (the
// get-or-create race between replicas depends on that).
func testSecrets(t *testing.T, s registry.MetaStore) {
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.Secret("token-key")
		metaWantErr(t, "Secret before CreateSecret", err, registry.ErrNotFound)
		return nil
	})
	first := []byte{0, 1, 2, 255, 254}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateSecret("token-key", first) })
	var err error
	metaUpdate(t, s, func(tx registry.Tx) error {
		err = tx.CreateSecret("token-key", []byte("other"))
		return nil
	})
	metaWantErr(t, "second CreateSecret", err, registry.ErrExists)
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.Secret("token-key")
		if err != nil || !bytes.Equal(got, first) {
			t.Errorf("Secret = %v, %v; want %v", got, err, first)
		}
		_, err = tx.Secret("other-name")
		metaWantErr(t, "Secret of another name", err, registry.ErrNotFound)
		return nil
	})
}
