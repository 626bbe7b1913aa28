// Package hkimage has hk's verbs that bring images in and out of the
// store: pull, login, logout, load, save, import. They need the
// registry client and image formats (go-containerregistry), so they live
// in the payload (cmd/hk links this package; internal/hkexec explains
// why), never in bin/hako itself. The store is internal/image.
package hkimage
