//go:build unix

package proxy_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
)

// The proxy's CPU benchmark runs each proxy in a process of its own (this
// test binary, run again with VERSO_PROXY_BENCH_ROLE set), in front of an
// upstream in another process, and generates the load from the test
// process: the CPU time counted is the proxy process's alone, read with
// getrusage inside it, not the client's or the upstream's.

// benchRoleEnv names the role a child process of the benchmark plays:
// upstream, plain (httputil.ReverseProxy) or verso (proxy.Proxy).
const benchRoleEnv = "VERSO_PROXY_BENCH_ROLE"

// benchVersions of testdata/bench.yaml.
const (
	benchNewest = "2025-01-01"
	benchOldest = "2022-01-01" // eight ops away from the newest
)

func TestMain(m *testing.M) {
	if role := os.Getenv(benchRoleEnv); role != "" {
		if err := runBenchRole(role); err != nil {
			fmt.Fprintln(os.Stderr, "bench role", role+":", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	benchProcs.stop()
	os.Exit(code)
}

// benchBody is what the benchmark's upstream answers,
// testdata/bench-answer.json: a list of 18 tasks, 3.1 KB, in the newest
// schema of testdata/bench.yaml, each task touched by all eight ops on the
// way back to the oldest version (transform's BenchmarkWalkBackDense walks
// the same file).
func benchBody() ([]byte, error) {
	return os.ReadFile("testdata/bench-answer.json")
}

// runBenchRole serves one role of the benchmark on 127.0.0.1: it prints
// "listening on PORT", then answers commands on stdin until it closes:
// "cpu" prints the process's user+system CPU time in microseconds,
// "profile FILE" starts a CPU profile into FILE, "stop" stops it.
func runBenchRole(role string) error {
	var h http.Handler
	switch role {
	case "upstream":
		body, err := benchBody()
		if err != nil {
			return err
		}
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		})
	case "plain", "verso":
		up, err := url.Parse(os.Getenv("VERSO_PROXY_BENCH_UPSTREAM"))
		if err != nil {
			return err
		}
		if role == "plain" {
			// A plain reverse proxy tuned as verso's is: a connection pool
			// as large, and pooled copy buffers.
			h = &httputil.ReverseProxy{
				Rewrite: func(pr *httputil.ProxyRequest) {
					pr.SetURL(up)
					pr.SetXForwarded()
				},
				Transport: &http.Transport{
					DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
					ForceAttemptHTTP2:   true,
					MaxIdleConns:        512,
					MaxIdleConnsPerHost: 512,
					IdleConnTimeout:     60 * time.Second,
				},
				BufferPool: plainBuffers{},
			}
			break
		}
		tl, err := gates.LoadFile("testdata/bench.yaml", nil)
		if err != nil {
			return err
		}
		// As verso proxy runs it: pins, and every request counted per
		// version and account, flushed every minute.
		store := pins.NewMemoryStore(nil)
		counter := pins.NewCounter(store)
		go counter.Run(context.Background(), time.Minute, nil)
		p, err := proxy.Config{
			Config:   server.Config{Engine: transform.New(tl, nil), Pins: store, Usage: counter, Logger: slog.New(slog.DiscardHandler)},
			Upstream: up,
		}.Handler()
		if err != nil {
			return err
		}
		h = p
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(ln) }()
	fmt.Printf("listening on %d\n", ln.Addr().(*net.TCPAddr).Port)
	in := bufio.NewScanner(os.Stdin)
	var prof *os.File
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "cpu":
			fmt.Printf("cpu %d\n", cpuTime().Microseconds())

		case "profile":
			if prof, err = os.Create(arg); err == nil {
				err = pprof.StartCPUProfile(prof)
			}
			fmt.Printf("profile %v\n", err)
		case "stop":
			pprof.StopCPUProfile()
			if prof != nil {
				prof.Close()
			}
			fmt.Println("stopped")
		}
	}
	return nil
}

// plainBuffers lends the plain proxy its copy buffers, as verso's proxy
// pools its own.
type plainBuffers struct{}

var plainPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (plainBuffers) Get() []byte  { return *plainPool.Get().(*[]byte) }
func (plainBuffers) Put(b []byte) { plainPool.Put(&b) }

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchProc is a child process of the benchmark.
type benchProc struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	base string
}

// ask sends a command and returns the answer's line.
func (p *benchProc) ask(cmd string) (string, error) {
	if _, err := fmt.Fprintln(p.in, cmd); err != nil {
		return "", err
	}
	line, err := p.out.ReadString('\n')
	return strings.TrimSpace(line), err
}

// cpu returns the child's CPU time so far.
func (p *benchProc) cpu() (time.Duration, error) {
	line, err := p.ask("cpu")
	if err != nil {
		return 0, err
	}
	us, err := strconv.ParseInt(strings.TrimPrefix(line, "cpu "), 10, 64)
	return time.Duration(us) * time.Microsecond, err
}

func startBenchProc(role string, env ...string) (*benchProc, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, benchRoleEnv+"="+role)...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &benchProc{cmd: cmd, in: in, out: bufio.NewReader(stdout)}
	line, err := p.out.ReadString('\n')
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%s did not start: %q %v", role, line, err)
	}
	p.base = "http://127.0.0.1:" + port
	return p, nil
}

// benchProcs are the benchmark's children, started once for every run
// of it (-count runs its cases in turn, so they interleave).
var benchProcs benchSet

type benchSet struct {
	once                   sync.Once
	err                    error
	upstream, plain, verso *benchProc
}

func (s *benchSet) stop() {
	for _, p := range []*benchProc{s.upstream, s.plain, s.verso} {
		if p != nil {
			_ = p.in.Close()
			_ = p.cmd.Wait()
		}
	}
}

func startBenchProcs() error {
	benchProcs.once.Do(func() {
		s := &benchProcs
		if s.upstream, s.err = startBenchProc("upstream"); s.err != nil {
			return
		}
		env := "VERSO_PROXY_BENCH_UPSTREAM=" + s.upstream.base
		if s.plain, s.err = startBenchProc("plain", env); s.err != nil {
			return
		}
		role := "verso"
		if os.Getenv("VERSO_PROXY_BENCH_AA") != "" {
			role = "plain" // the method measured against itself
		}
		s.verso, s.err = startBenchProc(role, env)
	})
	return benchProcs.err
}

// benchConns is the number of connections the load generator keeps busy.
const benchConns = 16

// benchChunk is how many requests go through one proxy before the
// benchmark turns to the other: the plain proxy and verso's take turns, so
// that both are measured under the same load from the rest of the machine.
const benchChunk = 500

