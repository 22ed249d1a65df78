package api

import (
	"encoding/json"
	"strconv"
)

// The objects of the demo API, in the newest schema. Field order is the
// order of the JSON a client sees.

type customer struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	Balance       int64             `json:"balance"`
	Created       int64             `json:"created"`
	Currency      *string           `json:"currency"`
	DefaultSource *string           `json:"default_source"`
	Delinquent    bool              `json:"delinquent"`
	Description   *string           `json:"description"`
	Email         *string           `json:"email"`
	InvoicePrefix string            `json:"invoice_prefix"`
	Livemode      bool              `json:"livemode"`
	Metadata      map[string]string `json:"metadata"`
	Name          *string           `json:"name"`
	Phone         *string           `json:"phone"`
}

// deletedCustomer is what a deleted customer leaves behind.
type deletedCustomer struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

type card struct {
	ID       string `json:"id"`
	Object   string `json:"object"`
	Brand    string `json:"brand"`
	Country  string `json:"country"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	Funding  string `json:"funding"`
	Last4    string `json:"last4"`
}

type charge struct {
	ID             string            `json:"id"`
	Object         string            `json:"object"`
	Amount         amount            `json:"amount"`
	AmountCaptured int64             `json:"amount_captured"`
	AmountRefunded int64             `json:"amount_refunded"`
	Captured       bool              `json:"captured"`
	Created        int64             `json:"created"`
	Currency       string            `json:"currency"`
	Customer       *string           `json:"customer"`
	Description    *string           `json:"description"`
	Disputed       bool              `json:"disputed"`
	Livemode       bool              `json:"livemode"`
	FailureCode    *string           `json:"failure_code"`
	FailureMessage *string           `json:"failure_message"`
	Metadata       map[string]string `json:"metadata"`
	Paid           bool              `json:"paid"`
	PaymentIntent  *string           `json:"payment_intent"`
	PaymentMethod  *string           `json:"payment_method"`
	// PaymentMethodDetails describes the card charged.
	PaymentMethodDetails *paymentMethodDetails `json:"payment_method_details"`
	Refunded             bool                  `json:"refunded"`
	Source               *card                 `json:"source"`
	Status               string                `json:"status"`
}

type paymentMethodDetails struct {
	Type string      `json:"type"`
	Card cardDetails `json:"card"`
}

type cardDetails struct {
	Brand    string `json:"brand"`
	Country  string `json:"country"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	Funding  string `json:"funding"`
	Last4    string `json:"last4"`
}

type automaticPaymentMethods struct {
	Enabled bool `json:"enabled"`
}

type paymentIntent struct {
	ID                      string                   `json:"id"`
	Object                  string                   `json:"object"`
	Amount                  amount                   `json:"amount"`
	AmountReceived          int64                    `json:"amount_received"`
	AutomaticPaymentMethods *automaticPaymentMethods `json:"automatic_payment_methods"`
	Created                 int64                    `json:"created"`
	Currency                string                   `json:"currency"`
	Customer                *string                  `json:"customer"`
	Description             *string                  `json:"description"`
	LastPaymentError        *cardError               `json:"last_payment_error"`
	LatestCharge            *string                  `json:"latest_charge"`
	Livemode                bool                     `json:"livemode"`
	Metadata                map[string]string        `json:"metadata"`
	PaymentMethod           *string                  `json:"payment_method"`
	PaymentMethodTypes      []string                 `json:"payment_method_types"`
	Status                  string                   `json:"status"`
}

type refund struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	Amount        amount            `json:"amount"`
	Charge        string            `json:"charge"`
	Created       int64             `json:"created"`
	Currency      string            `json:"currency"`
	Metadata      map[string]string `json:"metadata"`
	PaymentIntent *string           `json:"payment_intent"`
	Reason        *string           `json:"reason"`
	Status        string            `json:"status"`
}

// amount is a number of minor units; the newest schema writes it as a
// string of digits.
type amount int64

func (a amount) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatInt(int64(a), 10)), nil
}

func (a *amount) UnmarshalJSON(b []byte) error {
	var s json.Number
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = json.Number(str)
	} else {
		s = json.Number(b)
	}
	n, err := s.Int64()
	if err != nil {
		return err
	}
	*a = amount(n)
	return nil
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// mergeMetadata applies updates to m: an empty value deletes the key.
func mergeMetadata(m, updates map[string]string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	for k, v := range updates {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}
