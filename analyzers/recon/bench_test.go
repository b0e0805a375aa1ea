package recon

import (
	"strings"
	"testing"
)

// BenchmarkDecodeLarge decodes a script at the 256 KiB bound that is one
// long run of character codes, the decoder's most expensive input.
func BenchmarkDecodeLarge(b *testing.B) {
	s := "[char[]](" + strings.Repeat("110,101,116,32,", (256<<10)/16) + "32)"
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Classify(s)
	}
}

// BenchmarkClassifyCommand classifies a typical command line.
func BenchmarkClassifyCommand(b *testing.B) {
	s := `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -Command "Get-ADGroupMember -Identity 'Domain Admins' | Select Name"`
	for b.Loop() {
		Classify(s)
	}
}
