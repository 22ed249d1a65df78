package server

import (
	"sync"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// FiredRecorder records which changes of the timeline altered an
// account's requests and responses: what upgrade reports are made of
// (package reports implements it, batched into a store). Its methods are
// called on the request's goroutine; they must be quick and safe for
// concurrent use.
type FiredRecorder interface {
	// Sample reports whether to record the request about to be served,
	// one of an account's (Config.Account named one). It is called once
	// per such request, before anything is walked; a request it declines
	// costs nothing more.
	Sample() bool
	// Record gets a sampled request once its response is written. x and
	// what it holds are valid only during the call: keep what is needed,
	// never x itself.
	Record(x *Exchange)
}

// Exchange is what the middleware did to one request and its response:
// the changes that fired, by index in the timeline (gates.Fired; store
// their ids, gates.Timeline.ChangeAt(i).ID, never the indexes, which
// shift when a version is added).
type Exchange struct {
	// Account is the request's account (Config.Account).
	Account string
	// Version is the version the request was served in, and Source how
	// it was chosen: SourceHeader for a client trying a version before
	// moving its pin, SourcePin for the pin.
	Version versions.Version
	Source  Source
	// Method is the request's method as the client sent it.
	Method string
	// Path is the request's URL path as the client sent it. It holds
	// identifiers: derive an endpoint template from it, never keep it.
	Path string
	// Pattern is the route that served the request when the router says
	// ("GET /v1/customers/{id}" from http.ServeMux's Request.Pattern,
	// "/v1/customers/:id" from echo), else "".
	Pattern string
	// Status is the status code the client got.
	Status int
	// Route holds the changes whose endpoint, status or header ops
	// applied: an endpoint absent at the version (answered 404) or moved
	// since, a status or header changed on the way back.
	Route gates.Fired
	// Request holds the changes that altered the request's body or query
	// string on its walk forward, and RequestFields the field slots of
	// their ops that did (gates.Timeline.FieldSlotAt).
	Request, RequestFields gates.Fired
	// Response holds the changes that altered the response body on its
	// walk back, and ResponseFields the field slots of their ops that
	// did.
	Response, ResponseFields gates.Fired
}

var exchanges = sync.Pool{New: func() any {
	x := new(Exchange)
	x.Request.TrackFields(&x.RequestFields)
	x.Response.TrackFields(&x.ResponseFields)
	return x
}}

// getExchange returns an empty Exchange from the pool.
func getExchange() *Exchange { return exchanges.Get().(*Exchange) }

// putExchange empties x, keeping what its sets allocated, and returns it
// to the pool.
func putExchange(x *Exchange) {
	x.Account, x.Version, x.Source, x.Method, x.Path, x.Pattern, x.Status = "", versions.Version{}, 0, "", "", "", 0
	x.Route.Reset()
	x.Request.Reset()
	x.RequestFields.Reset()
	x.Response.Reset()
	x.ResponseFields.Reset()
	exchanges.Put(x)
}
