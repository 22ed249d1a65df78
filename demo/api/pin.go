package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/server"
)

// The account's version pin, as the API shows it.
type pinJSON struct {
	Object    string          `json:"object"`
	Version   string          `json:"version"`
	Previous  *string         `json:"previous_version"`
	PinnedAt  int64           `json:"pinned_at"`
	MovedAt   *int64          `json:"moved_at"`
	Rollback  *int64          `json:"rollback_until"`
	Supported []string        `json:"supported_versions"`
	History   []pinChangeJSON `json:"history"`
}

type pinChangeJSON struct {
	Kind string  `json:"kind"`
	From *string `json:"from"`
	To   string  `json:"to"`
	At   int64   `json:"at"`
}

// rollbackWindow is how long after an upgrade an account may roll back.
const rollbackWindow = 72 * time.Hour

func (s *Server) pinRoutes(g *echo.Group) {
	g.GET("/account/api_version", s.getPin)
	g.POST("/account/api_version", s.upgradePin)
	g.POST("/account/api_version/rollback", s.rollbackPin)
}

func (s *Server) pinResponse(c echo.Context, p pins.Pin) error {
	ctx := c.Request().Context()
	h, err := s.Pins.History(ctx, p.Account)
	if err != nil {
		return s.fail(c, err)
	}
	out := pinJSON{Object: "api_version_pin", Version: p.Version.String(), PinnedAt: p.PinnedAt.Unix(), History: []pinChangeJSON{}}
	for _, v := range s.timeline.Versions().List() {
		out.Supported = append(out.Supported, v.String())
	}
	if !p.Previous.IsZero() {
		prev := p.Previous.String()
		out.Previous = &prev
		until := p.MovedAt.Add(rollbackWindow).Unix()
		out.Rollback = &until
	}
	if !p.MovedAt.IsZero() {
		m := p.MovedAt.Unix()
		out.MovedAt = &m
	}
	for _, ch := range h {
		e := pinChangeJSON{Kind: string(ch.Kind), To: ch.To.String(), At: ch.At.Unix()}
		if !ch.From.IsZero() {
			f := ch.From.String()
			e.From = &f
		}
		out.History = append(out.History, e)
	}
	return c.JSON(http.StatusOK, out)
}

// getPin shows the account's pin, pinning it to the newest version that
// is not a preview first if it has none.
func (s *Server) getPin(c echo.Context) error {
	if _, err := readDeclared(c); err != nil {
		return s.fail(c, err)
	}
	p, _, err := s.Pins.PinIfAbsent(c.Request().Context(), accountOf(c), s.timeline.NewestStable())
	if err != nil {
		return s.fail(c, err)
	}
	return s.pinResponse(c, p)
}

// upgradePin moves the account's pin to a newer version.
func (s *Server) upgradePin(c echo.Context) error {
	p, err := readDeclared(c)
	if err != nil {
		return s.fail(c, err)
	}
	raw, err := p.str("version", 64)
	if err != nil {
		return s.fail(c, err)
	}
	if raw == "" {
		return s.fail(c, missing("version"))
	}
	v, err := s.timeline.Resolve(raw)
	if err != nil {
		return s.fail(c, invalid("version", "%v", err))
	}
	ctx := c.Request().Context()
	if _, _, err := s.Pins.PinIfAbsent(ctx, accountOf(c), s.timeline.NewestStable()); err != nil {
		return s.fail(c, err)
	}
	pin, err := s.Pins.Upgrade(ctx, accountOf(c), v)
	if errors.Is(err, pins.ErrNotNewer) {
		return s.fail(c, invalid("version", "%s is not newer than the account's version %s; use rollback to go back", v, pin.Version))
	}
	if err != nil {
		return s.fail(c, err)
	}
	return s.pinResponse(c, pin)
}

// rollbackPin returns the account to its previous version within 72 hours
// of an upgrade.
func (s *Server) rollbackPin(c echo.Context) error {
	if _, err := readDeclared(c); err != nil {
		return s.fail(c, err)
	}
	pin, err := s.Pins.Rollback(c.Request().Context(), accountOf(c))
	switch {
	case errors.Is(err, pins.ErrNoPrevious), errors.Is(err, pins.ErrNotPinned):
		return server.NewError(http.StatusBadRequest, server.TypeInvalidRequest, "rollback_unavailable", "There is no previous version to roll back to.")
	case errors.Is(err, pins.ErrRollbackExpired):
		return server.NewError(http.StatusBadRequest, server.TypeInvalidRequest, "rollback_expired", "The 72 hours to roll back this upgrade have passed.")
	case err != nil:
		return s.fail(c, err)
	}
	return s.pinResponse(c, pin)
}
