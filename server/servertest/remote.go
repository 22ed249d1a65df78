package servertest

import (
	"io"
	"net/http"
	"net/url"
)

// Remote returns a handler that sends each request it gets to the server
// at base (an httptest.Server's URL, say) over real HTTP with client (nil
// means http.DefaultClient) and writes back the answer: status, headers
// and body. Given to EveryVersion, it pins what a client on the network
// gets, through the server's own connection handling:
//
//	srv := httptest.NewServer(handler)
//	servertest.EveryVersion(t, servertest.Remote(srv.URL, srv.Client()), timeline, "get_user", newRequest, nil)
//
// A request that cannot be sent is answered 502 with the error as text.
func Remote(base string, client *http.Client) http.Handler {
	if client == nil {
		client = http.DefaultClient
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := url.Parse(base)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		u = u.JoinPath(r.URL.Path)
		u.RawQuery = r.URL.RawQuery
		out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		out.ContentLength = r.ContentLength
		res, err := client.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		for k, vs := range res.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	})
}
