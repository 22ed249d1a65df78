package tasks

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/webhooks"
)

// Task is a task in the newest schema.
type Task struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Title   string `json:"title"`
	Status  string `json:"status"` // "open" or "completed"
	Created int64  `json:"created"`
}

// The API's errors, besides the platform's. They are written in the
// timeline's shape (problem details) and walked back like any response.
var (
	errNoTask = apierror.New(http.StatusNotFound, apierror.TypeInvalidRequest, "resource_missing", "No such task.")
	errParam  = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, "parameter_invalid", "Invalid parameter.")
	errAuth   = apierror.New(http.StatusUnauthorized, apierror.TypeAuthentication, "authentication_required",
		"Authenticate with Authorization: Bearer acct_....")
)

type accountKey struct{}

// authenticate puts the account of "Authorization: Bearer acct_..." in the
// context. It runs before versioning, so it writes its 401 in the API's
// shape itself.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !strings.HasPrefix(acct, "acct_") || len(acct) > 64 {
			apierror.WriteShape(w, r, errAuth, a.shape)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), accountKey{}, acct)))
	})
}

func accountOf(r *http.Request) string {
	a, _ := r.Context().Value(accountKey{}).(string)
	return a
}

// params reads a JSON object or a form body (Stripe's bracket syntax,
// through transform.FormToJSON), already walked forward to the newest
// schema, and refuses any parameter not in allowed.
func params(r *http.Request, allowed ...string) (map[string]string, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 64<<10))
	if err != nil {
		return nil, err // a body over the limit: 413
	}
	out := map[string]string{}
	if len(bytes.TrimSpace(body)) == 0 {
		return out, nil
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		if body, err = transform.FormToJSON(string(body)); err != nil {
			return nil, errParam.With("The form body does not parse: " + err.Error())
		}
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, errParam.With("The body must be a JSON object.")
	}
	for k, v := range m {
		s, ok := v.(string)
		switch {
		case !contains(allowed, k):
			return nil, errParam.With("Received unknown parameter: " + apierror.Bound(k)).WithParam(apierror.Bound(k)).WithCode("parameter_unknown")
		case !ok || len(s) > 200:
			return nil, errParam.With(k + " must be a string of at most 200 characters.").WithParam(k)
		}
		out[k] = s
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// create handles POST /v1/tasks: the task, its task.created event and the
// saved idempotent response commit in one transaction.
func (a *API) create(w http.ResponseWriter, r *http.Request) {
	p, err := params(r, "title")
	if err != nil {
		apierror.Write(w, r, err)
		return
	}
	if p["title"] == "" {
		apierror.Write(w, r, errParam.With("Missing required param: title.").WithParam("title").WithCode("parameter_missing"))
		return
	}
	ctx, acct := r.Context(), accountOf(r)
	var body []byte
	err = a.db.InTx(ctx, func(tx *storage.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM tasks WHERE account = ?`, acct).Scan(&n); err != nil {
			return err
		}
		t := Task{ID: fmt.Sprintf("task_%d", n+1), Object: "task", Title: p["title"], Status: "open", Created: a.now().Unix()}
		body, _ = json.Marshal(t)
		if _, err := tx.Exec(ctx, `INSERT INTO tasks (account, id, seq, body) VALUES (?, ?, ?, ?)`, acct, t.ID, n+1, string(body)); err != nil {
			return err
		}
		if err := a.record(ctx, tx, acct, "task.created", body, nil); err != nil {
			return err
		}
		return idempotency.FromContext(ctx).SaveInTx(ctx, tx, http.StatusOK, nil, body)
	})
	a.answer(w, r, body, err)
}

// update handles POST /v1/tasks/{id}.
func (a *API) update(w http.ResponseWriter, r *http.Request) {
	p, err := params(r, "title", "status")
	if err != nil {
		apierror.Write(w, r, err)
		return
	}
	if s, ok := p["status"]; ok && s != "open" && s != "completed" {
		apierror.Write(w, r, errParam.With("status must be open, or the status of a finished task.").WithParam("status"))
		return
	}
	ctx, acct, id := r.Context(), accountOf(r), r.PathValue("id")
	var body []byte
	err = a.db.InTx(ctx, func(tx *storage.Tx) error {
		t, err := a.getTask(ctx, tx, acct, id)
		if err != nil {
			return err
		}
		prev := map[string]string{}
		if v, ok := p["title"]; ok && v != t.Title {
			prev["title"], t.Title = t.Title, v
		}
		if v, ok := p["status"]; ok && v != t.Status {
			prev["status"], t.Status = t.Status, v
		}
		body, _ = json.Marshal(t)
		if len(prev) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE tasks SET body = ? WHERE account = ? AND id = ?`, string(body), acct, id); err != nil {
			return err
		}
		old, _ := json.Marshal(prev)
		if err := a.record(ctx, tx, acct, "task.updated", body, old); err != nil {
			return err
		}
		return idempotency.FromContext(ctx).SaveInTx(ctx, tx, http.StatusOK, nil, body)
	})
	a.answer(w, r, body, err)
}

// record writes an event in the newest schema in tx: the outbox the
// worker delivers from, in each endpoint's version.
func (a *API) record(ctx context.Context, tx *storage.Tx, acct, typ string, object, previous []byte) error {
	return a.hooks.RecordEvent(ctx, tx, webhooks.Event{Account: acct, Type: typ,
		APIVersion: a.Engine.Timeline().Newest(), Object: object, PreviousAttributes: previous})
}

// answer writes body, or err; after a commit it wakes the webhook worker.
func (a *API) answer(w http.ResponseWriter, r *http.Request, body []byte, err error) {
	if err != nil {
		apierror.Write(w, r, err)
		return
	}
	a.Worker.Notify()
	writeJSON(w, body)
}

// get handles GET /v1/tasks/{id}.
func (a *API) get(w http.ResponseWriter, r *http.Request) {
	t, err := a.getTask(r.Context(), nil, accountOf(r), r.PathValue("id"))
	if err != nil {
		apierror.Write(w, r, err)
		return
	}
	body, _ := json.Marshal(t)
	writeJSON(w, body)
}

// list handles GET /v1/tasks.
func (a *API) list(w http.ResponseWriter, r *http.Request) {
	rows, err := a.db.Query(r.Context(), `SELECT body FROM tasks WHERE account = ? ORDER BY seq`, accountOf(r))
	if err != nil {
		apierror.Write(w, r, err)
		return
	}
	defer rows.Close()
	data := []json.RawMessage{}
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			apierror.Write(w, r, err)
			return
		}
		data = append(data, json.RawMessage(b))
	}
	body, _ := json.Marshal(map[string]any{"object": "list", "data": data, "has_more": false})
	writeJSON(w, body)
}

// getTask reads a task, in tx when it is not nil.
func (a *API) getTask(ctx context.Context, tx *storage.Tx, acct, id string) (Task, error) {
	var (
		b   string
		err error
	)
	const q = `SELECT body FROM tasks WHERE account = ? AND id = ?`
	if tx != nil {
		err = tx.QueryRow(ctx, q, acct, id).Scan(&b)
	} else {
		err = a.db.QueryRow(ctx, q, acct, id).Scan(&b)
	}
	var t Task
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return t, errNoTask.With("No such task: " + apierror.Bound(id)).WithParam("id")
	case err != nil:
		return t, err
	}
	return t, json.Unmarshal([]byte(b), &t)
}

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
