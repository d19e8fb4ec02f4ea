package output

import (
	"encoding/json"
	"io"
)

// JSON writes v as indented JSON (two spaces) followed by a newline. HTML
// characters are not escaped, so "<" and "&" in values stay readable.
// Callers pass dedicated output structs with snake_case json tags and times
// in RFC 3339 UTC, never internal types.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
