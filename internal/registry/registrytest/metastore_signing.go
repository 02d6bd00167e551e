package registrytest

import (
	"reflect"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// testSigning: a registry's signing configuration is absent (ErrNotFound)
// until put, an empty one is still one, and a delete removes it (a second
// is ErrNotFound); an image's signings are kept by profile, are
// ErrNotFound for an image that does not exist, are due while IN_PROGRESS
// and go with their image.
func testSigning(t *testing.T, s registry.MetaStore) {
	rules := []registry.SigningRule{{ProfileARN: "arn:aws:signer:us-east-1:111111111111:/signing-profiles/one", Filters: []string{"prod/*"}},
		{ProfileARN: "arn:aws:signer:us-east-1:111111111111:/signing-profiles/two"}}
	config := func(reg registry.RegistryID, want []registry.SigningRule, found bool) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.SigningConfig(reg)
			if !found {
				metaWantErr(t, "SigningConfig", err, registry.ErrNotFound)
			} else if err != nil || len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Errorf("SigningConfig(%s) = %+v, %v; want %+v", reg, got, err, want)
			}
			return nil
		})
	}
	config(metaRegA, nil, false)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutSigningConfig(metaRegA, rules) })
	config(metaRegA, rules, true)
	config(metaRegB, nil, false)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutSigningConfig(metaRegA, nil) })
	config(metaRegA, nil, true)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteSigningConfig(metaRegA) })
	config(metaRegA, nil, false)
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteSigningConfig(metaRegA) })
	metaWantErr(t, "a second DeleteSigningConfig", err, registry.ErrNotFound)

	key := metaKey(metaRegA, "signed")
	metaCreateRepos(t, s, key)
	img := metaImage("one")
	metaPutImages(t, s, key, img)
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	one := registry.SigningTask{Key: key, Digest: img.Digest, ProfileARN: rules[0].ProfileARN, Status: registry.SigningInProgress, NextAttempt: at, UpdatedAt: at}
	two := registry.SigningTask{Key: key, Digest: img.Digest, ProfileARN: rules[1].ProfileARN, Status: registry.SigningFailed,
		FailureCode: "X", FailureReason: "why", Attempts: 3, NextAttempt: at, UpdatedAt: at}
	err = s.Update(t.Context(), func(tx registry.Tx) error {
		missing := one
		missing.Digest = metaDigest("missing")
		return tx.PutSigningTask(missing)
	})
	metaWantErr(t, "PutSigningTask of a missing image", err, registry.ErrNotFound)
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.PutSigningTask(two); err != nil {
			return err
		}
		return tx.PutSigningTask(one)
	})
	done := one
	done.Status, done.Signature, done.Attempts, done.UpdatedAt = registry.SigningComplete, metaDigest("sig"), 1, at.Add(time.Second)
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.SigningTasks(key, img.Digest)
		if err != nil || !reflect.DeepEqual(got, []registry.SigningTask{one, two}) {
			t.Errorf("SigningTasks = %+v, %v", got, err)
		}
		due, err := tx.DueSigningTasks(at, 10)
		if err != nil || !reflect.DeepEqual(due, []registry.SigningTask{one}) {
			t.Errorf("DueSigningTasks(at) = %+v, %v", due, err)
		}
		if due, err := tx.DueSigningTasks(at.Add(-time.Second), 10); err != nil || len(due) != 0 {
			t.Errorf("DueSigningTasks(before) = %+v, %v", due, err)
		}
		return nil
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutSigningTask(done) })
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.SigningTasks(key, img.Digest)
		if err != nil || !reflect.DeepEqual(got, []registry.SigningTask{done, two}) {
			t.Errorf("SigningTasks after COMPLETE = %+v, %v", got, err)
		}
		return nil
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteImage(key, img.Digest) })
	metaView(t, s, func(tx registry.Tx) error {
		if got, err := tx.SigningTasks(key, img.Digest); err != nil || len(got) != 0 {
			t.Errorf("the signings of a deleted image: %+v, %v", got, err)
		}
		return nil
	})
}
