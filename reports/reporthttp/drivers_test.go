package reporthttp_test

import _ "github.com/verso-api/verso/storage/drivers" // the tests open SQLite and PostgreSQL
