package pwsh

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
)

// xored writes s as a [char[]] array of codes xor'ed with key, the way
// Invoke-Obfuscation's BXOR encoding does.
func xored(s string, key int) string {
	var parts []string
	for _, r := range s {
		parts = append(parts, strconv.Itoa(int(r)^key))
	}
	return "[char[]](" + strings.Join(parts, ",") + ")"
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"encoded command", "powershell.exe -NoP -enc " + Encode("Get-ADUser -Filter *"), "Get-ADUser -Filter *"},
		{"encoded command long flag", "powershell -EncodedCommand " + Encode("net group \"Domain Admins\" /domain"), `net group "Domain Admins" /domain`},
		{"from base64", `iex ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('` + base64.StdEncoding.EncodeToString([]byte("Get-SmbShare")) + `')))`, "Get-SmbShare"},
		{"backticks", "G`e`T-`A`dU`sEr -filter *", "GeT-AdUsEr -filter *"},
		{"concatenation", `iex ('Get-'+'Net'+'TCP'+"Connection")`, "Get-NetTCPConnection"},
		{"char casts", `iex([char]110+[char]101+[char]116+[char]32+[char]117+[char]115+[char]101+[char]114)`, "net user"},
		{"char code array", `&([string]::join('', [char[]](110,101,116,32,118,105,101,119,32,92,92,70,83,48,49)))`, `net view \\FS01`},
		{"hex codes", `[string]::join('', ((6e,65,74,20,73,68,61,72,65,20,20,20,20) | %{ [char]([convert]::toint16($_,16)) }))`, "net share"},
		{"bxor", xored("net localgroup administrators", 0x5d) + ` | %{[char]($_ -bxor 0x5d)}`, "net localgroup administrators"},
		{"format string", `("{2}{0}{1}" -f 'AD','User','Get-')`, "Get-ADUser"},
		{"reversed", `$s = 'resUDA-teG'; iex $s[-1..-($s.Length)] -join ''`, "Get-ADUser"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Decode(c.in)
			found := false
			for _, v := range d.Variants {
				if strings.Contains(v, c.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("Decode(%q): no variant contains %q; variants %q, steps %v", c.in, c.want, d.Variants, d.Steps)
			}
		})
	}
}

func TestDecodeKeepsPlainText(t *testing.T) {
	d := Decode("Get-Volume | Select-Object DriveLetter,SizeRemaining")
	if len(d.Steps) != 0 || d.Text != "Get-Volume | Select-Object DriveLetter,SizeRemaining" {
		t.Errorf("plain text changed: %+v", d)
	}
}

func TestEncodedCommand(t *testing.T) {
	enc := "RwBlAHQALQBBAEQAVQBzAGUAcgAgAC0ARgBpAGwAdABlAHIAIAAqACAAfAAgAFMAZQBsAGUAYwB0ACAATgBhAG0AZQA="
	want := "Get-ADUser -Filter * | Select Name"
	for _, cl := range []string{
		"powershell -e " + enc,
		"powershell.exe -EncodedCommand " + enc,
		"pwsh /enc \"" + enc + "\"",
		"powershell –encodedc " + enc, // en dash, as Sigma's windash
		enc,
	} {
		if got := EncodedCommand(cl); got != want {
			t.Errorf("EncodedCommand(%q) = %q", cl, got)
		}
	}
	for _, cl := range []string{"", "powershell -ExecutionPolicy Bypass", "powershell -enc", "powershell -enc aGVsbG8=", "x -f " + enc} {
		if got := EncodedCommand(cl); got != "" {
			t.Errorf("EncodedCommand(%q) = %q, want nothing", cl, got)
		}
	}
}

// FuzzDecode: hostile text never makes the decoders panic, and Decode's
// variants and steps stay in step.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"powershell -enc " + Encode("net user"), "[char]65+[char]66", "('{1}{0}' -f 'a','b')", "1,2,3,4,5,6,7,8,9,10,11,12,13,14", "-bxor 0x5d", "pwsh –e \"SQBFAFgA\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := Decode(s)
		if len(d.Variants) == 0 || len(d.Variants) != len(d.Steps)+1 {
			t.Fatalf("variants %d steps %d", len(d.Variants), len(d.Steps))
		}
		EncodedCommand(s)
		UTF16(s)
	})
}
