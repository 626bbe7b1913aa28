package spec

import "sort"

// KnownMountOptions lists every mount option hako interprets itself (flags,
// propagation, recursive attributes), for `hako features`.
func KnownMountOptions() []string {
	var out []string
	for k := range mountFlags {
		out = append(out, k)
	}
	for k := range propagationFlags {
		out = append(out, k)
	}
	for k := range recAttrs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
