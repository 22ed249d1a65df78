package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/pins/pinhttp"
	"github.com/verso-api/verso/prom"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

func init() {
	register(&command{name: "proxy", summary: "version an HTTP API written in any language, from outside", run: runProxy, usage: `Usage: verso proxy --upstream URL -f TIMELINE [--addr 127.0.0.1:4243]
                   [--db FILE | --db postgres://...] [--account-header NAME]
                   [--auth-check "GET /v1/me"] [--default-version V]

Serves every version of TIMELINE in front of an HTTP API, in any language,
that knows only the newest one: a reverse proxy running the versioning
middleware. It chooses each request's version (the version header, else
the account's pin, pinned to the newest stable version on its first
request), walks the request forward to the newest schema, forwards it, and
walks the response back; at the newest version the response streams
through untouched. The upstream gets the version header naming the
client's version, for behaviour changes only it can make.

The account is --account-header, which a gateway in front must set (a
client could claim any account through it otherwise), or else a keyed
SHA-256 of the Authorization header: credentials are never stored.

With --auth-check, a request the upstream answers 2xx only for valid
credentials, the proxy answers the pin endpoints itself (GET and POST
/v1/account/api_version version=..., POST /v1/account/api_version/rollback,
and the account's upgrade report, GET
/v1/account/api_version/upgrade_report?to=V) once the upstream has
accepted the caller's credentials for it. Without
it, nothing proves who may read or move a pin: the proxy does not answer
them (they reach the upstream) and says so when it starts.

Flags:
  --upstream URL       the API behind the proxy, http:// or https:// (required)
  -f, --timeline FILE  the YAML timeline of the API's versions (required)
  --addr HOST:PORT     where to listen (default 127.0.0.1:4243)
  --db URL             keep pins in a SQLite file or postgres://... (default:
                       in memory, forgotten when the proxy stops)
  --account-header H   the request header naming the account (default: the
                       keyed hash of Authorization)
  --default-version V  the version served to a request naming none from an
                       account with no pin, which is then pinned to it: the
                       version the API's existing clients integrated
                       against (default: the newest stable version)
  --auth-check "METHOD /path"
                       the upstream's check of a caller's credentials, such
                       as "GET /v1/me"; enables the pin endpoints
  --pin-path P         where the pin endpoints answer (default
                       /v1/account/api_version)
  --report-sample R    share of each account's requests whose changes are
                       recorded for its upgrade report, kept in --db
                       (default 1; 0 records nothing)
  --metrics-addr A     serve Prometheus /metrics on this address (default: none)
  --changelog-url U    responses in a deprecated version carry
                       Link: <U#vVERSION>; rel="deprecation" (default: none)
  --max-body-bytes N   largest request body walked forward (default 1048576)
  --max-response-bytes N
                       largest JSON response walked back; larger gets 500
                       (default 33554432)
  --dial-timeout D     connecting to the upstream; then 502 (default 5s)
  --upstream-timeout D how long the upstream may take: its whole answer at a
                       version whose answers are walked back, then 504; its
                       silence while an answer streams, then the answer is
                       cut (default 60s)
  --read-header-timeout D, --read-timeout D, --write-timeout D,
  --idle-timeout D     http.Server timeouts (defaults 10s, 60s, 120s, 120s)
  --log-format F       text or json (default text)
`})
}

