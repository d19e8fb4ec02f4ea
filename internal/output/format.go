// Package output prints command results to stdout, as a table for people or
// as JSON for programs. It is the only package that imports tablewriter, so
// that every table paratro prints looks the same and stays stable under
// golden tests.
//
// A command picks one of its functions according to the --output flag:
//
//	switch opts.Output {
//	case output.FormatJSON:
//		return output.JSON(opts.IO.Out, walletsJSON(ws))
//	default:
//		return output.Table(opts.IO.Out, []string{"NAME", "CHAIN", "ADDRESS"}, rows)
//	}
package output

import "fmt"

// Format is the value of the --output flag. It implements pflag.Value, so
// that a bad value is refused while flags are parsed, before any work starts.
type Format string

// The formats paratro prints.
const (
	// FormatTable is for people: aligned columns without borders, or
	// key/value lines for a single object.
	FormatTable Format = "table"
	// FormatJSON is for programs: indented JSON with snake_case keys, changed
	// only by adding fields.
	FormatJSON Format = "json"
)

// Formats lists the accepted values of --output, for help and completion.
func Formats() []Format { return []Format{FormatTable, FormatJSON} }

// String implements pflag.Value.
func (f *Format) String() string { return string(*f) }

// Set implements pflag.Value; it accepts only the values listed by Formats.
func (f *Format) Set(s string) error {
	for _, ok := range Formats() {
		if s == string(ok) {
			*f = ok
			return nil
		}
	}
	return fmt.Errorf("must be %q or %q", FormatTable, FormatJSON)
}

// Type implements pflag.Value; it names the value in help ("-o, --output format").
func (f *Format) Type() string { return "format" }
