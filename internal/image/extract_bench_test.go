package image

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkUnpackSmallFiles: 2,000 files of 2 KiB in 50 directories.
func BenchmarkUnpackSmallFiles(b *testing.B) {
	var ents []ent
	for i := 0; i < 2000; i++ {
		ents = append(ents, ent{name: fmt.Sprintf("usr/share/b/%d/%d.txt", i%50, i), body: string(bytes.Repeat([]byte("x"), 2048))})
	}
	data := mkTar(b, ents...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Unpack(b.TempDir(), bytes.NewReader(data), UnpackOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