func runProxy(e *env, args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	tlArg := timelineFlag(e, fs)
	tlArg.withoutGo = "verso proxy"
	upstream := fs.String("upstream", "", "")
	addr := fs.String("addr", "127.0.0.1:4243", "")
	dbURL := fs.String("db", "", "")
	accountHeader := fs.String("account-header", "", "")
	pinPath := fs.String("pin-path", pinhttp.DefaultPath, "")
	reportSample := fs.Float64("report-sample", 1, "")
	authCheck := fs.String("auth-check", "", "")
	defaultVersion := fs.String("default-version", "", "")
	metricsAddr := fs.String("metrics-addr", "", "")
	changelogURL := fs.String("changelog-url", "", "")
	maxBody := fs.Int64("max-body-bytes", server.DefaultMaxBodyBytes, "")
	maxResponse := fs.Int64("max-response-bytes", server.DefaultMaxResponseBytes, "")
	dialTimeout := fs.Duration("dial-timeout", proxy.DefaultDialTimeout, "")
	upstreamTimeout := fs.Duration("upstream-timeout", proxy.DefaultUpstreamTimeout, "")
	readHeaderTimeout := fs.Duration("read-header-timeout", 10*time.Second, "")
	readTimeout := fs.Duration("read-timeout", 60*time.Second, "")
	writeTimeout := fs.Duration("write-timeout", 120*time.Second, "")
	idleTimeout := fs.Duration("idle-timeout", 120*time.Second, "")
	logFormat := fs.String("log-format", "text", "")
	if err := flagsOnly(fs, args); err != nil {
		return err
	}
	if *upstream == "" {
		return usagef("missing --upstream URL")
	}
	up, err := url.Parse(*upstream)
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		return usagef("--upstream must be an http:// or https:// URL with a host, such as http://127.0.0.1:3000")
	}
	for _, d := range []time.Duration{*dialTimeout, *upstreamTimeout, *readHeaderTimeout, *readTimeout, *writeTimeout, *idleTimeout} {
		if d <= 0 {
			return usagef("the timeouts must be positive durations, such as 30s")
		}
	}
	if *reportSample < 0 || *reportSample > 1 {
		return usagef("--report-sample must be between 0 and 1")
	}
	if *maxBody <= 0 || *maxResponse <= 0 {
		return usagef("--max-body-bytes and --max-response-bytes must be positive")
	}
	var logger *slog.Logger
	switch *logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(e.stderr, nil))
	case "json":
		logger = slog.New(slog.NewJSONHandler(e.stderr, nil))
	default:
		return usagef("--log-format must be text or json")
	}
	tl, err := loadTimeline(tlArg)
	if err != nil {
		return err
	}
	var defVersion versions.Version
	if *defaultVersion != "" {
		if defVersion, err = resolve(tl, "default-version", *defaultVersion); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if e.interrupt != nil {
		go func() {
			select {
			case <-e.interrupt:
				stop()
			case <-ctx.Done():
			}
		}()
	}

	cfg := proxy.Config{
		Config: server.Config{
			Engine:           transform.New(tl, nil),
			MaxBodyBytes:     *maxBody,
			MaxResponseBytes: *maxResponse,
			ChangelogURL:     *changelogURL,
			DefaultVersion:   defVersion,
			Logger:           logger,
		},
		Upstream:        up,
		AccountHeader:   *accountHeader,
		PinPath:         *pinPath,
		AuthCheck:       *authCheck,
		DialTimeout:     *dialTimeout,
		UpstreamTimeout: *upstreamTimeout,
	}
	where := "in memory"
	var evidence reports.Store = reports.NewMemoryStore(nil)
	if *dbURL != "" {
		db, err := storage.Open(ctx, *dbURL)
		if err != nil {
			return err
		}
		defer db.Close()
		if cfg.Pins, err = pins.NewSQLStore(ctx, db, nil); err != nil {
			return err
		}
		if evidence, err = reports.NewSQLStore(ctx, db, nil); err != nil {
			return err
		}
		if *accountHeader == "" {
			if cfg.Salt, err = proxy.LoadSalt(ctx, db); err != nil {
				return err
			}
		}
		where = db.Dialect.String()
	} else {
		cfg.Pins = pins.NewMemoryStore(nil)
	}
	// The requests served per version and account, for verso pins and
	// verso retire: flushed every minute, and once more after the last
	// request.
	counter := pins.NewCounter(cfg.Pins.(pins.Store))
	cfg.Usage = counter
	countCtx, stopCounting := context.WithCancel(context.WithoutCancel(ctx))
	counted := make(chan struct{})
	go func() {
		counter.Run(countCtx, time.Minute, func(err error) { logger.Warn("verso: counting requests", "error", err) })
		close(counted)
	}()
	defer func() {
		stopCounting()
		<-counted
	}()
	// The changes that fire on each account's traffic, for its upgrade
	// report: flushed and pruned as the counts are.
	if *reportSample > 0 {
		recorder, err := reports.NewRecorder(tl, evidence, &reports.RecorderOptions{SampleRate: *reportSample})
		if err != nil {
			return err
		}
		if cfg.Reports, err = reports.NewReporter(tl, evidence, &reports.ReporterOptions{Engine: cfg.Engine}); err != nil {
			return err
		}
		cfg.Fired = recorder
		recorded := make(chan struct{})
		go func() {
			recorder.Run(countCtx, time.Minute, func(err error) { logger.Warn("verso: recording changes", "error", err) })
			close(recorded)
		}()
		defer func() {
			stopCounting()
			<-recorded
		}()
	}

	var msrv *http.Server
	if *metricsAddr != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		cfg.Metrics = prom.NewMetrics(reg)
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute}
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		fmt.Fprintf(e.stdout, "verso: metrics on http://%s/metrics\n", mln.Addr())
	}

	p, err := cfg.Handler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "verso: proxying http://%s to %s (pins %s)\n", ln.Addr(), up.Redacted(), where)
	fmt.Fprintf(e.stdout, "verso: %s: %d versions, newest %s, base %s; header %s\n",
		orDefault(tl.API(), tlArg.path), tl.Versions().Len(), tl.Newest(), tl.Versions().Base(), tl.Header())
	if *dbURL == "" {
		fmt.Fprintln(e.stdout, "verso: pins are kept in memory and forgotten on exit; use --db to keep them")
	}
	def := defVersion
	if def.IsZero() {
		def = tl.NewestStable()
	}
	fmt.Fprintf(e.stdout, "verso: a request naming no version, from an account with no pin, gets %s (--default-version)\n", def)
	if p.ServesPins() {
		fmt.Fprintf(e.stdout, "verso: pin endpoints at %s, for callers the upstream accepts on %s\n", *pinPath, *authCheck)
		if cfg.Reports != nil {
			fmt.Fprintf(e.stdout, "verso: upgrade reports at %s/upgrade_report (changes recorded for %g of each account's requests, kept 30 days)\n", *pinPath, *reportSample)
		}
	} else {
		fmt.Fprintf(e.stdout, "verso: the pin endpoints (%s) are off: give --auth-check \"GET /v1/me\", a request the upstream answers 2xx only for valid credentials, to serve them\n", *pinPath)
	}
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: *readHeaderTimeout,
		ReadTimeout:       *readTimeout,
		WriteTimeout:      *writeTimeout,
		IdleTimeout:       *idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(apierror.Listener(ln, tl.ErrorShape())) }() // net/http's own 4xx in the shape too
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close() // the grace period is over: cut what is left
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	fmt.Fprintln(e.stdout, "verso: stopped")
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
