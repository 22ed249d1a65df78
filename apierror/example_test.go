package apierror_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/verso-api/verso/apierror"
)

func ExampleShape() {
	e := apierror.New(404, apierror.TypeInvalidRequest, "resource_missing", "No such user: 'u_9'").WithParam("id")
	fmt.Println(string(apierror.Stripe().Marshal(e)))
	fmt.Println(string(apierror.Flat().Marshal(e)))
	fmt.Println(string(apierror.Problem("").Marshal(e)))
	// Output:
	// {"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such user: 'u_9'","param":"id"}}
	// {"message":"No such user: 'u_9'","code":"resource_missing","type":"invalid_request_error","param":"id"}
	// {"type":"about:blank","title":"Not Found","status":404,"detail":"No such user: 'u_9'","code":"resource_missing","param":"id"}
}

func ExampleTemplate() {
	shape, err := apierror.Template([]byte(`{"error":{"message":"{message}","kind":"{code}"}}`), "")
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/v1/books/b_1", nil)
	r = r.WithContext(apierror.WithShape(r.Context(), shape))
	w := httptest.NewRecorder()
	apierror.Write(w, r, apierror.New(404, apierror.TypeInvalidRequest, "not_found", "No such book."))
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 404 {"error":{"message":"No such book.","kind":"not_found"}}
}
