package postgres

import (
	"testing"

	"github.com/ecrd/ecrd/internal/metastore/sqlstore/sqlstoretest"
	"github.com/ecrd/ecrd/internal/registry"
)

var _ registry.SingleReader = (*Store)(nil)

func TestViewSingle(t *testing.T) {
	s, _ := openFresh(t, Options{MaxConns: 1})
	sqlstoretest.ViewSingle(t, s)
}
