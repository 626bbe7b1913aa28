// Package busyboximage builds the test image the end-to-end suites give to
// container engines and to hako: one uncompressed layer holding Debian's
// static busybox (busybox-static), its applet links and a passwd/group.
// No registry and no image tool is involved, so it works where there is no
// network, such as the systemd test VM (tests/systemd).
//
// Not for anything but tests: the image has a fixed creation time and no
// history.
package busyboximage
