package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/callconsent/callconsent/access"
)

// BenchmarkVerify measures audit verify over a log of n entries (each about one call):
// reading and checking the chain, streamed, per entry.
func BenchmarkVerify(b *testing.B) {
	for _, n := range []int{10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			svc, db := openService(b, filepath.Join(dir, "a.db"), filepath.Join(dir, "audit.key.head"))
			defer db.Close()
			for i := 0; i < n; i++ {
				if _, err := svc.Append(ctx, access.Entry{Actor: "root", ActorKind: access.ActorHost, Action: "host-read",
					Objects: []access.Object{{Kind: access.ObjectCall, ID: fmt.Sprintf("6f1c2a4e-9d3b-4c7a-8e21-%012d", i)}}}); err != nil {
					b.Fatal(err)
				}
			}
			host := access.HostActor("root")
			b.ResetTimer()
			for b.Loop() {
				rep, err := svc.Verify(ctx, host)
				if err != nil || !rep.OK() {
					b.Fatal(rep, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
		})
	}
}

// BenchmarkAppend measures one audit entry appended alone (its own commit and head file).
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	svc, db := openService(b, filepath.Join(dir, "a.db"), filepath.Join(dir, "audit.key.head"))
	defer db.Close()
	for b.Loop() {
		if _, err := svc.Append(ctx, access.Entry{Actor: "root", ActorKind: access.ActorHost, Action: "host-read"}); err != nil {
			b.Fatal(err)
		}
	}
}
