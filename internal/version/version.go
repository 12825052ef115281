// Package version holds the build's version, set with -ldflags -X at build time.
package version

import "runtime/debug"

// Version is the release version; "dev" when built without ldflags.
var Version = "dev"

// String is the version as --version prints it.
func String() string {
	v := Version
	if v == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return v
}
