package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/initplan"
	"hako/internal/namespaces"
	"hako/internal/spec"
	"hako/internal/userns"
)

// idmappedMounts makes each idmapped bind mount of the spec
// (initplan.IDMapped) before clone, as runc does, and returns them by
// index in spec.Mounts: a detached copy of the source
// (open_tree(OPEN_TREE_CLONE), the whole tree for rbind) given the ID
// mapping of a user namespace (mount_setattr(MOUNT_ATTR_IDMAP), to every
// mount of the tree for ridmap). Init moves it onto its target. The
// runtime makes it because the kernel grants MOUNT_ATTR_IDMAP only to a
// caller with CAP_SYS_ADMIN over the source's filesystem, which init,
// in the container's user namespace, does not have; a detached mount
// can be moved into any mount namespace its mover administers.
//
// The mapping is the mount's uidMappings/gidMappings, else the
// container's: its maps, or the user namespace it joins by path.
func (cr *creation) idmappedMounts() (_ map[int]*os.File, err error) {
	out := map[int]*os.File{}
	defer func() {
		if err != nil {
			for _, f := range out {
				f.Close()
			}
		}
	}()
	nss := map[string]*os.File{} // by mapping: one helper per distinct one
	defer func() {
		for _, f := range nss {
			f.Close()
		}
	}()
	for i := range cr.spec.Mounts {
		m := &cr.spec.Mounts[i]
		if !initplan.IDMapped(m) {
			continue
		}
		desc := initplan.MountDesc(m)
		if err := cr.idmapAllowed(m); err != nil {
			return nil, cr.rt.Log.Step("idmap", desc, func() error { return err })
		}
		ns, err := cr.idmapUserNS(m, nss)
		if err != nil {
			return nil, err
		}
		f, err := cr.idmapMount(m, desc, ns)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// idmapAllowed says why m cannot be idmapped (runc's rules).
func (cr *creation) idmapAllowed(m *specs.Mount) error {
	switch {
	case !initplan.IsBind(m):
		return errors.New("idmapped mounts are bind mounts only (give type bind or option rbind)")
	case cr.rt.Rootless:
		return errors.New("idmapped mounts need hako to run as root: mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the source's filesystem (runc refuses them rootless too)")
	case (len(m.UIDMappings) == 0) != (len(m.GIDMappings) == 0):
		return errors.New("an idmapped mount needs both uidMappings and gidMappings, or neither (then the container's are used)")
	case len(m.UIDMappings) == 0 && !namespaces.Contains(cr.spec.Linux.Namespaces, specs.UserNamespace):
		return errors.New("option idmap without uidMappings/gidMappings on the mount takes the container's user namespace, and it has none")
	}
	return nil
}

// idmapUserNS opens the user namespace whose mapping m takes: one made
// for the mapping (userns.NSFile, shared by mounts with the same one), or
// the one the container joins by path.
func (cr *creation) idmapUserNS(m *specs.Mount, made map[string]*os.File) (*os.File, error) {
	uids, gids := m.UIDMappings, m.GIDMappings
	if len(uids) == 0 {
		if p, _ := namespaces.PathOf(cr.spec.Linux.Namespaces, specs.UserNamespace); p != "" {
			var f *os.File
			err := cr.rt.Log.Step("open", p+" (the user namespace of idmapped "+m.Destination+")", func() (err error) {
				f, err = os.Open(p)
				return err
			})
			if f != nil {
				made[p+"\x00"+m.Destination] = f // closed with the others
			}
			return f, err
		}
		uids, gids = cr.spec.Linux.UIDMappings, cr.spec.Linux.GIDMappings
	}
	key := mapString(uids) + mapString(gids)
	if f, ok := made[key]; ok {
		return f, nil
	}
	var f *os.File
	err := cr.rt.Log.Step("userns", fmt.Sprintf("for idmapped mounts: uid_map %s, gid_map %s", mapString(uids), mapString(gids)), func() (err error) {
		f, err = userns.NSFile(uids, gids)
		return err
	})
	if err != nil {
		return nil, err
	}
	made[key] = f
	return f, nil
}

// idmapMount makes m's detached, idmapped copy of its source.
func (cr *creation) idmapMount(m *specs.Mount, desc string, ns *os.File) (*os.File, error) {
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(cr.bundle, src)
	}
	o := spec.ParseMountOptions(m.Options)
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	what := "open_tree(OPEN_TREE_CLONE)"
	if o.Flags&unix.MS_REC != 0 {
		flags |= unix.AT_RECURSIVE
		what = "open_tree(OPEN_TREE_CLONE|AT_RECURSIVE)"
	}
	fd := -1
	if err := cr.rt.Log.Step("open_tree", src+" "+what+" for "+desc, func() (err error) {
		fd, err = unix.OpenTree(unix.AT_FDCWD, src, flags)
		return err
	}); err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "idmapped "+m.Destination)
	set := uint(unix.AT_EMPTY_PATH)
	if o.IDMapRec {
		set |= unix.AT_RECURSIVE
	}
	err := cr.rt.Log.Step("mount_setattr", "MOUNT_ATTR_IDMAP on "+desc, func() error {
		err := unix.MountSetattr(fd, "", set, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns.Fd())})
		if err == unix.EINVAL {
			return fmt.Errorf("%w (the source's filesystem may not support idmapped mounts on this kernel, or it is idmapped already)", err)
		}
		return err
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
