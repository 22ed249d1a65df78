package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// objectReads counts the SQL statements that read the body of the demo's
// objects (verso_objects.body) on one database: every fetch of objects,
// one or many. It counts what the database sees, whatever code sent it.
type objectReads struct{ n atomic.Int64 }

func (c *objectReads) Load() int64 { return c.n.Load() }

// openCounted opens a database of backend b for t whose statements reading
// objects are counted: on SQLite through the authorizer SQLite consults as
// it compiles each statement (the driver compiles every query it runs), on
// PostgreSQL by a proxy on 127.0.0.1 that reads the wire protocol between
// the pool and the server and counts the executions of statements naming
// verso_objects.
func openCounted(t *testing.T, b storagetest.Backend) (*storage.DB, *objectReads) {
	t.Helper()
	c := &objectReads{}
	var u string
	switch b.Name {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "verso.db")
		sqliteCounters.add(path, c)
		u = path
	default:
		base := os.Getenv(storagetest.EnvPostgres)
		if base == "" {
			t.Skip(storagetest.EnvPostgres + " is unset: skipping the PostgreSQL test (.ci/run sets it)")
		}
		pu, err := url.Parse(storagetest.Schema(t, base))
		require.NoError(t, err)
		pu.Host = pgCountingProxy(t, pu.Host, c)
		q := pu.Query()
		q.Set("sslmode", "disable") // the proxy reads the protocol in clear
		pu.RawQuery = q.Encode()
		u = pu.String()
	}
	db, err := storage.Open(context.Background(), u)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db, c
}

// sqliteHooks maps database paths to their counters; the connection hook
// installs an authorizer on the connections to those databases.
type sqliteHooks struct {
	sync.Mutex
	once  sync.Once
	paths map[string]*objectReads
}

var sqliteCounters = &sqliteHooks{paths: map[string]*objectReads{}}

func (s *sqliteHooks) add(path string, c *objectReads) {
	s.once.Do(func() {
		sqlite.RegisterConnectionHook(func(conn sqlite.ExecQuerierContext, dsn string) error {
			s.Lock()
			var c *objectReads
			for p, pc := range s.paths {
				if strings.Contains(dsn, p) {
					c = pc
				}
			}
			s.Unlock()
			if c == nil {
				return nil
			}
			reg, ok := conn.(sqlite.AuthorizerRegisterer)
			if !ok {
				return nil
			}
			return reg.RegisterAuthorizer(func(action sqlite.AuthorizerActionCode, table, column, _, _ string) sqlite.AuthorizerReturnCode {
				if action == sqlite.AuthRead && table == "verso_objects" && column == "body" {
					c.n.Add(1)
				}
				return sqlite.AuthorizerOK
			})
		})
	})
	s.Lock()
	s.paths[path] = c
	s.Unlock()
}

// pgCountingProxy forwards connections to target and counts, in c, the
// Execute messages of statements whose text names verso_objects, and the
// simple queries that do.
func pgCountingProxy(t *testing.T, target string, c *objectReads) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				io.Copy(client, server)
				client.Close()
			}()
			go func() {
				defer wg.Done()
				countFrontend(client, server, c)
				server.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// countFrontend passes on to server the messages a PostgreSQL client
// sends (the startup message, then typed messages: a byte, a length, the
// body), each counted before the server gets it, so that a statement is
// counted before its response can reach the client.
func countFrontend(client io.Reader, server io.Writer, c *objectReads) {
	br := bufio.NewReader(client)
	var n [4]byte
	if _, err := io.ReadFull(br, n[:]); err != nil {
		return
	}
	start := make([]byte, int(binary.BigEndian.Uint32(n[:])))
	copy(start, n[:])
	if _, err := io.ReadFull(br, start[4:]); err != nil {
		return
	}
	if _, err := server.Write(start); err != nil {
		return
	}
	objects := map[string]bool{} // prepared statement -> names verso_objects
	portals := map[string]bool{} // portal -> its statement does
	names := func(q []byte) bool { return bytes.Contains(q, []byte("verso_objects")) }
	cstr := func(b []byte) (string, []byte) {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return string(b), nil
		}
		return string(b[:i]), b[i+1:]
	}
	for {
		head := make([]byte, 5)
		if _, err := io.ReadFull(br, head); err != nil {
			return
		}
		msg := make([]byte, 1+int(binary.BigEndian.Uint32(head[1:])))
		copy(msg, head)
		if _, err := io.ReadFull(br, msg[5:]); err != nil {
			return
		}
		body := msg[5:]
		switch msg[0] {
		case 'P': // Parse: statement name, query
			name, rest := cstr(body)
			q, _ := cstr(rest)
			objects[name] = names([]byte(q))
		case 'B': // Bind: portal, statement
			portal, rest := cstr(body)
			stmt, _ := cstr(rest)
			portals[portal] = objects[stmt]
		case 'E': // Execute: portal
			portal, _ := cstr(body)
			if portals[portal] {
				c.n.Add(1)
			}
		case 'Q': // a simple query
			if names(body) {
				c.n.Add(1)
			}
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
	}
}
