package koophone

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// unquoteJSON decodes a JSON string literal (quotes included) that the
// JSON decoder has already validated, without the reflection and the
// second validation pass of json.Unmarshal: job outputs of 1 KiB dominate
// the size of a task answer. It handles the common cases (plain text, the
// usual escapes, \u escapes and surrogate pairs) and reports false for
// anything else (invalid UTF-8, a lone surrogate), which the caller leaves
// to json.Unmarshal, so the result is always what encoding/json gives.
func unquoteJSON(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	b = b[1 : len(b)-1]
	// Plain text: no escape, valid UTF-8.
	escape := -1
	for i, c := range b {
		if c == '\\' {
			escape = i
			break
		}
		if c < 0x20 || c == '"' {
			return "", false
		}
	}
	if escape < 0 {
		if !utf8.Valid(b) {
			return "", false
		}
		return string(b), true
	}
	if !utf8.Valid(b[:escape]) {
		return "", false
	}
	var sb strings.Builder
	sb.Grow(len(b))
	sb.Write(b[:escape])
	for i := escape; i < len(b); {
		c := b[i]
		switch {
		case c == '\\':
			if i+1 >= len(b) {
				return "", false
			}
			switch b[i+1] {
			case '"', '\\', '/':
				sb.WriteByte(b[i+1])
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'u':
				r, ok := hex4(b[i+2:])
				if !ok {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
						return "", false
					}
					r2, ok := hex4(b[i+2:])
					if !ok {
						return "", false
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return "", false
					}
					i += 6
				}
				sb.WriteRune(r)
				continue
			default:
				return "", false
			}
			i += 2
		case c < 0x20 || c == '"':
			return "", false
		case c < utf8.RuneSelf:
			sb.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			sb.Write(b[i : i+size])
			i += size
		}
	}
	return sb.String(), true
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
