package transform_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/transform"
)

func TestFormToJSON(t *testing.T) {
	tests := []struct{ form, want string }{
		{"amount=100&currency=usd", `{"amount":"100","currency":"usd"}`},
		{"metadata[order]=6735&metadata[note]=a+b", `{"metadata":{"order":"6735","note":"a b"}}`},
		{"expand[]=customer&expand[]=source", `{"expand":["customer","source"]}`},
		{"items[1][price]=p2&items[0][price]=p1&items[0][quantity]=2", `{"items":[{"price":"p1","quantity":"2"},{"price":"p2"}]}`},
		{"a%5Bb%5D=%26", `{"a":{"b":"&"}}`},
		{"", `{}`},
		{"flag", `{"flag":""}`},
		{"0=x&1[0]=y", `{"0":"x","1":["y"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.form, func(t *testing.T) {
			got, err := transform.FormToJSON(tt.form)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestFormToJSONErrors(t *testing.T) {
	for _, form := range []string{"a=1&a[b]=2", "a[b]=1&a=2", "a[]=1&a[b]=2", "[x]=1", "a[b=1", "a]=1&a[b]c=2", "%zz=1", "a[99999]=1", "%f8=1"} {
		_, err := transform.FormToJSON(form)
		require.ErrorIs(t, err, transform.ErrForm, "%q", form)
	}
}

func TestJSONToForm(t *testing.T) {
	got, err := transform.JSONToForm([]byte(`{"amount":100,"metadata":{"order":"6735"},"expand":["customer"],"items":[{"price":"p1"}],"note":"a&b","off":false,"gone":null}`))
	require.NoError(t, err)
	assert.Equal(t, "amount=100&metadata[order]=6735&expand[]=customer&items[0][price]=p1&note=a%26b&off=false&gone=", got)
	// An array mixing scalars and arrays numbers every element, so that it
	// parses back in order.
	got, err = transform.JSONToForm([]byte(`{"a":["x",["y"]]}`))
	require.NoError(t, err)
	assert.Equal(t, "a[0]=x&a[1][]=y", got)
	js, err := transform.FormToJSON(got)
	require.NoError(t, err)
	assert.Equal(t, `{"a":["x",["y"]]}`, string(js))
}

func TestUpgradeForm(t *testing.T) {
	e := stripeEngine(t)
	old := e.Timeline().Versions().Base()
	got, err := e.UpgradeForm("account_balance=500&metadata[a]=b&default_card=card_1", old, "POST", "/v1/customers/cus_1")
	require.NoError(t, err)
	assert.Equal(t, "balance=500&metadata[a]=b&default_source=card_1", got)
	// An endpoint no change names is passed through untouched.
	got, err = e.UpgradeForm("account_balance=500", old, "POST", "/v1/refunds")
	require.NoError(t, err)
	assert.Equal(t, "account_balance=500", got)
}
