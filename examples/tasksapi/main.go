// Command tasksapi serves the example Tasks API (package tasks) on
// net/http: versioning, rate limits, idempotency keys and signed webhooks,
// errors as RFC 9457 problem details, every version of timeline.yaml.
//
//	go run ./tasksapi --addr 127.0.0.1:8090 --db tasks.db --webhooks-allow-private
//	curl -H 'Authorization: Bearer acct_1' -H 'Tasks-Version: 2024-06-01' \
//	     -H 'Idempotency-Key: k1' -d name=Write 127.0.0.1:8090/v1/tasks
//	# {"id":"task_1","object":"task","name":"Write","status":"open","created":...}
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"

	_ "modernc.org/sqlite" // the SQLite driver storage.Open uses

	"github.com/verso-api/verso/examples/tasks"
	"github.com/verso-api/verso/examples/users"
	"github.com/verso-api/verso/storage"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "address to listen on")
	dbPath := flag.String("db", "tasks.db", "SQLite file (or a postgres:// URL with a registered pgx driver)")
	private := flag.Bool("webhooks-allow-private", false, "let webhook endpoints be on loopback and private addresses (local development)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	db, err := storage.Open(ctx, *dbPath)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	api, err := tasks.New(ctx, tasks.Config{DB: db, AllowPrivateWebhooks: *private})
	if err != nil {
		log.Fatal(err)
	}
	go api.Run(ctx)
	srv := users.Server(*addr, api.Handler)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Printf("Tasks API (net/http) on http://%s", *addr)
	if err := srv.ListenAndServe(); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}
