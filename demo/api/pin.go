package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/pins/pinhttp"
)

// accountKeyCtx is the request-context key of the account, for the
// net/http handlers the demo mounts (the pin endpoints).
type accountKeyCtx struct{}

// pinRoutes mounts the pin endpoints of package pinhttp: the account's
// version, its upgrade and its rollback.
func (s *Server) pinRoutes(g *echo.Group) error {
	h, err := pinhttp.Config{
		Store:    s.Pins,
		Versions: s.timeline.Versions(),
		Account: func(r *http.Request) (string, error) {
			a, _ := r.Context().Value(accountKeyCtx{}).(string)
			return a, nil
		},
		Logger: s.log,
	}.Handler()
	if err != nil {
		return err
	}
	serve := func(c echo.Context) error {
		r := c.Request()
		h.ServeHTTP(c.Response(), r.WithContext(context.WithValue(r.Context(), accountKeyCtx{}, accountOf(c))))
		return nil
	}
	g.GET("/account/api_version", serve)
	g.POST("/account/api_version", serve)
	g.POST("/account/api_version/rollback", serve)
	return nil
}
