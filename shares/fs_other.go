//go:build !unix

package shares

import "io/fs"

// syncDir does nothing: directories cannot be opened for syncing here.
func syncDir(string) error { return nil }

// checkPrivateDir accepts every directory: Unix mode bits and owners do not
// describe who may write here, and access is left to the OS's ACLs.
func checkPrivateDir(string, fs.FileInfo) error { return nil }
