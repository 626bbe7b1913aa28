package spec

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// This file is a hand-written decoder for specs.Spec. The first
// encoding/json decode in a process builds reflection caches for the whole
// specs.Spec type tree, which costs more than a whole warm decode many
// times over, and `hako run` decodes exactly one config. decodeFast is
// tried first; whenever it is not sure it gives up (ok=false) and Decode
// falls back to encoding/json, which produces the canonical result or the
// error with its position.
//
// When it reports ok, the result is exactly what encoding/json (v1)
// produces for the same input:
//   - object keys match a field's json name exactly, or else ASCII
//     case-insensitively; a key with any non-ASCII byte (after unescaping)
//     gives up, since encoding/json folds Unicode (U+017F 'ſ' matches "s",
//     U+212A, the Kelvin sign, matches "k");
//   - unknown keys are skipped, their values still validated;
//   - a repeated key decodes into what the earlier one left: objects merge
//     into the existing struct (through an existing pointer) or map, and
//     arrays reuse the existing slice's backing array, element by element
//     (reflect.Value.Grow keeps old[len:cap], so earlier elements beyond
//     the current length come back too);
//   - null sets pointers, slices, maps and interfaces to nil and leaves
//     structs, strings, numbers and bools alone, also as array elements;
//   - map values start from zero for each key; an empty array decodes to an
//     empty, non-nil slice;
//   - integers must be JSON integers (no fraction or exponent) within the
//     Go type's range, "-0" only for signed types; numbers in
//     Windows.CredentialSpec (an interface) are float64;
//   - strings decode every escape; a lone or unpaired surrogate escape and
//     invalid UTF-8 become U+FFFD as encoding/json makes them;
//   - nothing but JSON whitespace may follow the top-level value, and a
//     top-level null gives the zero Spec.
//
// Everything else (syntax errors, type mismatches, out-of-range numbers,
// nesting deeper than fastMaxDepth) gives up, so that the error message is
// encoding/json's.

// fastMaxDepth bounds nesting (encoding/json allows 10000); real configs
// nest less than 10 deep, so deeper input is simply left to encoding/json.
const fastMaxDepth = 1000

// fastFail is the panic value that unwinds a failed fast decode.
type fastFail struct{}

type fastDec struct {
	data  []byte
	str   string // string(data): strings without escapes are substrings of it (one copy of the config for all of them)
	pos   int
	depth int
	buf   []byte   // the last unescaped string or key
	strs  []string // strSliceInto's scratch
}

// decodeFast decodes a config.json into a specs.Spec without reflection.
// ok is false whenever the input is invalid or not certainly decoded as
// encoding/json would; the caller then falls back to encoding/json.
func decodeFast(data []byte) (s *specs.Spec, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, is := r.(fastFail); !is {
				panic(r)
			}
			s, ok = nil, false
		}
	}()
	d := &fastDec{data: data, str: string(data)}
	s = new(specs.Spec)
	d.spec(s)
	d.ws()
	if d.pos != len(d.data) {
		return nil, false
	}
	return s, true
}

func (d *fastDec) fail() {
	panic(fastFail{})
}

// ws skips JSON whitespace.
func (d *fastDec) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// next skips whitespace and returns the next byte without consuming it, or
// 0 at the end of the input.
func (d *fastDec) next() byte {
	d.ws()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// lit consumes the literal s (true, false or null).
func (d *fastDec) lit(s string) {
	if len(d.data)-d.pos < len(s) || string(d.data[d.pos:d.pos+len(s)]) != s {
		d.fail()
	}
	d.pos += len(s)
}

// null consumes a null literal if that is what comes next.
func (d *fastDec) null() bool {
	if d.next() == 'n' {
		d.lit("null")
		return true
	}
	return false
}

// open consumes the start of an array or object (opening byte c) and
// reports true, or consumes a null and reports false.
func (d *fastDec) open(c byte) bool {
	switch d.next() {
	case c:
		d.pos++
		d.depth++
		if d.depth > fastMaxDepth {
			d.fail()
		}
		return true
	case 'n':
		d.lit("null")
		return false
	}
	d.fail()
	return false
}

// more reports whether another element (or key) follows in the array or
// object closed by end, consuming the separating comma or the end. first
// is true before the first element.
func (d *fastDec) more(first *bool, end byte) bool {
	c := d.next()
	if c == end {
		// After a comma c is never end: "[1,]" and {"a":1,} fail in the
		// value or key that must follow it.
		d.pos++
		d.depth--
		return false
	}
	if *first {
		*first = false
		return true
	}
	if c != ',' {
		d.fail()
	}
	d.pos++
	return true
}

// parseString consumes a JSON string. If raw, its value is data[a:b];
// otherwise it had escapes or invalid UTF-8 and the value is in d.buf.
func (d *fastDec) parseString() (a, b int, raw bool) {
	if d.next() != '"' {
		d.fail()
	}
	data := d.data
	a = d.pos + 1
	for i := a; i < len(data); {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return a, i, true
		case c == '\\' || c < ' ':
			d.unquote(a, i)
			return a, 0, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				d.unquote(a, i)
				return a, 0, false
			}
			i += n
		}
	}
	d.fail()
	return 0, 0, false
}

// unquote decodes the string whose contents start at a into d.buf, i being
// the first byte that needs more than copying. It follows encoding/json's
// unquoteBytes, and its scanner for what is a syntax error.
func (d *fastDec) unquote(a, i int) {
	data := d.data
	buf := append(d.buf[:0], data[a:i]...)
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.buf = buf
			return
		case c == '\\':
			if i+1 >= len(data) {
				d.fail()
			}
			switch e := data[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r := hex4(data, i+2)
				if r < 0 {
					d.fail()
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
						r2 = hex4(data, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
				continue
			default:
				d.fail()
			}
			i += 2
		case c < ' ':
			d.fail()
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			// Invalid UTF-8 becomes U+FFFD, one per bad byte.
			r, n := utf8.DecodeRune(data[i:])
			buf = utf8.AppendRune(buf, r)
			i += n
		}
	}
	d.fail()
}

