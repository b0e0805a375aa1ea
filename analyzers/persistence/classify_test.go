package persistence

import "testing"

// FuzzEncodedPrefilter: the word check before reEncoded never turns away
// a line the expression matches.
func FuzzEncodedPrefilter(f *testing.F) {
	for _, s := range []string{`powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAA=`, `x -EC aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=`, `[System.Convert]::FromBase64String($x)`, `-JOIN [char[]]`, `a GzipStream b`, "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := encoded(s), reEncoded.MatchString(s); got != want {
			t.Fatalf("encoded(%q) = %v, reEncoded says %v", s, got, want)
		}
	})
}
