// Package users is the small API the examples serve on net/http, chi, Gin
// and echo: users with a name and an age, written once for the newest
// version of timeline.yaml. verso serves every older version from it.
//
// The newest schema (2024-06-01):
//
//	GET  /v1/users/{id}  {"id":"u_1","full_name":"Ana Lima","age":"41"}
//	GET  /v1/users       {"data":[...],"has_more":false}
//	POST /v1/users       {"full_name":"Bo","age":"30"} (JSON)
//	GET  /v1/teams       {"data":[{"id":"t_1","name":"Core"}],"has_more":false} (from 2024-01-01)
//	errors               {"error":{"code":"resource_missing","message":"...","param":"id"}}
//	                     (before 2024-01-01: {"code":"not_found","message":"...","param":"id"})
//
// The errors are declared once, in timeline.yaml (its errors key and the
// changes to resource error); the handlers answer them with apierror.Write
// and verso's own errors come out the same.
package users

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
)

//go:embed timeline.yaml
var timelineYAML []byte

// Engine returns the verso engine over the example's timeline.
func Engine() (*transform.Engine, error) {
	tl, err := gates.Load("timeline.yaml", timelineYAML, nil)
	if err != nil {
		return nil, err
	}
	return transform.New(tl, nil), nil
}

// errorShape returns the API's error shape, the timeline's errors key
// (Stripe's should the timeline not load: Engine reports that).
func errorShape() apierror.Shape {
	tl, err := gates.Load("timeline.yaml", timelineYAML, nil)
	if err != nil {
		return apierror.Stripe()
	}
	return tl.ErrorShape()
}

// User is a user in the newest schema.
type User struct {
	ID       string `json:"id"`
	FullName string `json:"full_name"`
	Age      string `json:"age"`
}

// List is a list of users.
type List struct {
	Data    []User `json:"data"`
	HasMore bool   `json:"has_more"`
}

// Team is a team; GET /v1/teams exists from 2024-01-01 (endpoint_added in
// the timeline): the middleware answers 404 there to older versions.
type Team struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Teams is a list of teams.
type Teams struct {
	Data    []Team `json:"data"`
	HasMore bool   `json:"has_more"`
}

// ListTeams returns the teams.
func ListTeams() Teams { return Teams{Data: []Team{{ID: "t_1", Name: "Core"}}} }

// The API's errors. The handlers answer them with apierror.Write, in the
// shape timeline.yaml declares (its errors key), which the versioning
// middleware puts in every request's context.
var (
	ErrNoSuchUser   = apierror.New(http.StatusNotFound, apierror.TypeInvalidRequest, "resource_missing", "No such user.")
	ErrMissingParam = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, "parameter_missing", "Missing required param.")
	ErrInvalidParam = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, "parameter_invalid", "Invalid parameter.")
)

// Store keeps the users in memory. It is safe for concurrent use.
type Store struct {
	mu    sync.Mutex
	users []User
}

// NewStore returns a store holding u_1, Ana Lima, 41.
func NewStore() *Store {
	return &Store{users: []User{{ID: "u_1", FullName: "Ana Lima", Age: "41"}}}
}

// Get returns the user with id, or ErrNoSuchUser.
func (s *Store) Get(id string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.ID == id {
			return u, nil
		}
	}
	return User{}, ErrNoSuchUser.With(fmt.Sprintf("No such user: '%s'", apierror.Bound(id))).WithParam("id")
}

// List returns every user.
func (s *Store) List() List {
	s.mu.Lock()
	defer s.mu.Unlock()
	return List{Data: append([]User(nil), s.users...)}
}

// Create validates a POST /v1/users body in the newest schema and stores
// the user.
func (s *Store) Create(body []byte) (User, error) {
	var in struct {
		FullName *string `json:"full_name"`
		Age      *string `json:"age"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return User{}, ErrInvalidParam.With("Invalid request body: " + apierror.Bound(err.Error()))
	}
	if in.Age == nil {
		return User{}, ErrMissingParam.With("Missing required param: age.").WithParam("age")
	}
	if n, err := strconv.Atoi(*in.Age); err != nil || n < 0 || n > 200 {
		return User{}, ErrInvalidParam.With("Invalid age: a whole number of years, as a string of digits.").WithParam("age")
	}
	if in.FullName == nil || *in.FullName == "" {
		return User{}, ErrMissingParam.With("Missing required param: full_name.").WithParam("full_name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := User{ID: "u_" + strconv.Itoa(len(s.users)+1), FullName: *in.FullName, Age: *in.Age}
	s.users = append(s.users, u)
	return u, nil
}
