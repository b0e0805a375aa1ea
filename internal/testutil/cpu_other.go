//go:build !unix

package testutil

// CPUSeconds is not measured on this platform.
func CPUSeconds() float64 { return 0 }
