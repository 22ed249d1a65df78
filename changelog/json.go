package changelog

import (
	"encoding/json"
	"io"
)

// JSON writes the changelog as indented JSON.
func (l *Log) JSON(w io.Writer) error { return writeJSON(w, l) }

// JSON writes the guide as indented JSON.
func (g *Guide) JSON(w io.Writer) error { return writeJSON(w, g) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
