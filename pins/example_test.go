package pins_test

import (
	"context"
	"fmt"
	"time"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/versions"
)

func Example() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := pins.NewMemoryStore(&pins.Options{Now: func() time.Time { return now }})

	// The account's first request pins it to the newest version.
	p, created, _ := s.PinIfAbsent(ctx, "acct_1", versions.MustParse("2022-11-15"))
	fmt.Println(p.Version, created)

	// Later it upgrades, and changes its mind the next day.
	now = now.Add(24 * time.Hour)
	p, _ = s.Upgrade(ctx, "acct_1", versions.MustParse("2024-09-30.acacia"))
	fmt.Println(p.Version, "previous", p.Previous)
	now = now.Add(24 * time.Hour)
	p, _ = s.Rollback(ctx, "acct_1")
	fmt.Println(p.Version)

	h, _ := s.History(ctx, "acct_1")
	for _, c := range h {
		fmt.Println(c.At.Format(time.DateOnly), c.Kind, c.From, "->", c.To)
	}
	// Output:
	// 2022-11-15 true
	// 2024-09-30.acacia previous 2022-11-15
	// 2022-11-15
	// 2026-03-01 pin  -> 2022-11-15
	// 2026-03-02 upgrade 2022-11-15 -> 2024-09-30.acacia
	// 2026-03-03 rollback 2024-09-30.acacia -> 2022-11-15
}
