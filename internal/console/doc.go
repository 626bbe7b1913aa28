// Package console relays a container's terminal to the caller's: the
// console socket a foreground run or exec gives init, the pty master it
// receives there, raw mode on the local terminal, window sizes. Used by
// the runtime's CLI (internal/cli) and the front end's (internal/hkcli).
package console
