package storage_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// cutter forwards TCP connections to a database until cut.
type cutter struct {
	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func forward(t *testing.T, target string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &cutter{ln: ln}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(c.cut)
	return c
}

// drop closes the connections made so far; the listener stays.
func (c *cutter) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.conns {
		x.Close()
	}
	c.conns = nil
}

func (c *cutter) cut() { c.ln.Close(); c.drop() }

// TestIsUnavailable checks, on real databases, that the errors of a
// database that went away are IsUnavailable, and that the errors of work
// the database refuses are not.
func TestIsUnavailable(t *testing.T) {
	ctx := context.Background()
	t.Run("postgres", func(t *testing.T) {
		u, err := url.Parse(storagetest.PostgresURL(t))
		require.NoError(t, err)
		c := forward(t, u.Host)
		u.Host = c.ln.Addr().String()
		db, err := storage.Open(ctx, u.String())
		require.NoError(t, err)
		defer db.Close()
		_, err = db.Exec(ctx, `CREATE TABLE u (id INTEGER PRIMARY KEY)`)
		require.NoError(t, err)
		_, err = db.Exec(ctx, `INSERT INTO u VALUES (1)`)
		require.NoError(t, err)

		_, err = db.Exec(ctx, `INSERT INTO u VALUES (1)`)
		assert.False(t, storage.IsUnavailable(err), "a unique violation: %v", err)
		_, err = db.Exec(ctx, `SELEC 1`)
		assert.False(t, storage.IsUnavailable(err), "a syntax error: %v", err)

		tx, err := db.Begin(ctx) // holds a connection across the drop
		require.NoError(t, err)
		c.drop()
		_, err = tx.Exec(ctx, `SELECT 1`)
		require.Error(t, err)
		assert.True(t, storage.IsUnavailable(err), "a dropped connection: %v", err)
		tx.Rollback()
		c.cut()
		_, err = db.Exec(ctx, `SELECT 1`)
		require.Error(t, err)
		assert.True(t, storage.IsUnavailable(err), "no database: %v", err)
	})
	t.Run("sqlite", func(t *testing.T) {
		db, _ := storagetest.Backends()[0].Open(t)
		_, err := db.Exec(ctx, `CREATE TABLE u (id INTEGER PRIMARY KEY)`)
		require.NoError(t, err)
		_, err = db.Exec(ctx, `INSERT INTO u VALUES (1)`)
		require.NoError(t, err)
		_, err = db.Exec(ctx, `INSERT INTO u VALUES (1)`)
		assert.False(t, storage.IsUnavailable(err), "a unique violation: %v", err)
		_, err = db.Exec(ctx, `SELEC 1`)
		assert.False(t, storage.IsUnavailable(err), "a syntax error: %v", err)
		db.Close()
		_, err = db.Exec(ctx, `SELECT 1`)
		require.Error(t, err)
		assert.True(t, storage.IsUnavailable(err), "a closed database: %v", err)
	})
	assert.False(t, storage.IsUnavailable(nil))
	assert.False(t, storage.IsUnavailable(storage.ErrBusy))
}
