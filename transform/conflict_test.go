package transform_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
)

// TestConflicts sends a field under both its old and its new name: the
// walk forward refuses it with a *ConflictError naming both as a form
// writes them, in JSON, in a form body and in a query string alike.
func TestConflicts(t *testing.T) {
	tests := []struct {
		name     string
		ops      []gates.Op
		json     string
		form     string
		old, new string
	}{
		{"rename", []gates.Op{gates.Rename("full_name", "name")}, `{"name":"Bo","full_name":"Bo"}`, "name=Bo&full_name=Bo", "name", "full_name"},
		{"rename, new name first", []gates.Op{gates.Rename("full_name", "name")}, `{"full_name":"A","name":"B"}`, "full_name=A&name=B", "name", "full_name"},
		{"rename into an object", []gates.Op{gates.Rename("address.city", "city")}, `{"city":"Lyon","address":{"city":"Paris"}}`, "city=Lyon&address[city]=Paris", "city", "address[city]"},
		{"rename inside an object", []gates.Op{gates.Rename("billing.zip", "billing.postcode")}, `{"billing":{"postcode":"1","zip":"2"}}`, "billing[postcode]=1&billing[zip]=2", "billing[postcode]", "billing[zip]"},
		{"rename in an array's element", []gates.Op{gates.Rename("items[].price", "items[].plan")}, `{"items":[{"price":"p"},{"plan":"a","price":"b"}]}`, "items[0][price]=p&items[1][plan]=a&items[1][price]=b", "items[1][plan]", "items[1][price]"},
		{"removed from another field", []gates.Op{gates.RemovedFrom("card", "source")}, `{"card":"tok_a","source":"tok_b"}`, "card=tok_a&source=tok_b", "card", "source"},
		{"nest", []gates.Op{gates.Nest("location", "city")}, `{"city":"Lyon","location":{"city":"Paris"}}`, "city=Lyon&location[city]=Paris", "city", "location[city]"},
		{"nest every member", []gates.Op{gates.Nest("meta")}, `{"a":1,"meta":{"a":2}}`, "a=1&meta[a]=2", "a", "meta[a]"},
		{"collapse to an id field", []gates.Op{gates.Collapse("author", "").WithIDField("author_id")}, `{"author":"u_1","author_id":"u_2"}`, "author=u_1&author_id=u_2", "author", "author_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := oneOp(t, nil, tt.ops...)
			want := &transform.ConflictError{Old: tt.old, New: tt.new}
			_, err := e.Upgrade([]byte(tt.json), vBase, "POST", "/v1/things/t_1")
			var ce *transform.ConflictError
			require.ErrorAs(t, err, &ce, "json")
			assert.Equal(t, want, ce, "json")
			_, err = e.UpgradeForm(tt.form, vBase, "POST", "/v1/things/t_1")
			require.ErrorAs(t, err, &ce, "form")
			assert.Equal(t, want, ce, "form")
			// At the newest version nothing is walked, and another endpoint
			// is not this change's.
			_, err = e.Upgrade([]byte(tt.json), vNew, "POST", "/v1/things/t_1")
			require.NoError(t, err)
			_, err = e.UpgradeForm(tt.form, vBase, "POST", "/v1/others")
			require.NoError(t, err)
			// A response walked forward is not a request: the old name
			// wins, as it always did.
			_, err = e.Render([]byte(`{"object":"thing",`+tt.json[1:]), vBase, vNew)
			require.NoError(t, err)
		})
	}
	e := oneOp(t, nil, gates.Rename("full_name", "name"))
	_, err := e.Upgrade([]byte(`{"name":"Bo","full_name":"Bo"}`), vBase, "POST", "/v1/things/t_1")
	assert.EqualError(t, err, "name and full_name are the old and the new name of one field: send one of them")
	out, err := e.Upgrade([]byte(`{"name":"Bo"}`), vBase, "POST", "/v1/things/t_1")
	require.NoError(t, err)
	assert.Equal(t, `{"full_name":"Bo"}`, string(out))
}
