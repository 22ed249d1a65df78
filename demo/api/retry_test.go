package api_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/client"
	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage/storagetest"
)

// dropFirst is a TCP proxy to target on 127.0.0.1 that lets the first
// request reach the server, waits for the server's answer (so the charge
// is committed), and then closes the client's connection without passing
// the answer on. Later connections are proxied as they are.
func dropFirst(t *testing.T, target string) (addr string, dropped *atomic.Int32) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	dropped = new(atomic.Int32)
	go func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			if n == 0 {
				go func() {
					defer c.Close()
					defer s.Close()
					go io.Copy(s, c)
					buf := make([]byte, 1)
					s.SetReadDeadline(time.Now().Add(10 * time.Second))
					if _, err := s.Read(buf); err == nil {
						dropped.Add(1) // the server answered: drop the answer
					}
				}()
				continue
			}
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return ln.Addr().String(), dropped
}

// TestConnectionDroppedAfterCommit: the server commits the charge, the
// connection drops before the client reads the answer, the client retries
// with the same Idempotency-Key and ends with the original charge, and the
// server holds exactly one.
func TestConnectionDroppedAfterCommit(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		proxy, dropped := dropFirst(t, strings.TrimPrefix(a.url, "http://"))
		var waits []time.Duration
		c, err := client.New(client.Config{
			BaseURL: "http://" + proxy, APIKey: a.key, Version: "2019-10-17",
			Sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil },
		})
		require.NoError(t, err)
		var res client.Response
		var ch map[string]any
		err = c.Post(context.Background(), "/v1/charges", map[string]any{"amount": 4200, "currency": "eur", "source": "tok_visa"}, &ch, client.WithResponse(&res))
		require.NoError(t, err)
		assert.Equal(t, int32(1), dropped.Load(), "the first answer was dropped")
		assert.Equal(t, 2, res.Attempts)
		assert.Len(t, waits, 1)
		assert.Equal(t, "true", res.Header.Get("Idempotent-Replayed"), "the retry got the saved response")
		assert.Equal(t, float64(4200), ch["amount"], "rendered in the client's version: an integer")

		l := a.do(t, a.key, "GET", "/v1/charges", "", "")
		require.Equal(t, 200, l.status, l.body)
		require.Len(t, l.get("data").Array(), 1, "one charge")
		assert.Equal(t, ch["id"], l.get("data.0.id").String(), "the original charge id")
		evs := a.do(t, a.key, "GET", "/v1/events?type=charge.succeeded", "", "")
		assert.Len(t, evs.get("data").Array(), 1, "one event")
	})
}
