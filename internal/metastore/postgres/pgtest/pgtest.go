// Package pgtest gives tests a PostgreSQL database of their own: the
// server comes from ECRD_TEST_POSTGRES_DSN (scripts/start-postgres.sh
// prints one), each test gets a fresh database, dropped when it ends.
// Without the variable a test is skipped, unless CI=true: there a missing
// PostgreSQL fails, loudly.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DSNEnv names the variable that points the tests at a PostgreSQL server;
// its role must be allowed to create databases.
const DSNEnv = "ECRD_TEST_POSTGRES_DSN"

// ServerDSN returns the test server's DSN. Without one the test is
// skipped, unless CI=true: there a missing PostgreSQL fails, loudly.
func ServerDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(DSNEnv)
	if dsn == "" {
		const hint = DSNEnv + " is not set. Start PostgreSQL and run:\n" +
			"\tDSN=$(scripts/start-postgres.sh) && " + DSNEnv + "=$DSN go test ./..."
		if os.Getenv("CI") == "true" {
			t.Fatal(hint)
		}
		t.Skip(hint)
	}
	return dsn
}

// FreshDatabase creates an empty database on the test server, dropped
// when the test ends, and returns its DSN.
func FreshDatabase(t testing.TB) string {
	t.Helper()
	dsn := ServerDSN(t)
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", DSNEnv)
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := "ecrd_test_" + hex.EncodeToString(b)
	admin := func(stmt string) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, stmt)
		return err
	}
	// template0 and UTF8, whatever the server's defaults: the store's
	// columns name their collation, and the tests need no more.
	if err := admin("CREATE DATABASE " + name + " TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		t.Fatalf("CREATE DATABASE %s: %v", name, err)
	}
	t.Cleanup(func() {
		// FORCE ends the test's own sessions, but not an autovacuum worker
		// the server started on the new database (a superuser's: 42501);
		// such a worker ends within moments, so the drop is retried.
		var err error
		for try := 0; try < 50; try++ {
			if err = admin("DROP DATABASE " + name + " WITH (FORCE)"); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("DROP DATABASE %s: %v", name, err)
	})
	u.Path = "/" + name
	return u.String()
}
