// Command gin serves the example Users API on Gin, every version of it.
// Gin takes verso's net/http middleware around its engine (gin.Engine is
// an http.Handler); handlers read the version with server.VersionOf.
//
//	go run ./gin --addr 127.0.0.1:8082
package main

import (
	"flag"
	"io"
	"log"
	"net/http"

	"github.com/gin-gonic/gin"

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
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	g.Use(gin.Recovery())
	g.GET("/v1/users/:id", func(c *gin.Context) {
		u, err := store.Get(c.Param("id"))
		if err != nil {
			apierror.Write(c.Writer, c.Request, err)
			return
		}
		c.JSON(http.StatusOK, u)
	})
	g.GET("/v1/users", func(c *gin.Context) { c.JSON(http.StatusOK, store.List()) })
	g.GET("/v1/teams", func(c *gin.Context) { c.JSON(http.StatusOK, users.ListTeams()) })
	g.POST("/v1/users", func(c *gin.Context) {
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			apierror.Write(c.Writer, c.Request, err)
			return
		}
		u, err := store.Create(body)
		if err != nil {
			apierror.Write(c.Writer, c.Request, err)
			return
		}
		c.JSON(http.StatusCreated, u)
	})
	g.NoRoute(func(c *gin.Context) {
		apierror.Write(c.Writer, c.Request, apierror.ErrNotFound.With("Unrecognized request URL ("+apierror.Bound(c.Request.Method)+": "+apierror.Bound(c.Request.URL.Path)+")."))
	})
	versioning, err := server.Config{
		Engine:  engine,
		Account: users.AccountOf,
		Pins:    pins.NewMemoryStore(nil),
	}.ToMiddleware()
	if err != nil {
		return nil, err
	}
	return users.Authenticate(versioning(g)), nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address to listen on")
	flag.Parse()
	h, err := newHandler(users.NewStore())
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("Users API (Gin) on http://%s", *addr)
	log.Fatal(users.Server(*addr, h).ListenAndServe())
}
