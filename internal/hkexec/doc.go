// Package hkexec runs hk's payload (cmd/hk) from inside the hako binary.
//
// hako is one file with two faces, but some of the front end's libraries
// run costly package initialisers in every process that links them:
// go-digest alone compiles regular expressions for 0.7 ms, and the
// registry client, image formats and progress bars together cost +3 ms,
// +35 %, on every runtime command such as `hako state` (measured with
// farm-bench: docs/design.md, "Two names"). So the verbs that need them
// (hkcli.Delegated) are a program of their own, embedded here by `make
// build`; hako copies it into a sealed memfd and executes that, with
// HAKO_BIN naming hako's own path.
package hkexec
