package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DecodeJSON reads the principal's JSON body strictly into v: unknown
// fields, keys given twice, wrong types and trailing data are refused with
// 400 bad_request naming the field. fields lists the accepted fields for
// the message. An empty body is refused unless optional.
func DecodeJSON(p *Principal, v any, optional bool, fields string) error {
	body := bytes.TrimSpace(p.Body)
	if len(body) == 0 {
		if optional {
			return nil
		}
		return badRequest("send a JSON object in the request body (fields: %s)", fields)
	}
	if err := checkDuplicateKeys(body); err != nil {
		return badRequest("invalid JSON body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid JSON body: %s", explainJSON(err, fields))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("invalid JSON body: data after the JSON object")
	}
	return nil
}

func badRequest(format string, args ...any) error {
	return Errorf(http.StatusBadRequest, "bad_request", format, args...)
}

// explainJSON says what is wrong with a body in the caller's terms.
func explainJSON(err error, fields string) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Sprintf("%s must be %s, not a %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Sprintf("the body must be a JSON object, not a %s", typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("%v (at byte %d)", strings.TrimPrefix(err.Error(), "json: "), syntaxErr.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ") + " (fields: " + fields + ")"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names a Go kind as JSON does.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int64", "uint64", "int32", "uint32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a " + kind
}

// checkDuplicateKeys refuses an object that gives a key twice: decoders
// disagree on which one wins, so a checker and a user could read
// different requests.
func checkDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // the decoder proper reports syntax errors
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
			}
			continue
		}
		if top == nil || !top.object {
			continue
		}
		if top.key {
			k, _ := tok.(string)
			if top.keys[k] {
				return fmt.Errorf("key %q is given twice", k)
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		top.key = true // a scalar value: the next token is a key
	}
}
