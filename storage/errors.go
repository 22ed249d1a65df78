package storage

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
)

// The drivers' errors are recognised by the codes they carry, through two
// small interfaces, so that this package imports no driver: pgx's
// *pgconn.PgError has SQLState, modernc.org/sqlite's *sqlite.Error has Code.
type (
	sqlStater interface{ SQLState() string }
	coder     interface{ Code() int }
)

// SQLite result codes (https://www.sqlite.org/rescode.html). A driver may
// report an extended code: its low byte is the primary code.
const (
	sqliteBusy   = 5
	sqliteLocked = 6
	// Extended codes of SQLITE_CONSTRAINT (19).
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// PostgreSQL SQLSTATE codes
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
	pgLockNotAvailable     = "55P03"
)

// SQLState returns the SQLSTATE code err carries (PostgreSQL), or "".
func SQLState(err error) string {
	var e sqlStater
	if errors.As(err, &e) {
		return e.SQLState()
	}
	return ""
}

// SQLiteCode returns the SQLite result code err carries, extended codes
// included, or 0.
func SQLiteCode(err error) int {
	var e coder
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// IsUniqueViolation reports whether err is a unique-constraint violation
// (a primary key included): SQLSTATE 23505 on PostgreSQL,
// SQLITE_CONSTRAINT_UNIQUE or SQLITE_CONSTRAINT_PRIMARYKEY on SQLite.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if SQLState(err) == pgUniqueViolation {
		return true
	}
	switch SQLiteCode(err) {
	case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
		return true
	}
	return false
}

// IsBusy reports whether err says the database could not take the work
// now, so that retrying later may succeed: ErrBusy, SQLite's
// SQLITE_BUSY or SQLITE_LOCKED (the writer lock stayed taken), or
// PostgreSQL's serialization failure, deadlock or lock not available.
func IsBusy(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrBusy) {
		return true
	}
	switch SQLState(err) {
	case pgSerializationFailure, pgDeadlockDetected, pgLockNotAvailable:
		return true
	}
	switch SQLiteCode(err) & 0xff {
	case sqliteBusy, sqliteLocked:
		return true
	}
	return false
}

// More codes of the database not being there to take the work.
const (
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
	// pgConnectionClass is SQLSTATE class 08, connection exceptions;
	// class 53 is insufficient resources (too many connections, disk
	// full, out of memory).
	pgConnectionClass = "08"
	pgResourcesClass  = "53"
	pgAdminShutdown   = "57P01"
	pgCrashShutdown   = "57P02"
	pgCannotConnect   = "57P03"
)

// IsUnavailable reports whether err says the database could not be
// reached or could not take the work, as opposed to refusing the work
// itself: a connection that could not be made, or broke mid-query (the
// server went away, restarted, or something between dropped it), a
// database being shut down or out of connections, disk or memory, a pool
// already closed, SQLite failing to read or write its file. Retrying
// later may succeed; an API answers 503 with Retry-After, not 500.
// IsBusy errors are not included.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var retry interface{ SafeToRetry() bool } // pgx: the query was never sent, the connection being closed
	var ne net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &ne),
		errors.As(err, &retry) && retry.SafeToRetry(),
		strings.Contains(err.Error(), "sql: database is closed"):
		return true
	}
	if s := SQLState(err); s != "" {
		switch {
		case strings.HasPrefix(s, pgConnectionClass), strings.HasPrefix(s, pgResourcesClass),
			s == pgAdminShutdown, s == pgCrashShutdown, s == pgCannotConnect:
			return true
		}
		return false
	}
	switch SQLiteCode(err) & 0xff {
	case sqliteIOErr, sqliteFull, sqliteCantOpen:
		return true
	}
	return false
}
