package image

import (
	"archive/tar"
	"testing"
)

// BenchmarkOpenGet is what `hk run` pays for its image: Open and Get.
func BenchmarkOpenGet(b *testing.B) {
	root := b.TempDir()
	s, err := Open(root)
	if err != nil {
		b.Fatal(err)
	}
	l := mkTar(b, ent{name: "bin/", typ: tar.TypeDir, mode: 0o755})
	testImage(b, s, []string{"bench"}, l)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(root)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Get("bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHold: a hold and its release, each a bbolt write (fsync).
func BenchmarkHold(b *testing.B) {
	root := b.TempDir()
	s, _ := Open(root)
	img := testImage(b, s, []string{"bench"}, mkTar(b, ent{name: "bin/", typ: tar.TypeDir, mode: 0o755}))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Hold(img.ID, "c"); err != nil {
			b.Fatal(err)
		}
		if err := s.Release(img.ID, "c"); err != nil {
			b.Fatal(err)
		}
	}
}