// hex4 parses the 4 hex digits at data[i:], or returns -1.
func hex4(data []byte, i int) rune {
	if i+4 > len(data) {
		return -1
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// string consumes a JSON string value.
func (d *fastDec) string() string {
	a, b, raw := d.parseString()
	if raw {
		return d.str[a:b]
	}
	return string(d.buf)
}

// colon consumes the ':' after an object key.
func (d *fastDec) colon() {
	if d.next() != ':' {
		d.fail()
	}
	d.pos++
}

// mapKey consumes an object key and its colon, for a map.
func (d *fastDec) mapKey() string {
	k := d.string()
	d.colon()
	return k
}

// field consumes an object key and its colon and returns the index in
// names (a struct's json names in field order) of the field it selects,
// or -1 for an unknown key.
func (d *fastDec) field(names []string) int {
	a, b, raw := d.parseString()
	k := d.buf
	if raw {
		k = d.data[a:b]
	}
	d.colon()
	for _, c := range k {
		if c >= utf8.RuneSelf {
			d.fail() // encoding/json folds Unicode; leave that to it
		}
	}
	for i, n := range names {
		if string(k) == n {
			return i
		}
	}
	for i, n := range names {
		if asciiEqualFold(k, n) {
			return i
		}
	}
	return -1
}

func asciiEqualFold(k []byte, n string) bool {
	if len(k) != len(n) {
		return false
	}
	for i := range len(k) {
		a, b := k[i], n[i]
		if a == b {
			continue
		}
		if a|0x20 != b|0x20 || a|0x20 < 'a' || a|0x20 > 'z' {
			return false
		}
	}
	return true
}

// number consumes a JSON number and returns its text; isInt means it has
// neither fraction nor exponent.
func (d *fastDec) number() (a, b int, isInt bool) {
	d.ws()
	data := d.data
	a = d.pos
	i := a
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	default:
		d.fail()
	}
	isInt = true
	if i < len(data) && data[i] == '.' {
		isInt = false
		i++
		j := i
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		if i == j {
			d.fail()
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		isInt = false
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := i
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		if i == j {
			d.fail()
		}
	}
	d.pos = i
	return a, i, isInt
}

// integer consumes a JSON integer and returns its magnitude and sign, as
// strconv.ParseInt and ParseUint would accept it.
func (d *fastDec) integer() (u uint64, neg bool) {
	a, b, isInt := d.number()
	if !isInt {
		d.fail()
	}
	if d.data[a] == '-' {
		neg = true
		a++
	}
	for _, c := range d.data[a:b] {
		dig := uint64(c - '0')
		if u > (1<<64-1-dig)/10 {
			d.fail() // out of uint64 range
		}
		u = u*10 + dig
	}
	return u, neg
}

func (d *fastDec) uint64v() uint64 {
	u, neg := d.integer()
	if neg {
		d.fail() // ParseUint rejects any sign, even "-0"
	}
	return u
}

func (d *fastDec) int64v() int64 {
	u, neg := d.integer()
	if neg {
		if u > 1<<63 {
			d.fail()
		}
		return int64(-u)
	}
	if u > 1<<63-1 {
		d.fail()
	}
	return int64(u)
}

type fastUint interface {
	~uint | ~uint16 | ~uint32 | ~uint64
}

type fastInt interface {
	~int | ~int32 | ~int64
}

func uintVal[T fastUint](d *fastDec) T {
	u := d.uint64v()
	if uint64(T(u)) != u {
		d.fail()
	}
	return T(u)
}

func intVal[T fastInt](d *fastDec) T {
	v := d.int64v()
	if int64(T(v)) != v {
		d.fail()
	}
	return T(v)
}

func uintInto[T fastUint](d *fastDec, p *T) {
	if !d.null() {
		*p = uintVal[T](d)
	}
}

func intInto[T fastInt](d *fastDec, p *T) {
	if !d.null() {
		*p = intVal[T](d)
	}
}

func uintPtr[T fastUint](d *fastDec, p **T) {
	if d.null() {
		*p = nil
		return
	}
	v := uintVal[T](d)
	if *p == nil {
		*p = new(T)
	}
	**p = v
}

func intPtr[T fastInt](d *fastDec, p **T) {
	if d.null() {
		*p = nil
		return
	}
	v := intVal[T](d)
	if *p == nil {
		*p = new(T)
	}
	**p = v
}

func (d *fastDec) boolVal() bool {
	switch d.next() {
	case 't':
		d.lit("true")
		return true
	case 'f':
		d.lit("false")
		return false
	}
	d.fail()
	return false
}

func boolInto(d *fastDec, p *bool) {
	if !d.null() {
		*p = d.boolVal()
	}
}

func boolPtr(d *fastDec, p **bool) {
	if d.null() {
		*p = nil
		return
	}
	v := d.boolVal()
	if *p == nil {
		*p = new(bool)
	}
	**p = v
}

func strInto[T ~string](d *fastDec, p *T) {
	if !d.null() {
		*p = T(d.string())
	}
}

// ptrInto decodes an object into *p, allocating it if nil (and merging
// into it if not), or sets *p to nil for null.
func ptrInto[T any](d *fastDec, p **T, f func(*fastDec, *T)) {
	if d.null() {
		*p = nil
		return
	}
	if *p == nil {
		*p = new(T)
	}
	f(d, *p)
}

// sliceInto decodes an array into *p the way encoding/json does: elements
// are decoded into the existing backing array, including what lies beyond
// len(*p) up to its capacity.
func sliceInto[T any](d *fastDec, p *[]T, elem func(*fastDec, *T)) {
	if !d.open('[') {
		*p = nil
		return
	}
	s := (*p)[:0]
	for first := true; d.more(&first, ']'); {
		switch {
		case len(s) < cap(s):
			s = s[:len(s)+1]
		case cap(s) == 0:
			s = make([]T, 1, 4) // skip growing through 1 and 2
		default:
			var zero T
			s = append(s, zero)
		}
		elem(d, &s[len(s)-1])
	}
	if len(s) == 0 {
		s = []T{}
	}
	*p = s
}

// strSliceInto is sliceInto for strings. Into a slice with no backing
// array to reuse, it collects the strings first and allocates once.
func strSliceInto[T ~string](d *fastDec, p *[]T) {
	if cap(*p) != 0 {
		sliceInto(d, p, strInto[T])
		return
	}
	if !d.open('[') {
		*p = nil
		return
	}
	strs := d.strs[:0]
	for first := true; d.more(&first, ']'); {
		if d.null() {
			strs = append(strs, "") // null leaves the new element zero
		} else {
			strs = append(strs, d.string())
		}
	}
	s := make([]T, len(strs)) // never nil, as encoding/json's []
	for i, v := range strs {
		s[i] = T(v)
	}
	clear(strs)
	d.strs = strs[:0]
	*p = s
}

// mapInto decodes an object into *p, making the map if nil; each value
// starts from zero.
func mapInto[V any](d *fastDec, p *map[string]V, elem func(*fastDec, *V)) {
	if !d.open('{') {
		*p = nil
		return
	}
	m := *p
	if m == nil {
		m = make(map[string]V)
		*p = m
	}
	for first := true; d.more(&first, '}'); {
		k := d.mapKey()
		var v V
		elem(d, &v)
		m[k] = v
	}
}

// skip consumes and validates any JSON value.
func (d *fastDec) skip() {
	switch d.next() {
	case '{':
		d.open('{')
		for first := true; d.more(&first, '}'); {
			d.parseString()
			d.colon()
			d.skip()
		}
	case '[':
		d.open('[')
		for first := true; d.more(&first, ']'); {
			d.skip()
		}
	case '"':
		d.parseString()
	case 't':
		d.lit("true")
	case 'f':
		d.lit("false")
	case 'n':
		d.lit("null")
	default:
		d.number()
	}
}

// anyVal decodes any JSON value as encoding/json does into an interface{}.
func (d *fastDec) anyVal() any {
	switch d.next() {
	case '{':
		d.open('{')
		m := make(map[string]any)
		for first := true; d.more(&first, '}'); {
			k := d.mapKey()
			m[k] = d.anyVal()
		}
		return m
	case '[':
		d.open('[')
		s := make([]any, 0)
		for first := true; d.more(&first, ']'); {
			s = append(s, d.anyVal())
		}
		return s
	case '"':
		return d.string()
	case 't', 'f':
		return d.boolVal()
	case 'n':
		d.lit("null")
		return nil
	}
	a, b, _ := d.number()
	f, err := strconv.ParseFloat(d.str[a:b], 64)
	if err != nil {
		d.fail()
	}
	return f
}

func anyInto(d *fastDec, p *any) {
	if d.null() {
		*p = nil
		return
	}
	*p = d.anyVal()
}

// The json names of each struct's fields, in field order (encoding/json
// breaks case-insensitive ties by field order). decode_fast_test.go checks
// them against the struct tags.
var (
	specNames              = [...]string{"ociVersion", "process", "root", "hostname", "domainname", "mounts", "hooks", "annotations", "linux", "solaris", "windows", "vm", "zos", "freebsd"}
	schedulerNames         = [...]string{"policy", "nice", "priority", "flags", "runtime", "deadline", "period"}
	processNames           = [...]string{"terminal", "consoleSize", "user", "args", "commandLine", "env", "cwd", "capabilities", "rlimits", "noNewPrivileges", "apparmorProfile", "oomScoreAdj", "scheduler", "selinuxLabel", "ioPriority", "execCPUAffinity"}
	capabilitiesNames      = [...]string{"bounding", "effective", "inheritable", "permitted", "ambient"}
	ioPriorityNames        = [...]string{"class", "priority"}
	cpuAffinityNames       = [...]string{"initial", "final"}
	boxNames               = [...]string{"height", "width"}
	userNames              = [...]string{"uid", "gid", "umask", "additionalGids", "username"}
	rootNames              = [...]string{"path", "readonly"}
	mountNames             = [...]string{"destination", "type", "source", "options", "uidMappings", "gidMappings"}
	hookNames              = [...]string{"path", "args", "env", "timeout"}
	hooksNames             = [...]string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
	linuxNames             = [...]string{"uidMappings", "gidMappings", "sysctl", "resources", "cgroupsPath", "namespaces", "devices", "netDevices", "seccomp", "rootfsPropagation", "maskedPaths", "readonlyPaths", "mountLabel", "intelRdt", "memoryPolicy", "personality", "timeOffsets"}
	namespaceNames         = [...]string{"type", "path"}
	idMappingNames         = [...]string{"containerID", "hostID", "size"}
	timeOffsetNames        = [...]string{"secs", "nanosecs"}
	rlimitNames            = [...]string{"type", "hard", "soft"}
	hugepageLimitNames     = [...]string{"pageSize", "limit"}
	interfacePriorityNames = [...]string{"name", "priority"}
	weightDeviceNames      = [...]string{"major", "minor", "weight", "leafWeight"}
	throttleDeviceNames    = [...]string{"major", "minor", "rate"}
	blockIONames           = [...]string{"weight", "leafWeight", "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice"}
	memoryNames            = [...]string{"limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness", "disableOOMKiller", "useHierarchy", "checkBeforeUpdate"}
	cpuNames               = [...]string{"shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems", "idle"}
	pidsNames              = [...]string{"limit"}
	networkNames           = [...]string{"classID", "priorities"}
	rdmaNames              = [...]string{"hcaHandles", "hcaObjects"}
	resourcesNames         = [...]string{"devices", "memory", "cpu", "pids", "blockIO", "hugepageLimits", "network", "rdma", "unified"}
	deviceNames            = [...]string{"path", "type", "major", "minor", "fileMode", "uid", "gid"}
	netDeviceNames         = [...]string{"name"}
	deviceCgroupNames      = [...]string{"allow", "type", "major", "minor", "access"}
	personalityNames       = [...]string{"domain", "flags"}
	solarisNames           = [...]string{"milestone", "limitpriv", "maxShmMemory", "anet", "cappedCPU", "cappedMemory"}
	solarisCappedCPUNames  = [...]string{"ncpus"}
	solarisCappedMemNames  = [...]string{"physical", "swap"}
	solarisAnetNames       = [...]string{"linkname", "lowerLink", "allowedAddress", "configureAllowedAddress", "defrouter", "linkProtection", "macAddress"}
	windowsNames           = [...]string{"layerFolders", "devices", "resources", "credentialSpec", "servicing", "ignoreFlushesDuringBoot", "hyperv", "network"}
	windowsDeviceNames     = [...]string{"id", "idType"}
	windowsResourcesNames  = [...]string{"memory", "cpu", "storage"}
	windowsMemoryNames     = [...]string{"limit"}
	windowsCPUNames        = [...]string{"count", "shares", "maximum", "affinity"}
	windowsAffinityNames   = [...]string{"mask", "group"}
	windowsStorageNames    = [...]string{"iops", "bps", "sandboxSize"}
	windowsNetworkNames    = [...]string{"endpointList", "allowUnqualifiedDNSQuery", "DNSSearchList", "networkSharedContainerName", "networkNamespace"}
	windowsHyperVNames     = [...]string{"utilityVMPath"}
	ioMemsNames            = [...]string{"firstGFN", "firstMFN", "nrMFNs"}
	hwConfigNames          = [...]string{"deviceTree", "vcpus", "memory", "dtdevs", "iomems", "irqs"}
	vmNames                = [...]string{"hypervisor", "kernel", "image", "hwconfig"}
	vmHypervisorNames      = [...]string{"path", "parameters"}
	vmKernelNames          = [...]string{"path", "parameters", "initrd"}
	vmImageNames           = [...]string{"path", "format"}
	seccompNames           = [...]string{"defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath", "listenerMetadata", "syscalls"}
	seccompArgNames        = [...]string{"index", "value", "valueTwo", "op"}
	syscallNames           = [...]string{"names", "action", "errnoRet", "args"}
	intelRdtNames          = [...]string{"closID", "schemata", "l3CacheSchema", "memBwSchema", "enableMonitoring"}
	memoryPolicyNames      = [...]string{"mode", "nodes", "flags"}
	zosNames               = [...]string{"namespaces"}
	zosNamespaceNames      = [...]string{"type", "path"}
	freeBSDNames           = [...]string{"devices", "jail"}
	freeBSDDeviceNames     = [...]string{"path", "mode"}
	freeBSDJailNames       = [...]string{"parent", "host", "ip4", "ip4Addr", "ip6", "ip6Addr", "vnet", "interface", "vnetInterfaces", "sysvmsg", "sysvsem", "sysvshm", "enforceStatfs", "allow"}
	freeBSDJailAllowNames  = [...]string{"setHostname", "rawSockets", "chflags", "mount", "quotas", "socketAf", "mlock", "reservedPorts", "suser"}
)

// Each struct decoder takes the value (an object or null) at d.pos and
// decodes it into *p; null leaves *p alone.

func (d *fastDec) spec(p *specs.Spec) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(specNames[:]) {
		case 0:
			strInto(d, &p.Version)
		case 1:
			ptrInto(d, &p.Process, (*fastDec).process)
		case 2:
			ptrInto(d, &p.Root, (*fastDec).root)
		case 3:
			strInto(d, &p.Hostname)
		case 4:
			strInto(d, &p.Domainname)
		case 5:
			sliceInto(d, &p.Mounts, (*fastDec).mount)
		case 6:
			ptrInto(d, &p.Hooks, (*fastDec).hooks)
		case 7:
			mapInto(d, &p.Annotations, strInto[string])
		case 8:
			ptrInto(d, &p.Linux, (*fastDec).linux)
		case 9:
			ptrInto(d, &p.Solaris, (*fastDec).solaris)
		case 10:
			ptrInto(d, &p.Windows, (*fastDec).windows)
		case 11:
			ptrInto(d, &p.VM, (*fastDec).vm)
		case 12:
			ptrInto(d, &p.ZOS, (*fastDec).zos)
		case 13:
			ptrInto(d, &p.FreeBSD, (*fastDec).freeBSD)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) scheduler(p *specs.Scheduler) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(schedulerNames[:]) {
		case 0:
			strInto(d, &p.Policy)
		case 1:
			intInto(d, &p.Nice)
		case 2:
			intInto(d, &p.Priority)
		case 3:
			strSliceInto(d, &p.Flags)
		case 4:
			uintInto(d, &p.Runtime)
		case 5:
			uintInto(d, &p.Deadline)
		case 6:
			uintInto(d, &p.Period)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) process(p *specs.Process) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(processNames[:]) {
		case 0:
			boolInto(d, &p.Terminal)
		case 1:
			ptrInto(d, &p.ConsoleSize, (*fastDec).box)
		case 2:
			d.user(&p.User)
		case 3:
			strSliceInto(d, &p.Args)
		case 4:
			strInto(d, &p.CommandLine)
		case 5:
			strSliceInto(d, &p.Env)
		case 6:
			strInto(d, &p.Cwd)
		case 7:
			ptrInto(d, &p.Capabilities, (*fastDec).capabilities)
		case 8:
			sliceInto(d, &p.Rlimits, (*fastDec).rlimit)
		case 9:
			boolInto(d, &p.NoNewPrivileges)
		case 10:
			strInto(d, &p.ApparmorProfile)
		case 11:
			intPtr(d, &p.OOMScoreAdj)
		case 12:
			ptrInto(d, &p.Scheduler, (*fastDec).scheduler)
		case 13:
			strInto(d, &p.SelinuxLabel)
		case 14:
			ptrInto(d, &p.IOPriority, (*fastDec).ioPriority)
		case 15:
			ptrInto(d, &p.ExecCPUAffinity, (*fastDec).cpuAffinity)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) capabilities(p *specs.LinuxCapabilities) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(capabilitiesNames[:]) {
		case 0:
			strSliceInto(d, &p.Bounding)
		case 1:
			strSliceInto(d, &p.Effective)
		case 2:
			strSliceInto(d, &p.Inheritable)
		case 3:
			strSliceInto(d, &p.Permitted)
		case 4:
			strSliceInto(d, &p.Ambient)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) ioPriority(p *specs.LinuxIOPriority) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(ioPriorityNames[:]) {
		case 0:
			strInto(d, &p.Class)
		case 1:
			intInto(d, &p.Priority)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) cpuAffinity(p *specs.CPUAffinity) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(cpuAffinityNames[:]) {
		case 0:
			strInto(d, &p.Initial)
		case 1:
			strInto(d, &p.Final)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) box(p *specs.Box) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(boxNames[:]) {
		case 0:
			uintInto(d, &p.Height)
		case 1:
			uintInto(d, &p.Width)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) user(p *specs.User) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(userNames[:]) {
		case 0:
			uintInto(d, &p.UID)
		case 1:
			uintInto(d, &p.GID)
		case 2:
			uintPtr(d, &p.Umask)
		case 3:
			sliceInto(d, &p.AdditionalGids, uintInto[uint32])
		case 4:
			strInto(d, &p.Username)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) root(p *specs.Root) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(rootNames[:]) {
		case 0:
			strInto(d, &p.Path)
		case 1:
			boolInto(d, &p.Readonly)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) mount(p *specs.Mount) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(mountNames[:]) {
		case 0:
			strInto(d, &p.Destination)
		case 1:
			strInto(d, &p.Type)
		case 2:
			strInto(d, &p.Source)
		case 3:
			strSliceInto(d, &p.Options)
		case 4:
			sliceInto(d, &p.UIDMappings, (*fastDec).idMapping)
		case 5:
			sliceInto(d, &p.GIDMappings, (*fastDec).idMapping)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) hook(p *specs.Hook) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(hookNames[:]) {
		case 0:
			strInto(d, &p.Path)
		case 1:
			strSliceInto(d, &p.Args)
		case 2:
			strSliceInto(d, &p.Env)
		case 3:
			intPtr(d, &p.Timeout)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) hooks(p *specs.Hooks) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(hooksNames[:]) {
		case 0:
			//lint:ignore SA1019 deprecated but still part of the spec
			sliceInto(d, &p.Prestart, (*fastDec).hook)
		case 1:
			sliceInto(d, &p.CreateRuntime, (*fastDec).hook)
		case 2:
			sliceInto(d, &p.CreateContainer, (*fastDec).hook)
		case 3:
			sliceInto(d, &p.StartContainer, (*fastDec).hook)
		case 4:
			sliceInto(d, &p.Poststart, (*fastDec).hook)
		case 5:
			sliceInto(d, &p.Poststop, (*fastDec).hook)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) linux(p *specs.Linux) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(linuxNames[:]) {
		case 0:
			sliceInto(d, &p.UIDMappings, (*fastDec).idMapping)
		case 1:
			sliceInto(d, &p.GIDMappings, (*fastDec).idMapping)
		case 2:
			mapInto(d, &p.Sysctl, strInto[string])
		case 3:
			ptrInto(d, &p.Resources, (*fastDec).resources)
		case 4:
			strInto(d, &p.CgroupsPath)
		case 5:
			sliceInto(d, &p.Namespaces, (*fastDec).namespace)
		case 6:
			sliceInto(d, &p.Devices, (*fastDec).device)
		case 7:
			mapInto(d, &p.NetDevices, (*fastDec).netDevice)
		case 8:
			ptrInto(d, &p.Seccomp, (*fastDec).seccomp)
		case 9:
			strInto(d, &p.RootfsPropagation)
		case 10:
			strSliceInto(d, &p.MaskedPaths)
		case 11:
			strSliceInto(d, &p.ReadonlyPaths)
		case 12:
			strInto(d, &p.MountLabel)
		case 13:
			ptrInto(d, &p.IntelRdt, (*fastDec).intelRdt)
		case 14:
			ptrInto(d, &p.MemoryPolicy, (*fastDec).memoryPolicy)
		case 15:
			ptrInto(d, &p.Personality, (*fastDec).personality)
		case 16:
			mapInto(d, &p.TimeOffsets, (*fastDec).timeOffset)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) namespace(p *specs.LinuxNamespace) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(namespaceNames[:]) {
		case 0:
			strInto(d, &p.Type)
		case 1:
			strInto(d, &p.Path)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) idMapping(p *specs.LinuxIDMapping) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(idMappingNames[:]) {
		case 0:
			uintInto(d, &p.ContainerID)
		case 1:
			uintInto(d, &p.HostID)
		case 2:
			uintInto(d, &p.Size)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) timeOffset(p *specs.LinuxTimeOffset) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(timeOffsetNames[:]) {
		case 0:
			intInto(d, &p.Secs)
		case 1:
			uintInto(d, &p.Nanosecs)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) rlimit(p *specs.POSIXRlimit) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(rlimitNames[:]) {
		case 0:
			strInto(d, &p.Type)
		case 1:
			uintInto(d, &p.Hard)
		case 2:
			uintInto(d, &p.Soft)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) hugepageLimit(p *specs.LinuxHugepageLimit) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(hugepageLimitNames[:]) {
		case 0:
			strInto(d, &p.Pagesize)
		case 1:
			uintInto(d, &p.Limit)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) interfacePriority(p *specs.LinuxInterfacePriority) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(interfacePriorityNames[:]) {
		case 0:
			strInto(d, &p.Name)
		case 1:
			uintInto(d, &p.Priority)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) weightDevice(p *specs.LinuxWeightDevice) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(weightDeviceNames[:]) {
		case 0:
			intInto(d, &p.Major)
		case 1:
			intInto(d, &p.Minor)
		case 2:
			uintPtr(d, &p.Weight)
		case 3:
			uintPtr(d, &p.LeafWeight)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) throttleDevice(p *specs.LinuxThrottleDevice) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(throttleDeviceNames[:]) {
		case 0:
			intInto(d, &p.Major)
		case 1:
			intInto(d, &p.Minor)
		case 2:
			uintInto(d, &p.Rate)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) blockIO(p *specs.LinuxBlockIO) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(blockIONames[:]) {
		case 0:
			uintPtr(d, &p.Weight)
		case 1:
			uintPtr(d, &p.LeafWeight)
		case 2:
			sliceInto(d, &p.WeightDevice, (*fastDec).weightDevice)
		case 3:
			sliceInto(d, &p.ThrottleReadBpsDevice, (*fastDec).throttleDevice)
		case 4:
			sliceInto(d, &p.ThrottleWriteBpsDevice, (*fastDec).throttleDevice)
		case 5:
			sliceInto(d, &p.ThrottleReadIOPSDevice, (*fastDec).throttleDevice)
		case 6:
			sliceInto(d, &p.ThrottleWriteIOPSDevice, (*fastDec).throttleDevice)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) memory(p *specs.LinuxMemory) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(memoryNames[:]) {
		case 0:
			intPtr(d, &p.Limit)
		case 1:
			intPtr(d, &p.Reservation)
		case 2:
			intPtr(d, &p.Swap)
		case 3:
			//lint:ignore SA1019 deprecated but still part of the spec
			intPtr(d, &p.Kernel)
		case 4:
			intPtr(d, &p.KernelTCP)
		case 5:
			uintPtr(d, &p.Swappiness)
		case 6:
			boolPtr(d, &p.DisableOOMKiller)
		case 7:
			boolPtr(d, &p.UseHierarchy)
		case 8:
			boolPtr(d, &p.CheckBeforeUpdate)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) cpu(p *specs.LinuxCPU) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(cpuNames[:]) {
		case 0:
			uintPtr(d, &p.Shares)
		case 1:
			intPtr(d, &p.Quota)
		case 2:
			uintPtr(d, &p.Burst)
		case 3:
			uintPtr(d, &p.Period)
		case 4:
			intPtr(d, &p.RealtimeRuntime)
		case 5:
			uintPtr(d, &p.RealtimePeriod)
		case 6:
			strInto(d, &p.Cpus)
		case 7:
			strInto(d, &p.Mems)
		case 8:
			intPtr(d, &p.Idle)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) pids(p *specs.LinuxPids) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(pidsNames[:]) {
		case 0:
			intPtr(d, &p.Limit)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) network(p *specs.LinuxNetwork) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(networkNames[:]) {
		case 0:
			uintPtr(d, &p.ClassID)
		case 1:
			sliceInto(d, &p.Priorities, (*fastDec).interfacePriority)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) rdma(p *specs.LinuxRdma) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(rdmaNames[:]) {
		case 0:
			uintPtr(d, &p.HcaHandles)
		case 1:
			uintPtr(d, &p.HcaObjects)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) resources(p *specs.LinuxResources) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(resourcesNames[:]) {
		case 0:
			sliceInto(d, &p.Devices, (*fastDec).deviceCgroup)
		case 1:
			ptrInto(d, &p.Memory, (*fastDec).memory)
		case 2:
			ptrInto(d, &p.CPU, (*fastDec).cpu)
		case 3:
			ptrInto(d, &p.Pids, (*fastDec).pids)
		case 4:
			ptrInto(d, &p.BlockIO, (*fastDec).blockIO)
		case 5:
			sliceInto(d, &p.HugepageLimits, (*fastDec).hugepageLimit)
		case 6:
			ptrInto(d, &p.Network, (*fastDec).network)
		case 7:
			mapInto(d, &p.Rdma, (*fastDec).rdma)
		case 8:
			mapInto(d, &p.Unified, strInto[string])
		default:
			d.skip()
		}
	}
}

