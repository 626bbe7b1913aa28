package initplan

import "testing"

func BenchmarkCompile(b *testing.B) {
	c := defaultConfig(b)
	for i := 0; i < b.N; i++ {
		if _, err := compileHere(c); err != nil {
			b.Fatal(err)
		}
	}
}
