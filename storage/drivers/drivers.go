// Package drivers registers the two database/sql drivers that
// storage.Open uses: "sqlite" (modernc.org/sqlite, pure Go) and "pgx"
// (github.com/jackc/pgx/v5). Import it for its side effect in the program
// that chooses to store on SQL, never in a library:
//
//	import _ "github.com/verso-api/verso/storage/drivers"
//
// A program that registers its own "sqlite" driver imports
// github.com/jackc/pgx/v5/stdlib alone instead, and storage.Open uses the
// "sqlite" driver it registered.
package drivers

import (
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)
