package registrytest

import (
	"reflect"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// testReplication: a registry's replication rules are replaced whole and
// cleared by none; an image's tasks are kept per destination, replaced
// by a later write, listed due oldest first (and only IN_PROGRESS ones),
// refused for a repository that does not exist, and deleted with it.
func testReplication(t *testing.T, s registry.MetaStore) {
	rules := []registry.ReplicationRule{
		{Destinations: []registry.ReplicationDestination{{Region: "us-west-2", Registry: metaRegA}, {Region: "us-east-1", Registry: metaRegB}}, Filters: []string{"prod", "team/"}},
		{Destinations: []registry.ReplicationDestination{{Region: "eu-west-1", Registry: metaRegA}}},
	}
	config := func(reg registry.RegistryID, want []registry.ReplicationRule) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.ReplicationConfig(reg)
			if err != nil || len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Errorf("ReplicationConfig(%s) = %+v, %v; want %+v", reg, got, err, want)
			}
			return nil
		})
	}
	config(metaRegA, nil)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutReplicationConfig(metaRegA, rules) })
	config(metaRegA, rules)
	config(metaRegB, nil)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutReplicationConfig(metaRegA, rules[1:]) })
	config(metaRegA, rules[1:])
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutReplicationConfig(metaRegA, nil) })
	config(metaRegA, nil)

	key := metaKey(metaRegA, "prod/app")
	at := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	west := registry.ReplicationDestination{Region: "us-west-2", Registry: metaRegA}
	east := registry.ReplicationDestination{Region: "us-east-1", Registry: metaRegB}
	task := func(d registry.ReplicationDestination, status string, next time.Time) registry.ReplicationTask {
		return registry.ReplicationTask{Source: key, Digest: metaDigest("one"), Destination: d, Status: status, NextAttempt: next, UpdatedAt: at}
	}
	err := s.Update(t.Context(), func(tx registry.Tx) error {
		return tx.PutReplicationTask(task(west, registry.ReplicationInProgress, at))
	})
	metaWantErr(t, "PutReplicationTask of a missing repository", err, registry.ErrNotFound)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.CreateRepository(metaRepo(key)) })
	metaUpdate(t, s, func(tx registry.Tx) error {
		return tx.PutReplicationTask(task(west, registry.ReplicationInProgress, at.Add(time.Minute)))
	})
	metaUpdate(t, s, func(tx registry.Tx) error {
		return tx.PutReplicationTask(task(east, registry.ReplicationInProgress, at))
	})
	due := func(now time.Time, want ...registry.ReplicationDestination) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.DueReplicationTasks(now, 10)
			if err != nil {
				return err
			}
			var dests []registry.ReplicationDestination
			for _, g := range got {
				dests = append(dests, g.Destination)
			}
			if !reflect.DeepEqual(dests, want) {
				t.Errorf("DueReplicationTasks(%v) = %+v, want %+v", now, dests, want)
			}
			return nil
		})
	}
	due(at.Add(-time.Second))
	due(at, east)
	due(at.Add(time.Hour), east, west)
	failed := task(east, registry.ReplicationFailed, at)
	failed.FailureCode, failed.Attempts = "REPLICATION_ACCESS_DENIED", 3
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutReplicationTask(failed) })
	due(at.Add(time.Hour), west)
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.ReplicationTasks(key, metaDigest("one"))
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].Destination != east || got[0].Status != registry.ReplicationFailed || got[0].FailureCode != failed.FailureCode ||
			got[0].Attempts != 3 || got[1].Destination != west || !got[1].NextAttempt.Equal(at.Add(time.Minute)) || !got[1].UpdatedAt.Equal(at) {
			t.Errorf("ReplicationTasks = %+v", got)
		}
		other, err := tx.ReplicationTasks(key, metaDigest("two"))
		if err != nil || len(other) != 0 {
			t.Errorf("another image's tasks: %+v, %v", other, err)
		}
		return nil
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteRepository(key) })
	due(at.Add(time.Hour))
}
