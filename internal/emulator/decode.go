package emulator

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// This file decodes the JSON the emulator is given (API request bodies,
// admin requests, seed files) strictly, with errors that name the field,
// and holds fieldError, the validation error that names one.

// fieldError is a validation error about one field: Field is its path, such
// as "rules[2].command", relative to what was validated.
type fieldError struct {
	field string
	msg   string
}

func (f *fieldError) Error() string { return f.field + ": " + f.msg }

// fieldErr returns a fieldError for field with a formatted message.
func fieldErr(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// inField puts err under the path prefix: "jobs[1]" and "job_id: ..." make
// "jobs[1].job_id: ...". An error that names no field is about prefix
// itself: "tasks[1]: ...".
func inField(prefix string, err error) error {
	var fe *fieldError
	if !errors.As(err, &fe) {
		return &fieldError{field: prefix, msg: err.Error()}
	}
	sep := "."
	if strings.HasPrefix(fe.field, "[") {
		sep = ""
	}
	return &fieldError{field: prefix + sep + fe.field, msg: fe.msg}
}

// decodeStrict decodes exactly one JSON object, a request body, into v,
// rejecting unknown fields (so a client's misspelt optional field is caught
// rather than silently ignored) and trailing data, with messages that name
// the field.
func decodeStrict(b []byte, v any) error { return decodeStrictAs(b, v, "request body") }

// decodeStrictAs is decodeStrict with subject naming the JSON text in
// messages ("request body", "the file").
func decodeStrictAs(b []byte, v any, subject string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeDecodeError(b, reflect.TypeOf(v), subject, err)
	}
	if dec.More() {
		return fmt.Errorf("%s has data after the JSON object", subject)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s has data after the JSON object", subject)
	}
	return nil
}

// describeDecodeError turns an encoding/json error into a message that
// names the field, with its array indexes ("tasks[0].jobs[1].after"), which
// encoding/json's own errors leave out.
func describeDecodeError(b []byte, t reflect.Type, subject string, err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s is empty; want a JSON object", subject)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		field := typeErr.Field
		if path, ok := findInJSON(b, t, jsonSpot{offset: typeErr.Offset}); ok && path != "" {
			field = path
		}
		return fmt.Errorf("%s: must be a JSON %s, got %s", field, jsonKind(typeErr.Type), typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Errorf("%s must be a JSON object, got %s", subject, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("%s is not valid JSON: %v (%s)", subject, syntaxErr, position(b, syntaxErr.Offset))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		key := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if path, ok := findInJSON(b, t, jsonSpot{unknownKey: strings.Trim(key, `"`), offset: -1}); ok && path != "" {
			return fmt.Errorf("%s: unknown field %s", path, key)
		}
		return fmt.Errorf("unknown field %s", key)
	}
	// An UnmarshalText error (e.g. an invalid Duration) says what is wrong
	// but not where.
	if path, ok := findInJSON(b, t, jsonSpot{textErr: err.Error(), offset: -1}); ok && path != "" {
		return fmt.Errorf("%s: %v", path, err)
	}
	return fmt.Errorf("%s is not valid JSON: %v", subject, err)
}

// position says where a json.SyntaxError is: its Offset counts the bytes
// read, the offending one included, so the byte at offset-1 is shown as
// "line L, column C" (both from 1, columns in bytes).
func position(b []byte, offset int64) string {
	before := b[:min(max(offset-1, 0), int64(len(b)))]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// jsonSpot says what findInJSON looks for: the first key named unknownKey
// that the Go type has no field for, the value at which a type error at
// offset was detected, or the first string whose UnmarshalText fails with
// textErr.
type jsonSpot struct {
	unknownKey string
	offset     int64 // -1: none
	textErr    string
}

// findInJSON walks data, a JSON text that decodes into a value of type t,
// and returns the path of the spot: "rules[2]" for an unknown key in the
// third rule, "rules[2].status" for a value. ok is false if it is not
// found (the data or the type do not match what the decoder saw).
func findInJSON(data []byte, t reflect.Type, spot jsonSpot) (path string, ok bool) {
	w := &jsonWalker{dec: json.NewDecoder(bytes.NewReader(data)), spot: spot}
	w.dec.UseNumber()
	path, ok = w.walk(t, "")
	return path, ok && !w.broken
}

type jsonWalker struct {
	dec    *json.Decoder
	spot   jsonSpot
	broken bool // the data is not valid JSON after all
}

// walk reads one value of Go type t (nil: unknown) at path and reports
// whether the spot is in it, and where.
func (w *jsonWalker) walk(t reflect.Type, path string) (string, bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := w.dec.Token()
	if err != nil {
		w.broken = true
		return "", true
	}
	if w.spot.offset >= 0 && w.dec.InputOffset() >= w.spot.offset {
		return path, true
	}
	switch tok {
	case json.Delim('{'):
		for w.dec.More() {
			keyTok, err := w.dec.Token()
			if err != nil {
				w.broken = true
				return "", true
			}
			key, _ := keyTok.(string)
			ft, known := jsonFieldType(t, key)
			if !known && w.spot.unknownKey == key {
				return path, true
			}
			if p, found := w.walk(ft, joinPath(path, key)); found {
				return p, true
			}
		}
		_, _ = w.dec.Token() // '}'
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if p, found := w.walk(elem, fmt.Sprintf("%s[%d]", path, i)); found {
				return p, true
			}
		}
		_, _ = w.dec.Token() // ']'
	default:
		s, isString := tok.(string)
		if !isString || w.spot.textErr == "" || t == nil {
			break
		}
		if u, ok := reflect.New(t).Interface().(encoding.TextUnmarshaler); ok {
			if err := u.UnmarshalText([]byte(s)); err != nil && err.Error() == w.spot.textErr {
				return path, true
			}
		}
	}
	return "", false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonFieldType returns the Go type a JSON object key decodes into, as
// encoding/json matches keys (exact name first, else case-insensitively);
// known is false for a struct without such a field. For maps it is the
// element type; for anything else nil (unknown) and known.
func jsonFieldType(t reflect.Type, key string) (ft reflect.Type, known bool) {
	if t == nil {
		return nil, true
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem(), true
	case reflect.Struct:
	default:
		return nil, true
	}
	var fold reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f.Type, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = f.Type
		}
	}
	return fold, fold != nil
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// jsonKind names the JSON type a Go type decodes from, for error messages.
func jsonKind(t reflect.Type) string {
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return "string"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return t.String()
}
