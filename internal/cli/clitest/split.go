package clitest

import (
	"errors"
	"strings"
)

// Split splits a command line into words as a POSIX shell would, for the
// simple cases tests need: words are separated by blanks; '…' keeps
// everything literally; "…" keeps blanks and honours \" and \\; outside
// quotes a backslash escapes the next character. An empty quoted string is
// a word. There is no expansion of any kind.
func Split(line string) ([]string, error) {
	var (
		words  []string
		word   strings.Builder
		inWord bool
		quote  rune // 0, '\'' or '"'
		escape bool
	)
	for _, r := range line {
		switch {
		case escape:
			word.WriteRune(r)
			escape = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case quote == '"':
			switch r {
			case '"':
				quote = 0
			case '\\':
				escape = true
			default:
				word.WriteRune(r)
			}
		case r == '\\':
			escape, inWord = true, true
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escape {
		return nil, errors.New("unterminated quote or trailing backslash")
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}
