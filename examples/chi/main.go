// Command chi serves the example Users API on chi, every version of it,
// with verso's net/http middleware in chi's middleware stack.
//
//	go run ./chi --addr 127.0.0.1:8081
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

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
	versioning, err := server.Config{
		Engine:  engine,
		Account: users.AccountOf,
		Pins:    pins.NewMemoryStore(nil),
	}.ToMiddleware()
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, users.Authenticate, versioning)
	r.Get("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		u, err := store.Get(chi.URLParam(r, "id"))
		if err != nil {
			apierror.Write(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, u)
	})
	r.Get("/v1/teams", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, users.ListTeams())
	})
	r.Get("/v1/users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, store.List())
	})
	r.Post("/v1/users", func(w http.ResponseWriter, r *http.Request) {
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
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, r, apierror.ErrNotFound.With("Unrecognized request URL ("+apierror.Bound(r.Method)+": "+apierror.Bound(r.URL.Path)+")."))
	})
	return r, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	h, err := newHandler(users.NewStore())
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("Users API (chi) on http://%s", *addr)
	log.Fatal(users.Server(*addr, h).ListenAndServe())
}
