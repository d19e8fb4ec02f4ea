package sharecmd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"

	"github.com/paratro/paratro/internal/backup"
	"github.com/paratro/paratro/internal/cli/cmdutil"
)

// passphraseEnv gives the backup passphrase to scripts. It is never taken
// from argv.
const passphraseEnv = "PARATRO_BACKUP_PASSPHRASE"

// minPassphrase is the shortest passphrase accepted for a new backup.
const minPassphrase = 12

// secretSource reads the backup passphrase: PARATRO_BACKUP_PASSPHRASE, or
// a prompt without echo on the terminal.
type secretSource struct {
	Getenv func(string) string
	// Prompt asks without echo; nil when there is no terminal.
	Prompt func(prompt string) ([]byte, error)
}

func newSecretSource(f *cmdutil.Factory) secretSource {
	s := secretSource{Getenv: f.Getenv}
	if f.IO.CanPrompt() && f.PromptPassword != nil {
		s.Prompt = f.PromptPassword
	}
	return s
}

var errNoPassphrase = errors.New("the backup passphrase is needed and there is no terminal to ask for it")

// passphrase reads the passphrase of an existing backup.
func (s secretSource) passphrase() ([]byte, error) {
	if p := s.Getenv(passphraseEnv); p != "" {
		return []byte(p), nil
	}
	if s.Prompt == nil {
		return nil, cmdutil.WithHint(errNoPassphrase, "set "+passphraseEnv+", or give --identity FILE for a backup made to age recipients")
	}
	return s.Prompt("backup passphrase: ")
}

// newPassphrase reads the passphrase of a new backup: from the
// environment, or typed twice.
func (s secretSource) newPassphrase() ([]byte, error) {
	p := []byte(s.Getenv(passphraseEnv))
	if len(p) == 0 {
		if s.Prompt == nil {
			return nil, cmdutil.WithHint(errNoPassphrase, "set "+passphraseEnv+", or encrypt to age recipients with --recipient age1… or --recipients-file FILE")
		}
		var err error
		if p, err = s.Prompt("backup passphrase: "); err != nil {
			return nil, err
		}
		again, err := s.Prompt("backup passphrase (again): ")
		if err != nil {
			clear(p)
			return nil, err
		}
		defer clear(again)
		if !bytes.Equal(p, again) {
			clear(p)
			return nil, errors.New("the two passphrases differ: nothing was written")
		}
	}
	if len(p) < minPassphrase {
		clear(p)
		return nil, cmdutil.WithHint(fmt.Errorf("the backup passphrase is too short (%d characters; at least %d)", len(p), minPassphrase),
			"use a long passphrase, e.g. five or six random words, and keep it apart from the file")
	}
	return p, nil
}

// recipients parses --recipient values and the lines of --recipients-file
// (age's format: one recipient a line, # comments).
func recipients(values []string, file string) ([]age.Recipient, error) {
	lines := append([]string(nil), values...)
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, cmdutil.FlagErrorf("--recipients-file: %v", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
	}
	var out []age.Recipient
	for _, l := range lines {
		r, err := age.ParseX25519Recipient(l)
		if err != nil {
			return nil, cmdutil.FlagErrorf("invalid age recipient %q: %v (an X25519 recipient starts with age1; age-keygen -y KEYFILE prints it)", l, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// openIdentities are the age identities to decrypt a backup with: those
// in identityFile, or the passphrase.
func openIdentities(src secretSource, identityFile string, h backup.Header) ([]age.Identity, error) {
	if identityFile != "" {
		f, err := os.Open(identityFile)
		if err != nil {
			return nil, cmdutil.FlagErrorf("--identity: %v", err)
		}
		defer f.Close()
		ids, err := age.ParseIdentities(f)
		if err != nil {
			return nil, cmdutil.FlagErrorf("--identity %s: %v", identityFile, err)
		}
		return ids, nil
	}
	if h.Encryption == backup.EncRecipients {
		return nil, cmdutil.WithHint(cmdutil.FlagErrorf("this backup is encrypted to age recipients: give --identity FILE"),
			"the file holds the age identity (AGE-SECRET-KEY-1…) of one of the recipients it was made for")
	}
	p, err := src.passphrase()
	if err != nil {
		return nil, err
	}
	defer clear(p)
	id, err := backup.PassphraseIdentity(p)
	if err != nil {
		return nil, err
	}
	return []age.Identity{id}, nil
}

// openFile reads and decrypts a backup file.
func openFile(path string, src secretSource, identityFile string) (*backup.Contents, error) {
	file, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	h, _, _, err := backup.ParseHeader(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ids, err := openIdentities(src, identityFile, h)
	if err != nil {
		return nil, err
	}
	c, err := backup.Open(file, ids...)
	switch {
	case errors.Is(err, backup.ErrDecrypt) && identityFile == "":
		return nil, cmdutil.WithHint(fmt.Errorf("%s: wrong passphrase: %w", path, backup.ErrDecrypt), "check the passphrase ("+passphraseEnv+" for scripts); nothing was changed")
	case errors.Is(err, backup.ErrDecrypt):
		return nil, cmdutil.WithHint(fmt.Errorf("%s: %w", path, err), "the identity in "+identityFile+" is not one of the recipients the backup was made for")
	case errors.Is(err, backup.ErrFormat), errors.Is(err, backup.ErrTampered):
		return nil, cmdutil.WithHint(fmt.Errorf("%s: %w", path, err), "use another copy of the backup; this one cannot be trusted")
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