// BenchmarkProxyCPU measures the CPU time the proxy process spends per
// request: verso's proxy at the newest version (by the version header,
// and by an account's pin in memory) and at the oldest version of
// testdata/bench.yaml, which walks each task of the 3.1 KB answer through
// eight ops, each against a plain httputil.ReverseProxy tuned alike (the
// same connection pool, pooled copy buffers). Each proxy runs in its own
// process, in front of an upstream in a third; the load, benchConns
// connections looping GET /v1/tasks, comes from the test process. The two
// proxies take turns every benchChunk requests. cpu-µs/op is the verso
// proxy process's own user+system CPU per request (getrusage inside that
// process), plain-cpu-µs/op the plain one's over as many requests, x-plain
// their ratio; req/s is verso's throughput under this load.
//
//	go test -run '^$' -bench ProxyCPU -benchtime 20000x -count 6 ./proxy/
//
// VERSO_PROXY_BENCH_AA=1 runs a second plain proxy in place of verso's:
// the method measured against itself (x-plain within ±0.03 of 1 on a
// loaded machine).
//
// VERSO_PROXY_BENCH_PROFILE=DIR writes CPU profiles of verso's proxy and
// of the plain one in each case to DIR/CASE.pprof and DIR/CASE-plain.pprof.
func BenchmarkProxyCPU(b *testing.B) {
	if err := startBenchProcs(); err != nil {
		b.Fatal(err)
	}
	plainHeader := http.Header{"Acme-Version": {benchNewest}}
	cases := []struct {
		name   string
		header http.Header
	}{
		{"at=newest", http.Header{"Acme-Version": {benchNewest}}},
		{"at=newest-pinned", http.Header{"Authorization": {"Bearer sk_test_bench"}}},
		{"at=oldest-8-ops", http.Header{"Acme-Version": {benchOldest}}},
	}
	body, err := benchBody()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			load := newBenchLoad()
			defer load.close()
			for _, w := range []struct {
				p *benchProc
				h http.Header
			}{{benchProcs.plain, plainHeader}, {benchProcs.verso, c.header}} {
				// Pins the account, opens the connections.
				if _, _, err := load.run(w.p, w.h, benchConns); err != nil {
					b.Fatal(err)
				}
			}
			if dir := os.Getenv("VERSO_PROXY_BENCH_PROFILE"); dir != "" {
				name := strings.TrimPrefix(c.name, "at=")
				for p, file := range map[*benchProc]string{benchProcs.verso: name, benchProcs.plain: name + "-plain"} {
					if line, err := p.ask("profile " + dir + "/" + file + ".pprof"); err != nil || line != "profile <nil>" {
						b.Fatal(line, err)
					}
					defer p.ask("stop") //nolint:errcheck
				}
			}
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			var cpuPlain, cpuVerso, wall time.Duration
			for done, turn := 0, 0; done < b.N; done, turn = done+benchChunk, turn+1 {
				n := min(benchChunk, b.N-done)
				// Each goes first every other turn.
				for i := range 2 {
					if (i+turn)%2 == 0 {
						cpu, _, err := load.run(benchProcs.plain, plainHeader, n)
						if err != nil {
							b.Fatal(err)
						}
						cpuPlain += cpu
						continue
					}
					cpu, elapsed, err := load.run(benchProcs.verso, c.header, n)
					if err != nil {
						b.Fatal(err)
					}
					cpuVerso += cpu
					wall += elapsed
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/wall.Seconds(), "req/s")
			b.ReportMetric(float64(cpuVerso.Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(cpuPlain.Nanoseconds())/1e3/float64(b.N), "plain-cpu-µs/op")
			b.ReportMetric(float64(cpuVerso)/float64(cpuPlain), "x-plain")

		})
	}
}

// benchLoad generates the benchmark's load: benchConns connections.
type benchLoad struct {
	client *http.Client
}

func newBenchLoad() *benchLoad {
	return &benchLoad{client: &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: benchConns, MaxConnsPerHost: benchConns, DisableCompression: true,
	}}}
}

func (l *benchLoad) close() { l.client.CloseIdleConnections() }

// run sends n requests to p over benchConns connections and returns the
// CPU time p spent meanwhile, and the wall time.
func (l *benchLoad) run(p *benchProc, header http.Header, n int) (cpu, elapsed time.Duration, err error) {
	get := func() error {
		req, err := http.NewRequest("GET", p.base+"/v1/tasks", nil)
		if err != nil {
			return err
		}
		req.Header = header.Clone()
		res, err := l.client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return err
	}
	cpu0, err := p.cpu()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		fail error
		next = make(chan struct{}, n)
	)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range benchConns {
		wg.Go(func() {
			for range next {
				if err := get(); err != nil {
					mu.Lock()
					fail = errors.Join(fail, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed = time.Since(start)
	cpu1, err := p.cpu()
	if err == nil {
		err = fail
	}
	return cpu1 - cpu0, elapsed, err
}

// BenchmarkAccount measures the keyed hash that names the account of an
// Authorization header.
func BenchmarkAccount(b *testing.B) {
	p, err := proxy.Config{Config: server.Config{Engine: loadEngine(b)}, Upstream: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}}.Handler()
	if err != nil {
		b.Fatal(err)
	}
	r, _ := http.NewRequestWithContext(context.Background(), "GET", "/v1/tasks", nil)
	r.Header.Set("Authorization", "Bearer sk_test_0123456789abcdefghijklmnop")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Account(r); err != nil {
			b.Fatal(err)
		}
	}
}
