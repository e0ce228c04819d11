package argon2id

import (
	"strings"
	"testing"
)

func TestHasher(t *testing.T) {
	h := &Hasher{Params: DefaultParams}
	h.Params.Memory = 1024 // cheap in tests; the PHC string carries it
	phc, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=1024,t=3,p=4$") {
		t.Fatalf("phc = %q", phc)
	}
	if ok, err := h.Verify("correct horse battery", phc); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, err := h.Verify("correct horse batterY", phc); ok || err != nil {
		t.Fatalf("wrong password: %v %v", ok, err)
	}
	// A hash made with other parameters verifies with its own: raising Params keeps old ones.
	h2 := New()
	if ok, _ := h2.Verify("correct horse battery", phc); !ok {
		t.Fatal("old parameters not honoured")
	}
	if _, err := h.Verify("x", "not a phc"); err == nil {
		t.Fatal("garbage hash verified without error")
	}
	if New().Params.Memory != 64*1024 || New().Params.Iterations != 3 || New().Params.Parallelism != 4 {
		t.Fatal("default parameters are not RFC 9106's second option")
	}
}

func BenchmarkDefaultHash(b *testing.B) {
	h := New()
	for b.Loop() {
		h.Hash("correct horse battery")
	}
}
