package storage

import "errors"

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
