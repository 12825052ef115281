package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlos-foundation/axon/internal/signing"
)

// layoutDirs is the repeatable --allow-layout flag.
type layoutDirs struct {
	set  bool
	list []string
}

func (l *layoutDirs) String() string { return strings.Join(l.list, ",") }

func (l *layoutDirs) Set(v string) error {
	l.set = true
	if v == "none" {
		return nil
	}
	abs, err := filepath.Abs(v)
	if err != nil {
		return fmt.Errorf("--allow-layout %q: %w", v, err)
	}
	l.list = append(l.list, abs)
	return nil
}

// dirs is what the manager allows: the flag's directories, or by default the
// local axon store ($AXON_HOME, default ~/.axon), which `axon register` of an
// unpushed package names when mlosd runs on the same machine.
func (l *layoutDirs) dirs() []string {
	if l.set {
		return l.list
	}
	home := os.Getenv("AXON_HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return nil
		}
		home = filepath.Join(h, ".axon")
	}
	if abs, err := filepath.Abs(home); err == nil {
		return []string{abs}
	}
	return nil
}

// keyFiles is the repeatable --trust-key flag: public keys read at start, so
// a bad file fails mlosd at once.
type keyFiles struct {
	paths []string
	keys  []*signing.PublicKey
}

func (k *keyFiles) String() string { return strings.Join(k.paths, ",") }

func (k *keyFiles) Set(v string) error {
	pub, err := signing.ReadPublicKey(v)
	if err != nil {
		return fmt.Errorf("--trust-key: %w", err)
	}
	k.paths = append(k.paths, v)
	k.keys = append(k.keys, pub)
	return nil
}
