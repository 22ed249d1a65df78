// Package docs derives an API's changelog and upgrade guides from its
// version timeline, the one place where each change is declared.
//
// A changelog lists every version, newest first, with its changes: the
// description written for API users, the resources and endpoints each
// touches, one precise sentence per operation ("`customer.account_balance`
// is now `customer.balance`.") and marks for breaking and behaviour
// changes:
//
//	tl, err := gates.LoadFile("timeline.yaml", nil)
//	...
//	log, err := changelog.NewLog(tl, changelog.Options{})
//	...
//	err = log.HTML(w) // or Markdown(w), JSON(w)
//
// An upgrade guide says what an integration pinned at one version must
// change to move to another, grouped by resource and by endpoint, with
// before and after examples made by running the transform engine on sample
// objects:
//
//	samples, err := changelog.LoadSamples("samples/") // or changelog.DefaultSamples()
//	guide, err := changelog.UpgradeGuide(tl, nil, from, to, samples)
//	err = changelog.Write(os.Stdout, guide, "md")
//
// The HTML pages are self-contained (inline CSS, no external assets) so a
// team can publish them as they are; every version has the anchor
// "#v2019-10-17" and every change "#change-<id>". A server can serve its
// changelog with the same calls.
package changelog
