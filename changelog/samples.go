package changelog

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MaxSampleFileSize bounds the size of one file LoadSamples reads.
const MaxSampleFileSize = 64 << 20

// ErrSample is matched (with errors.Is) by every error LoadSamples returns
// for a file whose content is not a sample.
var ErrSample = errors.New("bad sample")

// Sample is one JSON object in the newest schema, used to show before and
// after examples in upgrade guides and to compare timelines.
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

// Types returns every object type in the sample: the "object" field of the
// sample itself and of every object nested in it, sorted, without
// duplicates.
func (s Sample) Types() []string {
	var v any
	if json.Unmarshal(s.Body, &v) != nil {
		return nil
	}
	seen := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if t, ok := v["object"].(string); ok {
				seen[t] = true
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

//go:embed samples/*.json
var builtin embed.FS

// DefaultSamples returns verso's own Stripe-like samples (a charge, a
// customer, a payment intent, a product and a refund in the newest schema
// of testdata/stripe.yaml), for guides when the user gives none.
func DefaultSamples() []Sample {
	entries, _ := fs.ReadDir(builtin, "samples")
	var out []Sample
	for _, e := range entries {
		data, _ := fs.ReadFile(builtin, "samples/"+e.Name())
		s, err := parseSample(e.Name(), data)
		if err == nil {
			out = append(out, s)
		}
	}
	return out
}

// LoadSamples reads samples from path: a directory of .json files (each
// one JSON object; .jsonl and .ndjson files in it are read as JSON lines),
// a .json file holding one object, or a JSON lines file with one object per
// line. Files of a directory are read in name order. A file or line that
// is not a JSON object is an error naming it ("dir/charge.json: ..." or
// "samples.jsonl:3: ...").
func LoadSamples(path string) ([]Sample, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return loadFile(path, path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".json" && ext != ".jsonl" && ext != ".ndjson") {
			continue
		}
		ss, err := loadFile(filepath.Join(path, e.Name()), e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, ss...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w: no .json, .jsonl or .ndjson files", path, ErrSample)
	}
	return out, nil
}

func loadFile(path, name string) ([]Sample, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Size() > MaxSampleFileSize {
		return nil, fmt.Errorf("%s: %w: file is larger than %d bytes", path, ErrSample, MaxSampleFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ext := strings.ToLower(filepath.Ext(path))
	lines := ext == ".jsonl" || ext == ".ndjson"
	if !lines && ext != ".json" {
		// Without a telling extension, one JSON value is one sample and
		// anything else is read as JSON lines.
		lines = !json.Valid(data)
	}
	if !lines {
		s, err := parseSample(name, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return []Sample{s}, nil
	}
	var out []Sample
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxSampleFileSize)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		s, err := parseSample(fmt.Sprintf("%s:%d", name, n), bytes.Clone(line))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w: no samples in the file", path, ErrSample)
	}
	return out, nil
}

// parseSample checks that data is one JSON object.
func parseSample(name string, data []byte) (Sample, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line, col := lineCol(data, se.Offset)
			if !bytes.Contains(data, []byte("\n")) {
				return Sample{}, fmt.Errorf("%w: not valid JSON at column %d: %v", ErrSample, col, se)
			}
			return Sample{}, fmt.Errorf("%w: not valid JSON at line %d, column %d: %v", ErrSample, line, col, se)
		case errors.As(err, &te):
			return Sample{}, fmt.Errorf("%w: a sample must be a JSON object, not %s", ErrSample, te.Value)
		}
		return Sample{}, fmt.Errorf("%w: not valid JSON: %v", ErrSample, err)
	}
	if obj == nil {
		return Sample{}, fmt.Errorf("%w: a sample must be a JSON object, not null", ErrSample)
	}
	s := Sample{Name: name, Body: data}
	if raw, ok := obj["object"]; ok {
		_ = json.Unmarshal(raw, &s.Type)
	}
	return s, nil
}

func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}
