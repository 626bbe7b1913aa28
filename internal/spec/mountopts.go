package spec

import (
	"strings"

	"golang.org/x/sys/unix"
)

// MountOptions is a parsed config.json mount option list. Options that are
// not mount(2) flags, propagation types, mount_setattr(2) attributes or
// runc extensions are filesystem data, passed as mount(2)'s data argument.
type MountOptions struct {
	Flags       uintptr   // MS_* to set
	ClearFlags  uintptr   // MS_* explicitly cleared ("rw", "suid", "dev", ...)
	Propagation []uintptr // MS_PRIVATE, MS_SHARED, ... (| MS_REC for r*), in order
	RecAttrSet  uint64    // MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE)
	RecAttrClr  uint64    // MOUNT_ATTR_* to clear recursively
	Data        []string  // filesystem options, e.g. "mode=755", "gid=5"
	IDMap       bool      // "idmap" or "ridmap"
	IDMapRec    bool      // "ridmap": idmap every mount of an rbind
	Recursive   bool      // "rbind"
	CopyUp      bool      // "tmpcopyup" (runc extension): copy the old content into a new tmpfs
}

type flagOpt struct {
	clear bool
	flag  uintptr
}

// mountFlags is runc's table (libcontainer/specconv mountFlags).
var mountFlags = map[string]flagOpt{
	"acl":           {false, unix.MS_POSIXACL},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"bind":          {false, unix.MS_BIND},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"iversion":      {false, unix.MS_I_VERSION},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"loud":          {true, unix.MS_SILENT},
	"mand":          {false, unix.MS_MANDLOCK},
	"noacl":         {true, unix.MS_POSIXACL},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"noiversion":    {true, unix.MS_I_VERSION},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"remount":       {false, unix.MS_REMOUNT},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"silent":        {false, unix.MS_SILENT},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"sync":          {false, unix.MS_SYNCHRONOUS},
}

var propagationFlags = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"shared":      unix.MS_SHARED,
	"slave":       unix.MS_SLAVE,
	"unbindable":  unix.MS_UNBINDABLE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

type attrOpt struct {
	clear bool
	attr  uint64
}

// recAttrs are runc's recursive mount_setattr(2) options (runc 1.1+).
var recAttrs = map[string]attrOpt{
	"rro":          {false, unix.MOUNT_ATTR_RDONLY},
	"rrw":          {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":      {false, unix.MOUNT_ATTR_NOSUID},
	"rsuid":        {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev":       {false, unix.MOUNT_ATTR_NODEV},
	"rdev":         {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec":      {false, unix.MOUNT_ATTR_NOEXEC},
	"rexec":        {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":  {false, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":    {true, unix.MOUNT_ATTR_NODIRATIME},
	"rnosymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":   {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rrelatime":    {false, unix.MOUNT_ATTR_RELATIME},
	"rnoatime":     {false, unix.MOUNT_ATTR_NOATIME},
	"rstrictatime": {false, unix.MOUNT_ATTR_STRICTATIME},
	// mount(8): norelatime means full atime updates, i.e. strictatime.
	"rnorelatime":    {false, unix.MOUNT_ATTR_STRICTATIME},
	"ratime":         {true, unix.MOUNT_ATTR_NOATIME},
	"rnostrictatime": {true, unix.MOUNT_ATTR_STRICTATIME},
}

// ParseMountOptions sorts opts into flags, propagation, recursive
// attributes and data. A later option wins over an earlier opposite one
// ("ro,rw" is rw), as with mount(8).
func ParseMountOptions(opts []string) MountOptions {
	var m MountOptions
	for _, o := range opts {
		m.add(o)
	}
	return m
}

func (m *MountOptions) add(o string) {
	if f, ok := mountFlags[o]; ok {
		m.addFlag(f)
		m.Recursive = m.Recursive || o == "rbind"
		return
	}
	if p, ok := propagationFlags[o]; ok {
		m.Propagation = append(m.Propagation, p)
		return
	}
	if a, ok := recAttrs[o]; ok {
		m.addAttr(a)
		return
	}
	switch o {
	case "":
	case "idmap":
		m.IDMap = true
	case "ridmap":
		m.IDMap, m.IDMapRec = true, true
	case "tmpcopyup":
		m.CopyUp = true
	default:
		m.Data = append(m.Data, o)
	}
}

func (m *MountOptions) addFlag(f flagOpt) {
	if f.clear {
		m.Flags &^= f.flag
		m.ClearFlags |= f.flag
		return
	}
	m.Flags |= f.flag
	m.ClearFlags &^= f.flag
}

// addAttr records a recursive attribute. The atime modes are one field, not
// bits (MOUNT_ATTR_RELATIME is 0): mount_setattr(2) changes it only when
// attr_clr has all of MOUNT_ATTR__ATIME, so setting one mode clears the field.
func (m *MountOptions) addAttr(a attrOpt) {
	atime := a.attr&unix.MOUNT_ATTR__ATIME != 0 || a.attr == unix.MOUNT_ATTR_RELATIME
	switch {
	case atime && !a.clear:
		m.RecAttrClr |= unix.MOUNT_ATTR__ATIME
		m.RecAttrSet = m.RecAttrSet&^unix.MOUNT_ATTR__ATIME | a.attr
	case atime:
		// "ratime", "rnostrictatime": back to the kernel default, relatime.
		m.RecAttrClr |= unix.MOUNT_ATTR__ATIME
		m.RecAttrSet &^= a.attr
	case a.clear:
		m.RecAttrSet &^= a.attr
		m.RecAttrClr |= a.attr
	default:
		m.RecAttrSet |= a.attr
		m.RecAttrClr &^= a.attr
	}
}

// DataString is the data argument for mount(2).
func (m MountOptions) DataString() string { return strings.Join(m.Data, ",") }