func (d *fastDec) device(p *specs.LinuxDevice) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(deviceNames[:]) {
		case 0:
			strInto(d, &p.Path)
		case 1:
			strInto(d, &p.Type)
		case 2:
			intInto(d, &p.Major)
		case 3:
			intInto(d, &p.Minor)
		case 4:
			uintPtr(d, &p.FileMode)
		case 5:
			uintPtr(d, &p.UID)
		case 6:
			uintPtr(d, &p.GID)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) netDevice(p *specs.LinuxNetDevice) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(netDeviceNames[:]) {
		case 0:
			strInto(d, &p.Name)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) deviceCgroup(p *specs.LinuxDeviceCgroup) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(deviceCgroupNames[:]) {
		case 0:
			boolInto(d, &p.Allow)
		case 1:
			strInto(d, &p.Type)
		case 2:
			intPtr(d, &p.Major)
		case 3:
			intPtr(d, &p.Minor)
		case 4:
			strInto(d, &p.Access)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) personality(p *specs.LinuxPersonality) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(personalityNames[:]) {
		case 0:
			strInto(d, &p.Domain)
		case 1:
			strSliceInto(d, &p.Flags)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) seccomp(p *specs.LinuxSeccomp) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(seccompNames[:]) {
		case 0:
			strInto(d, &p.DefaultAction)
		case 1:
			uintPtr(d, &p.DefaultErrnoRet)
		case 2:
			strSliceInto(d, &p.Architectures)
		case 3:
			strSliceInto(d, &p.Flags)
		case 4:
			strInto(d, &p.ListenerPath)
		case 5:
			strInto(d, &p.ListenerMetadata)
		case 6:
			sliceInto(d, &p.Syscalls, (*fastDec).syscall)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) seccompArg(p *specs.LinuxSeccompArg) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(seccompArgNames[:]) {
		case 0:
			uintInto(d, &p.Index)
		case 1:
			uintInto(d, &p.Value)
		case 2:
			uintInto(d, &p.ValueTwo)
		case 3:
			strInto(d, &p.Op)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) syscall(p *specs.LinuxSyscall) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(syscallNames[:]) {
		case 0:
			strSliceInto(d, &p.Names)
		case 1:
			strInto(d, &p.Action)
		case 2:
			uintPtr(d, &p.ErrnoRet)
		case 3:
			sliceInto(d, &p.Args, (*fastDec).seccompArg)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) intelRdt(p *specs.LinuxIntelRdt) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(intelRdtNames[:]) {
		case 0:
			strInto(d, &p.ClosID)
		case 1:
			strSliceInto(d, &p.Schemata)
		case 2:
			strInto(d, &p.L3CacheSchema)
		case 3:
			strInto(d, &p.MemBwSchema)
		case 4:
			boolInto(d, &p.EnableMonitoring)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) memoryPolicy(p *specs.LinuxMemoryPolicy) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(memoryPolicyNames[:]) {
		case 0:
			strInto(d, &p.Mode)
		case 1:
			strInto(d, &p.Nodes)
		case 2:
			strSliceInto(d, &p.Flags)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) solaris(p *specs.Solaris) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(solarisNames[:]) {
		case 0:
			strInto(d, &p.Milestone)
		case 1:
			strInto(d, &p.LimitPriv)
		case 2:
			strInto(d, &p.MaxShmMemory)
		case 3:
			sliceInto(d, &p.Anet, (*fastDec).solarisAnet)
		case 4:
			ptrInto(d, &p.CappedCPU, (*fastDec).solarisCappedCPU)
		case 5:
			ptrInto(d, &p.CappedMemory, (*fastDec).solarisCappedMemory)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) solarisCappedCPU(p *specs.SolarisCappedCPU) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(solarisCappedCPUNames[:]) {
		case 0:
			strInto(d, &p.Ncpus)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) solarisCappedMemory(p *specs.SolarisCappedMemory) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(solarisCappedMemNames[:]) {
		case 0:
			strInto(d, &p.Physical)
		case 1:
			strInto(d, &p.Swap)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) solarisAnet(p *specs.SolarisAnet) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(solarisAnetNames[:]) {
		case 0:
			strInto(d, &p.Linkname)
		case 1:
			strInto(d, &p.Lowerlink)
		case 2:
			strInto(d, &p.Allowedaddr)
		case 3:
			strInto(d, &p.Configallowedaddr)
		case 4:
			strInto(d, &p.Defrouter)
		case 5:
			strInto(d, &p.Linkprotection)
		case 6:
			strInto(d, &p.Macaddress)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) windows(p *specs.Windows) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(windowsNames[:]) {
		case 0:
			strSliceInto(d, &p.LayerFolders)
		case 1:
			sliceInto(d, &p.Devices, (*fastDec).windowsDevice)
		case 2:
			ptrInto(d, &p.Resources, (*fastDec).windowsResources)
		case 3:
			anyInto(d, &p.CredentialSpec)
		case 4:
			boolInto(d, &p.Servicing)
		case 5:
			boolInto(d, &p.IgnoreFlushesDuringBoot)
		case 6:
			ptrInto(d, &p.HyperV, (*fastDec).windowsHyperV)
		case 7:
			ptrInto(d, &p.Network, (*fastDec).windowsNetwork)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) windowsDevice(p *specs.WindowsDevice) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(windowsDeviceNames[:]) {
		case 0:
			strInto(d, &p.ID)
		case 1:
			strInto(d, &p.IDType)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) windowsResources(p *specs.WindowsResources) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(windowsResourcesNames[:]) {
		case 0:
			ptrInto(d, &p.Memory, (*fastDec).windowsMemory)
		case 1:
			ptrInto(d, &p.CPU, (*fastDec).windowsCPU)
		case 2:
			ptrInto(d, &p.Storage, (*fastDec).windowsStorage)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) windowsMemory(p *specs.WindowsMemoryResources) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(windowsMemoryNames[:]) {
		case 0:
			uintPtr(d, &p.Limit)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) windowsCPU(p *specs.WindowsCPUResources) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(windowsCPUNames[:]) {
		case 0:
			uintPtr(d, &p.Count)
		case 1:
			uintPtr(d, &p.Shares)
		case 2:
			uintPtr(d, &p.Maximum)
		case 3:
			sliceInto(d, &p.Affinity, (*fastDec).windowsAffinity)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) windowsAffinity(p *specs.WindowsCPUGroupAffinity) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(windowsAffinityNames[:]) {
		case 0:
			uintInto(d, &p.Mask)
		case 1:
			uintInto(d, &p.Group)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) windowsStorage(p *specs.WindowsStorageResources) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(windowsStorageNames[:]) {
		case 0:
			uintPtr(d, &p.Iops)
		case 1:
			uintPtr(d, &p.Bps)
		case 2:
			uintPtr(d, &p.SandboxSize)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) windowsNetwork(p *specs.WindowsNetwork) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(windowsNetworkNames[:]) {
		case 0:
			strSliceInto(d, &p.EndpointList)
		case 1:
			boolInto(d, &p.AllowUnqualifiedDNSQuery)
		case 2:
			strSliceInto(d, &p.DNSSearchList)
		case 3:
			strInto(d, &p.NetworkSharedContainerName)
		case 4:
			strInto(d, &p.NetworkNamespace)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) windowsHyperV(p *specs.WindowsHyperV) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(windowsHyperVNames[:]) {
		case 0:
			strInto(d, &p.UtilityVMPath)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) ioMems(p *specs.IOMems) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(ioMemsNames[:]) {
		case 0:
			uintPtr(d, &p.FirstGFN)
		case 1:
			uintPtr(d, &p.FirstMFN)
		case 2:
			uintPtr(d, &p.NrMFNs)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) hwConfig(p *specs.HWConfig) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(hwConfigNames[:]) {
		case 0:
			strInto(d, &p.DeviceTree)
		case 1:
			uintPtr(d, &p.VCPUs)
		case 2:
			uintPtr(d, &p.Memory)
		case 3:
			strSliceInto(d, &p.DtDevs)
		case 4:
			sliceInto(d, &p.IOMems, (*fastDec).ioMems)
		case 5:
			sliceInto(d, &p.Irqs, uintInto[uint32])
		default:
			d.skip()
		}
	}
}

