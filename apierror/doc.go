// Package apierror is the one error type every verso package answers HTTP
// clients with, and the shapes an API writes its errors in.
//
// An Error carries a status, a type, a code, a message, the parameter it is
// about and its cause; it imports the standard library only, so a program
// builds, tests and inspects errors without any web framework:
//
//	var ErrNoSuchUser = apierror.New(404, apierror.TypeInvalidRequest, "resource_missing", "No such user.")
//
//	func getUser(w http.ResponseWriter, r *http.Request) {
//		...
//		apierror.Write(w, r, ErrNoSuchUser.With("No such user: 'u_9'").WithParam("id"))
//	}
//
// errors.Is(err, ErrNoSuchUser) holds for every error derived from the
// sentinel with With, WithParam, WithCode, WithHeader or Wrap.
//
// A Shape is how an API writes its errors: Stripe's {"error":{...}} (the
// default), RFC 9457 problem details, a flat object, or any other object
// through a Template. The versioning middleware puts the API's shape in the
// request's context (WithShape), so Write answers in it everywhere inside
// the middleware, and the middleware walks the body back to the client's
// version like any other response.
package apierror
