package sdk_test

import (
	"context"
	"testing"

	"github.com/verso-api/verso/sdk/internal/sdktest"
	"github.com/verso-api/verso/sdk/v2014_12_22"
	"github.com/verso-api/verso/sdk/v2025_02_24_acacia"
	"github.com/verso-api/verso/sdk/v9999_12_31_preview"
)

// TestTypesFollowTheVersion uses what differs between the clients' types:
// the field names, Go types and enum constants of each version, checked
// against the demo API answering in that version.
func TestTypesFollowTheVersion(t *testing.T) {
	url, key := sdktest.Start(t)
	ctx := context.Background()
	visa := "tok_visa"

	old, err := v2014_12_22.NewClientWithResponses(url, v2014_12_22.WithRequestEditorFn(sdktest.Auth(key, "2014-12-22")))
	if err != nil {
		t.Fatal(err)
	}
	balance := -500
	cus, err := old.CreateCustomerWithFormdataBodyWithResponse(ctx, nil, v2014_12_22.CreateCustomerFormdataRequestBody{AccountBalance: &balance})
	if err != nil || cus.JSON200 == nil {
		t.Fatalf("%v %s", err, cus.Body)
	}
	// 2014-12-22 calls it account_balance, and has cards: a list of Card.
	var cards []v2014_12_22.Card = cus.JSON200.Cards.Data
	if cus.JSON200.AccountBalance != -500 || cus.JSON200.Cards.Object != v2014_12_22.CustomerCardsObjectList || cards == nil {
		t.Errorf("2014-12-22 customer: %s", cus.Body)
	}
	// Its deletion answers what its schema says.
	del, err := old.DeleteCustomerWithResponse(ctx, cus.JSON200.Id, nil)
	if err != nil || del.JSON200 == nil || !del.JSON200.Deleted || del.JSON200.Cards.Object != v2014_12_22.DeletedCustomerCardsObjectList {
		t.Fatalf("%v %s", err, del.Body)
	}
	ch, err := old.CreateChargeWithFormdataBodyWithResponse(ctx, nil, v2014_12_22.CreateChargeFormdataRequestBody{Amount: 2000, Currency: "usd", Source: &visa})
	if err != nil || ch.JSON200 == nil {
		t.Fatalf("%v %s", err, ch.Body)
	}
	if ch.JSON200.Amount != 2000 || ch.JSON200.Status != v2014_12_22.ChargeStatusPaid {
		t.Errorf("2014-12-22 charge: %s", ch.Body)
	}

	acacia, err := v2025_02_24_acacia.NewClientWithResponses(url, v2025_02_24_acacia.WithRequestEditorFn(sdktest.Auth(key, "2024-09-30.acacia")))
	if err != nil {
		t.Fatal(err)
	}
	ch2, err := acacia.CreateChargeWithFormdataBodyWithResponse(ctx, nil, v2025_02_24_acacia.CreateChargeFormdataRequestBody{Amount: 1500, Currency: "eur", Source: &visa})
	if err != nil || ch2.JSON200 == nil {
		t.Fatalf("%v %s", err, ch2.Body)
	}
	if ch2.JSON200.Amount != 1500 || ch2.JSON200.Status != v2025_02_24_acacia.ChargeStatusSucceeded {
		t.Errorf("2024-09-30.acacia charge: %s", ch2.Body)
	}

	// The preview's amounts are strings.
	preview, err := v9999_12_31_preview.NewClientWithResponses(url, v9999_12_31_preview.WithRequestEditorFn(sdktest.Auth(key, "9999-12-31.preview")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := preview.RetrieveChargeWithResponse(ctx, ch2.JSON200.Id, nil)
	if err != nil || got.JSON200 == nil {
		t.Fatalf("%v %s", err, got.Body)
	}
	if got.JSON200.Amount != "1500" {
		t.Errorf("preview charge amount = %q", got.JSON200.Amount)
	}
}