func (d *fastDec) vm(p *specs.VM) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(vmNames[:]) {
		case 0:
			d.vmHypervisor(&p.Hypervisor)
		case 1:
			d.vmKernel(&p.Kernel)
		case 2:
			d.vmImage(&p.Image)
		case 3:
			ptrInto(d, &p.HwConfig, (*fastDec).hwConfig)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) vmHypervisor(p *specs.VMHypervisor) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(vmHypervisorNames[:]) {
		case 0:
			strInto(d, &p.Path)
		case 1:
			strSliceInto(d, &p.Parameters)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) vmKernel(p *specs.VMKernel) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(vmKernelNames[:]) {
		case 0:
			strInto(d, &p.Path)
		case 1:
			strSliceInto(d, &p.Parameters)
		case 2:
			strInto(d, &p.InitRD)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) vmImage(p *specs.VMImage) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(vmImageNames[:]) {
		case 0:
			strInto(d, &p.Path)
		case 1:
			strInto(d, &p.Format)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) zos(p *specs.ZOS) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(zosNames[:]) {
		case 0:
			sliceInto(d, &p.Namespaces, (*fastDec).zosNamespace)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) zosNamespace(p *specs.ZOSNamespace) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(zosNamespaceNames[:]) {
		case 0:
			strInto(d, &p.Type)
		case 1:
			strInto(d, &p.Path)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) freeBSD(p *specs.FreeBSD) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(freeBSDNames[:]) {
		case 0:
			sliceInto(d, &p.Devices, (*fastDec).freeBSDDevice)
		case 1:
			ptrInto(d, &p.Jail, (*fastDec).freeBSDJail)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) freeBSDDevice(p *specs.FreeBSDDevice) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(freeBSDDeviceNames[:]) {
		case 0:
			strInto(d, &p.Path)
		case 1:
			uintPtr(d, &p.Mode)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) freeBSDJail(p *specs.FreeBSDJail) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(freeBSDJailNames[:]) {
		case 0:
			strInto(d, &p.Parent)
		case 1:
			strInto(d, &p.Host)
		case 2:
			strInto(d, &p.Ip4)
		case 3:
			strSliceInto(d, &p.Ip4Addr)
		case 4:
			strInto(d, &p.Ip6)
		case 5:
			strSliceInto(d, &p.Ip6Addr)
		case 6:
			strInto(d, &p.Vnet)
		case 7:
			strInto(d, &p.Interface)
		case 8:
			strSliceInto(d, &p.VnetInterfaces)
		case 9:
			strInto(d, &p.SysVMsg)
		case 10:
			strInto(d, &p.SysVSem)
		case 11:
			strInto(d, &p.SysVShm)
		case 12:
			intPtr(d, &p.EnforceStatfs)
		case 13:
			ptrInto(d, &p.Allow, (*fastDec).freeBSDJailAllow)
		default:
			d.skip()
		}
	}
}

func (d *fastDec) freeBSDJailAllow(p *specs.FreeBSDJailAllow) {
	if !d.open('{') {
		return
	}
	for first := true; d.more(&first, '}'); {
		switch d.field(freeBSDJailAllowNames[:]) {
		case 0:
			boolInto(d, &p.SetHostname)
		case 1:
			boolInto(d, &p.RawSockets)
		case 2:
			boolInto(d, &p.Chflags)
		case 3:
			strSliceInto(d, &p.Mount)
		case 4:
			boolInto(d, &p.Quotas)
		case 5:
			boolInto(d, &p.SocketAf)
		case 6:
			boolInto(d, &p.Mlock)
		case 7:
			boolInto(d, &p.ReservedPorts)
		case 8:
			boolInto(d, &p.Suser)
		default:
			d.skip()
		}
	}
}
