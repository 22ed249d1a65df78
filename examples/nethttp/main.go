// Command nethttp serves the example Users API on net/http's ServeMux,
// every version of it, with verso's net/http middleware.
//
//	go run ./nethttp --addr 127.0.0.1:8080
//	curl -H 'Api-Version: 2023-01-01' http://127.0.0.1:8080/v1/users/u_1
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/examples/users"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/server"
)

func newHandler(store *users.Store) (http.Handler, error) {
	engine, err := users.Engine()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		u, err := store.Get(r.PathValue("id"))
		if err != nil {
			apierror.Write(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, u)
	})
	mux.HandleFunc("GET /v1/teams", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, users.ListTeams())
	})
	mux.HandleFunc("GET /v1/users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, store.List())
	})
	mux.HandleFunc("POST /v1/users", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			apierror.Write(w, r, err)
			return
		}
		u, err := store.Create(body)
		if err != nil {
			apierror.Write(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, u)
	})
	versioning, err := server.Config{
		Engine:  engine,
		Account: users.AccountOf,
		Pins:    pins.NewMemoryStore(nil),
	}.ToMiddleware()
	if err != nil {
		return nil, err
	}
	// Authentication first, so that versioning sees the account and pins it.
	return users.Authenticate(versioning(mux)), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	h, err := newHandler(users.NewStore())
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("Users API (net/http) on http://%s", *addr)
	log.Fatal(users.Server(*addr, h).ListenAndServe())
}
