package mfa

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/paratro/paratro/internal/atomicfile"
)

// FileStore keeps every operator's State in one JSON file, mode 0600,
// replaced atomically on each Save (internal/atomicfile). It is for one
// process: it serialises its own callers but does not lock the file
// against other processes.
type FileStore struct {
	path string
	mu   sync.Mutex
}

// NewFileStore returns a store backed by path; the file is created on the
// first Save.
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

type fileData struct {
	Version   int              `json:"version"`
	Operators map[string]State `json:"operators"`
}

func (s *FileStore) read() (fileData, error) {
	d := fileData{Version: 1, Operators: map[string]State{}}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("%s: %w", s.path, err)
	}
	if d.Version != 1 {
		return d, fmt.Errorf("%s: unknown version %d", s.path, d.Version)
	}
	if d.Operators == nil {
		d.Operators = map[string]State{}
	}
	return d, nil
}

// Load implements Store.
func (s *FileStore) Load(operator string) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.read()
	if err != nil {
		return State{}, err
	}
	return d.Operators[operator], nil
}

// Save implements Store.
func (s *FileStore) Save(operator string, st State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.read()
	if err != nil {
		return err
	}
	d.Operators[operator] = st
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(s.path, append(b, '\n'))
}
