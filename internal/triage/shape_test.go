package triage

import "testing"

// TestSlotsNameTheirFields keeps the one-pass field reading of Shape in
// step with shapeFields: every slot's name leads back to its slot, and
// shapeFields sit at theirs in order.
func TestSlotsNameTheirFields(t *testing.T) {
	for i, n := range slotNames {
		if got := slotOf(n); got != i {
			t.Errorf("slotOf(%q) = %d, want %d", n, got, i)
		}
	}
	if slotUser != len(slotNames)-1 || slotSubjectUserName != slotShapeFields+len(shapeFields) {
		t.Errorf("slots after shapeFields: subject %d, user %d, for %d shape fields", slotSubjectUserName, slotUser, len(shapeFields))
	}
	for i, f := range shapeFields {
		if slotNames[slotShapeFields+i] != f {
			t.Errorf("shape field %d is %q, slot holds %q", i, f, slotNames[slotShapeFields+i])
		}
	}
	if slotOf("Imag") != -1 || slotOf("image") != -1 {
		t.Error("slotOf answers for names a shape does not read")
	}
}
