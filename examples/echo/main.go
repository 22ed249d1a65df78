// Command echo serves the example Users API on echo, every version of it,
// with verso's echo middleware.
//
//	go run ./echo --addr 127.0.0.1:8083
package main

import (
	"flag"
	"io"
	"log"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/verso-api/verso/examples/users"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
)

func newHandler(store *users.Store) (http.Handler, error) {
	engine, err := users.Engine()
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Errors, echo's own 404 and 405 included, in the API's error shape.
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	versioning, err := echoversioning.New(server.Config{
		Engine:  engine,
		Account: users.AccountOf,
		Pins:    pins.NewMemoryStore(nil),
	})
	if err != nil {
		return nil, err
	}
	e.Use(middleware.Recover(), echo.WrapMiddleware(users.Authenticate), versioning)
	e.GET("/v1/users/:id", func(c echo.Context) error {
		u, err := store.Get(c.Param("id"))
		if err != nil {
			return err // echoversioning.ErrorHandler writes it in the API's shape
		}
		return c.JSON(http.StatusOK, u)
	})
	e.GET("/v1/users", func(c echo.Context) error { return c.JSON(http.StatusOK, store.List()) })
	e.GET("/v1/teams", func(c echo.Context) error { return c.JSON(http.StatusOK, users.ListTeams()) })
	e.POST("/v1/users", func(c echo.Context) error {
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		u, err := store.Create(body)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, u)
	})
	return e, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8083", "address to listen on")
	flag.Parse()
	h, err := newHandler(users.NewStore())
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("Users API (echo) on http://%s", *addr)
	log.Fatal(users.Server(*addr, h).ListenAndServe())
}
