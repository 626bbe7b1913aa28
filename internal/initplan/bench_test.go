package initplan

import "testing"

func BenchmarkCompile(b *testing.B) {
	c := defaultConfig(b)
	for i := 0; i < b.N; i++ {
		if _, err := Compile(c); err != nil {
			b.Fatal(err)
		}
	}
}
