// Package monitor runs hako-mon (c/hako-mon.c), the small C program that
// watches over one detached hk container as conmon does for podman: the
// subreaper parent of the container's init, holding its output pipes,
// writing the log (podman's k8s-file format, logfile.go) and the exit
// status, and running hk's `_exited` when init is gone. It is embedded
// in hako and executed from a sealed memfd, like hako-init.
//
// A foreground `hk run` needs no monitor: hk itself waits, with the same
// log format (Writer) and exit file (WriteExit).
package monitor
