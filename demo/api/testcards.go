package api

import (
	"encoding/json"
	"strings"
)

// testMethod is a card a test token or test payment method stands for, and
// how charging it ends.
type testMethod struct {
	brand   string // as a card's brand ("Visa")
	network string // as payment_method_details.card.brand ("visa")
	last4   string
	funding string
	decline *cardError // nil: the charge succeeds
}

func declined(code, declineCode, msg string) *cardError {
	return &cardError{Type: "card_error", Code: code, DeclineCode: declineCode, Message: msg}
}

// testMethods are Stripe's test cards, by the name that follows "tok_" in a
// test token and "pm_card_" in a test payment method: tok_visa and
// pm_card_visa are the same card.
var testMethods = map[string]testMethod{
	"visa":                            {"Visa", "visa", "4242", "credit", nil},
	"visa_debit":                      {"Visa", "visa", "5556", "debit", nil},
	"mastercard":                      {"MasterCard", "mastercard", "4444", "credit", nil},
	"mastercard_debit":                {"MasterCard", "mastercard", "8210", "debit", nil},
	"mastercard_prepaid":              {"MasterCard", "mastercard", "5100", "prepaid", nil},
	"amex":                            {"American Express", "amex", "8431", "credit", nil},
	"discover":                        {"Discover", "discover", "1117", "credit", nil},
	"diners":                          {"Diners Club", "diners", "0004", "credit", nil},
	"jcb":                             {"JCB", "jcb", "0505", "credit", nil},
	"unionpay":                        {"UnionPay", "unionpay", "0005", "credit", nil},
	"chargeDeclined":                  {"Visa", "visa", "0002", "credit", declined("card_declined", "generic_decline", "Your card was declined.")},
	"chargeDeclinedInsufficientFunds": {"Visa", "visa", "9995", "credit", declined("card_declined", "insufficient_funds", "Your card has insufficient funds.")},
	"chargeDeclinedLostCard":          {"Visa", "visa", "9987", "credit", declined("card_declined", "lost_card", "Your card was declined.")},
	"chargeDeclinedStolenCard":        {"Visa", "visa", "9979", "credit", declined("card_declined", "stolen_card", "Your card was declined.")},
	"chargeDeclinedExpiredCard":       {"Visa", "visa", "0069", "credit", declined("expired_card", "expired_card", "Your card has expired.")},
	"chargeDeclinedIncorrectCvc":      {"Visa", "visa", "0127", "credit", declined("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.")},
	"chargeDeclinedProcessingError":   {"Visa", "visa", "0119", "credit", declined("processing_error", "processing_error", "An error occurred while processing your card. Try again in a little bit.")},
}

// lookupTestMethod returns the test card a token ("tok_visa") or a test
// payment method ("pm_card_visa") names.
func lookupTestMethod(name string) (testMethod, bool) {
	for _, prefix := range []string{"tok_", "pm_card_"} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			m, ok := testMethods[rest]
			return m, ok
		}
	}
	return testMethod{}, false
}

// card returns a new card object for m.
func (m testMethod) card() *card {
	return &card{ID: newID("card_"), Object: "card", Brand: m.brand, Country: "US", ExpMonth: 12, ExpYear: 2034, Funding: m.funding, Last4: m.last4}
}

// details returns the payment_method_details of a charge of m.
func (m testMethod) details() *paymentMethodDetails {
	return &paymentMethodDetails{Type: "card", Card: cardDetails{Brand: m.network, Country: "US", ExpMonth: 12, ExpYear: 2034, Funding: m.funding, Last4: m.last4}}
}

// cardError is a declined charge, in Stripe's error shape: the request
// did its work (a failed charge, a payment intent waiting for another
// payment method) and answers 402. A handler returns it from the function
// it gives commit, which commits and answers with it.
type cardError struct {
	Type          string          `json:"type"`
	Code          string          `json:"code"`
	DeclineCode   string          `json:"decline_code,omitempty"`
	Message       string          `json:"message"`
	Param         string          `json:"param,omitempty"`
	Charge        string          `json:"charge,omitempty"`
	PaymentIntent json.RawMessage `json:"payment_intent,omitempty"`
}

func (e *cardError) Error() string { return e.Message }

// with returns a copy of e about the given charge.
func (e *cardError) with(charge string) *cardError {
	c := *e
	c.Charge = charge
	return &c
}
