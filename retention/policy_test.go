package retention

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/due from the current Due")

// dueCase is one file in testdata/due: an inventory, a time and, optionally, a policy that
// overrides fields of DefaultPolicy.
type dueCase struct {
	Comment   string          `json:"comment"`
	Now       time.Time       `json:"now"`
	Policy    json.RawMessage `json:"policy"`
	Inventory Inventory       `json:"inventory"`
}

// TestDue checks Due against the golden files: each testdata/due/<case>.json gives the input,
// <case>.golden the expected actions, one per line. Run with -update to rewrite them after a
// deliberate change, then read the diff.
func TestDue(t *testing.T) {
	inputs, err := filepath.Glob("testdata/due/*.json")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			c, p := loadCase(t, in)
			got := formatActions(Due(c.Inventory, c.Now, p))
			golden := strings.TrimSuffix(in, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestDue -update)", err)
			}
			if got != string(want) {
				t.Errorf("Due differs from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestDueDeterministic shuffles every case's input: the output must not change.
func TestDueDeterministic(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/due/*.json")
	rng := rand.New(rand.NewSource(1))
	for _, in := range inputs {
		c, p := loadCase(t, in)
		want := Due(c.Inventory, c.Now, p)
		for range 20 {
			inv := c.Inventory
			inv.Rows = append([]Row(nil), inv.Rows...)
			inv.Files = append([]File(nil), inv.Files...)
			rng.Shuffle(len(inv.Rows), func(i, j int) { inv.Rows[i], inv.Rows[j] = inv.Rows[j], inv.Rows[i] })
			rng.Shuffle(len(inv.Files), func(i, j int) { inv.Files[i], inv.Files[j] = inv.Files[j], inv.Files[i] })
			if got := Due(inv, c.Now, p); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: order of input changed the output:\n%v\n%v", in, got, want)
			}
		}
	}
}

// TestDueEmpty: nothing in, nothing out, not nil trouble.
func TestDueEmpty(t *testing.T) {
	if got := Due(Inventory{}, time.Now(), DefaultPolicy()); len(got) != 0 {
		t.Fatalf("got %v", got)
	}
}

func loadCase(t *testing.T, path string) (dueCase, Policy) {
	t.Helper()
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c dueCase
	if err := json.Unmarshal(buf, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	p := DefaultPolicy()
	if c.Policy != nil {
		if err := json.Unmarshal(c.Policy, &p); err != nil {
			t.Fatalf("%s: policy: %v", path, err)
		}
	}
	return c, p
}

// formatActions renders actions one per line, in the order given, for golden files a person
// can review in a diff.
func formatActions(actions []Action) string {
	var b strings.Builder
	for _, a := range actions {
		fmt.Fprintf(&b, "%-11s %s", a.Reason, a.Path)
		if a.CallUUID != "" {
			fmt.Fprintf(&b, " call=%s", a.CallUUID)
		}
		fmt.Fprintf(&b, " bytes=%d", a.Bytes)
		if a.State != "" {
			fmt.Fprintf(&b, " state=%s", a.State)
		}
		if a.Resume {
			b.WriteString(" resume")
		}
		if a.Alarm != "" {
			fmt.Fprintf(&b, " alarm=%q", a.Alarm)
		}
		b.WriteString("\n")
	}
	if len(actions) == 0 {
		b.WriteString("(nothing due)\n")
	}
	return b.String()
}
