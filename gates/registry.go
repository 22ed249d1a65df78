package gates

import (
	"errors"
	"fmt"
	"sort"
)

// Func transforms one JSON object: it gets the object's bytes and returns
// the new bytes. It must return a JSON object.
type Func func(obj []byte) ([]byte, error)

// CustomFunc is the pair of functions a custom op runs: Back walks a
// response to the older version, Forward walks a request to the newer one.
// Either may be nil when that direction needs nothing.
type CustomFunc struct {
	Back    Func
	Forward Func
}

// Registry holds the custom functions and resolvers a timeline may name.
// Register every function before loading the timeline; a Registry is then
// safe for concurrent reads.
type Registry struct {
	funcs     map[string]CustomFunc
	resolvers map[string]Resolver
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{funcs: map[string]CustomFunc{}, resolvers: map[string]Resolver{}}
}

// Register adds the functions for name. It refuses an empty name, a name
// registered twice, and a pair of nil functions.
func (r *Registry) Register(name string, back, forward Func) error {
	if name == "" {
		return errors.New("gates: register: empty name")
	}
	if back == nil && forward == nil {
		return fmt.Errorf("gates: register %q: both functions are nil", name)
	}
	if _, dup := r.funcs[name]; dup {
		return fmt.Errorf("gates: register %q: already registered", name)
	}
	r.funcs[name] = CustomFunc{Back: back, Forward: forward}
	return nil
}

// Lookup returns the functions registered as name.
func (r *Registry) Lookup(name string) (CustomFunc, bool) {
	if r == nil {
		return CustomFunc{}, false
	}
	f, ok := r.funcs[name]
	return f, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.funcs))
	for n := range r.funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
