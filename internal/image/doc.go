// Package image is hk's image store: content-addressed blobs
// (root/image/blobs/sha256/HEX), each layer unpacked once into a directory
// of its own (root/image/layers/DIFFHEX, keyed by the layer's uncompressed
// digest) and shared by every image that has it, and the metadata (images,
// names, holds) in a bbolt database (root/image/meta.db).
//
// It is linked by the lean hk in bin/hako, so it stays small: no registry
// client, no image-spec types, no go-digest (their initialisers would cost
// every runtime command; internal/hkexec). The payload (internal/hkimage)
// fetches and decodes; this package stores, unpacks and finds.
//
// Crash safety: a layer is unpacked into root/image/tmp and renamed into
// place whole; a blob is written to tmp and renamed; an image becomes
// visible only in the bbolt transaction that records it, after its
// layers and config are in place. Leftovers in tmp are removed by the next
// command that finds no other command working (the store lock).
//
// Concurrency: commands that add (pull, load, import) hold the store lock
// shared; those that delete layers or blobs (rmi, prune) hold it
// exclusive. The database is opened per transaction, so a long pull never
// keeps `images` or `run` waiting.
//
// Layer extraction (extract.go) resolves every name inside the layer's
// directory with openat2(RESOLVE_IN_ROOT): no entry, symlink or hard link
// of a layer can write outside it. Kernel: openat2 (5.6), overlayfs
// whiteouts as 0:0 character devices.
package image
