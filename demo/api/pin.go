package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/pins/pinhttp"
)

// pinRoutes mounts the pin endpoints of package pinhttp: the account's
// version, its upgrade and its rollback.
func (s *Server) pinRoutes(g *echo.Group) error {
	h, err := pinhttp.Config{
		Store:    s.Pins,
		Versions: s.timeline.Versions(),
		Account:  func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
		Logger:   s.log,
	}.Handler()
	if err != nil {
		return err
	}
	serve := echo.WrapHandler(h)
	g.GET("/account/api_version", serve)
	g.POST("/account/api_version", serve)
	g.POST("/account/api_version/rollback", serve)
	return nil
}
