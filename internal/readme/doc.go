// Package readme checks that every Go sample in README.md is compiled:
// each is held verbatim by a test file of the repository (a function of
// samples_test.go, an Example, sdk/readme_test.go), and TestSamples fails
// when README.md holds a sample no test file does, so that a sample
// cannot drift from the API unnoticed. A sample followed by "This will
// print:" is checked against its Example's // Output: too.
package readme
