package main_test

import (
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }
