package shadow

// Sample is one JSON object in the newest schema that Compare renders at
// every version. Its fields are those of changelog.Sample, in the same
// order, so that a sample that package loads converts as it is:
// shadow.Sample(s). (shadow does not import changelog, and so not its
// Markdown renderer, for this one type.)
type Sample struct {
	// Name says where the sample came from: "charge.json", or
	// "samples.jsonl:3" for line 3 of a JSON lines file.
	Name string
	// Body is the JSON object.
	Body []byte
	// Type is the sample's "object" field ("charge", "list"), or "" when it
	// has none.
	Type string
}
