package main

import (
	"os"
	"testing"
)

// TestMain lets a test run this test binary as the spoor command (with
// its signal handling) by setting SPOOR_TEST_AS_CLI=1: see
// TestSIGTERMWritesManifest.
func TestMain(m *testing.M) {
	if os.Getenv("SPOOR_TEST_AS_CLI") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}
