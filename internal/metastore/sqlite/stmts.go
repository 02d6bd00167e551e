package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmts keeps the statements a pool runs prepared. SQLite parses and plans
// a statement on every call otherwise, and for a point lookup (a blob
// HEAD's one statement) that costs several times what running it does.
// A *sql.Stmt of the pool is prepared once per connection, and a
// transaction borrows it (sql.Tx.StmtContext) without parsing again.
//
// A statement is prepared only after the transaction that first ran it
// has ended: preparing takes a connection of the pool, and inside a
// transaction the pool's connections may all be taken, the write pool's
// one always is. That first run, and any run of a statement that would
// not prepare, is the unprepared call it was before.
type stmts struct {
	db *sql.DB
	// ready maps a query to its *sql.Stmt.
	ready sync.Map
	// rebound maps a shared statement, in $N form, to its SQLite form
	// (rebind).
	rebound sync.Map
	mu      sync.Mutex
	// pending are queries run unprepared since they were last prepared for;
	// n counts ready's entries, bounded by maxStmts.
	pending map[string]struct{}
	n       int
	closed  bool
	// nRebound counts rebound's entries, bounded by maxStmts too.
	nRebound int
}

// maxStmts bounds the statements kept per pool: the store's statements
// are fixed text, but a few are built for the number of their arguments.
const maxStmts = 1024

func newStmts(db *sql.DB) *stmts { return &stmts{db: db, pending: map[string]struct{}{}} }

// get returns query's prepared statement, or nil when it has none yet
// (prepare then makes it).
func (c *stmts) get(query string) *sql.Stmt {
	if v, ok := c.ready.Load(query); ok {
		return v.(*sql.Stmt)
	}
	c.mu.Lock()
	if !c.closed && c.n+len(c.pending) < maxStmts {
		c.pending[query] = struct{}{}
	}
	c.mu.Unlock()
	return nil
}

// prepare prepares the statements run unprepared since the last call; it
// is called when a transaction has given its connection back. A statement
// that does not prepare stays unprepared until it is run again: it fails
// when run too, or the store is closing.
func (c *stmts) prepare(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(c.pending))
	for q := range c.pending {
		queries = append(queries, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range queries {
		if _, ok := c.ready.Load(q); ok {
			continue
		}
		st, err := c.db.PrepareContext(context.WithoutCancel(ctx), q)
		c.mu.Lock()
		switch {
		case err != nil:
		case c.closed:
			st.Close()
		default:
			if _, loaded := c.ready.LoadOrStore(q, st); loaded {
				st.Close()
			} else {
				c.n++
			}
		}
		c.mu.Unlock()
	}
}

// rebind is the package's rebind, remembered for the statements kept:
// replacing in a statement of a kilobyte costs a HEAD as much as a seek.
func (c *stmts) rebind(query string) string {
	if v, ok := c.rebound.Load(query); ok {
		return v.(string)
	}
	r := rebind(query)
	c.mu.Lock()
	if c.nRebound < maxStmts {
		if _, loaded := c.rebound.LoadOrStore(query, r); !loaded {
			c.nRebound++
		}
	}
	c.mu.Unlock()
	return r
}

// close closes the prepared statements; the pool closes after.
func (c *stmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.ready.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	c.ready.Clear()
}
