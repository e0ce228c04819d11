package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// checkRecordingsDir makes sure the recordings folder exists before any call is taken. In a
// --data-dir trial it is created (0700); in production FreeSWITCH's installation owns it, and
// a missing folder is a configuration error rather than something to paper over. The folder's
// layout, day folders and file modes are the recordings package's.
func checkRecordingsDir(dir string, create bool) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) && create {
		return os.MkdirAll(dir, 0o700)
	} else if err != nil {
		return fmt.Errorf("config: recordings-dir: %s", fileProblem(err))
	} else if !fi.IsDir() {
		return fmt.Errorf("config: recordings-dir: %s is not a folder", dir)
	}
	return nil
}
