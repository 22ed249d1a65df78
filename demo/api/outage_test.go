package api_test

import (
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// tcpProxy forwards connections from a port on 127.0.0.1 to target until
// it is cut, standing in for a network path to the database.
type tcpProxy struct {
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func (p *tcpProxy) listen(t *testing.T, addr string) {
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut closes the listener and every connection through it.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func checkUnavailable(t *testing.T, r resp) {
	t.Helper()
	require.Equal(t, 503, r.status, r.body)
	assert.NotEmpty(t, r.header.Get("Retry-After"))
	assert.Equal(t, "api_error", r.get("error.type").String(), r.body)
	assert.Equal(t, "service_unavailable", r.get("error.code").String(), r.body)
}

// TestDatabaseDown cuts the path to PostgreSQL under a running server,
// checks that requests get 503 with Retry-After and /readyz says so while
// /healthz stays up, then restores the path and checks the server
// recovers.
func TestDatabaseDown(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		u, err := url.Parse(storagetest.PostgresURL(t))
		require.NoError(t, err)
		p := &tcpProxy{target: u.Host}
		p.listen(t, "127.0.0.1:0")
		proxyAddr := p.ln.Addr().String()
		t.Cleanup(p.cut)
		u.Host = proxyAddr
		db, err := storage.Open(t.Context(), u.String())
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		a := startOn(t, db, api.Config{})
		require.Equal(t, 200, a.do(t, a.key, "POST", "/v1/customers", "", "email=a@example.com").status)

		p.cut()
		checkUnavailable(t, a.do(t, a.key, "GET", "/v1/customers", "", ""))
		checkUnavailable(t, a.do(t, a.key, "POST", "/v1/customers", "", "email=b@example.com", "Idempotency-Key", "k1"))
		checkUnavailable(t, a.do(t, "", "GET", "/readyz", "", ""))
		assert.Equal(t, 200, a.do(t, "", "GET", "/healthz", "", "").status)

		p.listen(t, proxyAddr)
		r := a.do(t, a.key, "POST", "/v1/customers", "", "email=b@example.com", "Idempotency-Key", "k1")
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, 200, a.do(t, "", "GET", "/readyz", "", "").status)
	})
	t.Run("sqlite", func(t *testing.T) {
		db, _ := storagetest.Backends()[0].Open(t)
		a := startOn(t, db, api.Config{})
		require.Equal(t, 200, a.do(t, a.key, "GET", "/v1/customers", "", "").status)
		db.Close()
		checkUnavailable(t, a.do(t, a.key, "GET", "/v1/customers", "", ""))
		checkUnavailable(t, a.do(t, "", "GET", "/readyz", "", ""))
		assert.Equal(t, 200, a.do(t, "", "GET", "/healthz", "", "").status)
	})
}

// TestDatabaseBusy holds SQLite's write lock from another connection, as
// another process would, and checks that a write that cannot get it in
// time is a 503 with Retry-After, and succeeds once the lock is let go.
func TestDatabaseBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verso.db")
	db, err := storage.Open(t.Context(), "file:"+path+"?_pragma=busy_timeout(200)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	a := startOn(t, db, api.Config{})
	other, err := storage.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	tx, err := other.Begin(t.Context())
	require.NoError(t, err)
	_, err = tx.Exec(t.Context(), `CREATE TABLE IF NOT EXISTS lock_holder (x INTEGER)`)
	require.NoError(t, err)

	r := a.do(t, a.key, "POST", "/v1/customers", "", "email=busy@example.com")
	require.Equal(t, 503, r.status, r.body)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	assert.Equal(t, "database_busy", r.get("error.code").String(), r.body)

	require.NoError(t, tx.Rollback())
	r = a.do(t, a.key, "POST", "/v1/customers", "", "email=busy@example.com")
	require.Equal(t, 200, r.status, r.body)
}
