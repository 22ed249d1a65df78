package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/reports/reporthttp"
	"github.com/verso-api/verso/versions"
)

// reportRoutes mounts the account's upgrade report (package reporthttp)
// beside the pin endpoints: GET /v1/account/api_version/upgrade_report,
// from the account's pin (def when it has none) to ?to=V, the newest
// stable version by default; JSON, or the page with format=html.
func (s *Server) reportRoutes(g *echo.Group, def versions.Version) error {
	h, err := reporthttp.Config{
		Reporter:       s.reporter,
		Account:        func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
		Pins:           s.Pins,
		DefaultVersion: def,
		ChangelogURL:   "/changelog",
		Logger:         s.log,
	}.Handler()
	if err != nil {
		return err
	}
	g.GET("/account/api_version/upgrade_report", echo.WrapHandler(h))
	return nil
}
