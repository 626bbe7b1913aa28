package systemd

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseVariant reads a value in the GVariant text format, the part that
// unit properties use (what runc accepts in org.systemd.property.*
// annotations through godbus): true/false; 'text' or "text"; integers,
// untyped (int32, as GVariant) or with a type keyword (byte, int16,
// uint16, int32, uint32, int64, uint64, double); and arrays of one such
// type, e.g. ['a', 'b'] or @au [].
func ParseVariant(s string) (Variant, error) {
	p := &vparser{s: strings.TrimSpace(s)}
	v, err := p.value("")
	if err != nil {
		return Variant{}, err
	}
	p.space()
	if p.s != "" {
		return Variant{}, fmt.Errorf("unexpected %q after the value", p.s)
	}
	return v, nil
}

type vparser struct{ s string }

func (p *vparser) space() { p.s = strings.TrimLeft(p.s, " \t\n") }

var typeWords = map[string]Signature{
	"byte": "y", "int16": "n", "uint16": "q", "int32": "i", "uint32": "u",
	"int64": "x", "uint64": "t", "double": "d", "boolean": "b", "string": "s",
}

// value parses one value; want, when set, is the signature it must have.
func (p *vparser) value(want Signature) (Variant, error) {
	p.space()
	if strings.HasPrefix(p.s, "@") {
		end := strings.IndexAny(p.s, " \t")
		if end < 0 {
			return Variant{}, fmt.Errorf("type annotation %q without a value", p.s)
		}
		want, p.s = Signature(p.s[1:end]), p.s[end:]
		p.space()
	}
	for w, sig := range typeWords {
		if rest, ok := strings.CutPrefix(p.s, w+" "); ok {
			want, p.s = sig, rest
			p.space()
			break
		}
	}
	switch {
	case p.s == "":
		return Variant{}, fmt.Errorf("missing value")
	case p.s[0] == '[':
		return p.array(want)
	case p.s[0] == '\'' || p.s[0] == '"':
		return p.str(want)
	case strings.HasPrefix(p.s, "true") || strings.HasPrefix(p.s, "false"):
		b := strings.HasPrefix(p.s, "true")
		p.s = strings.TrimPrefix(strings.TrimPrefix(p.s, "true"), "false")
		if want != "" && want != "b" {
			return Variant{}, fmt.Errorf("a boolean where %s was expected", want)
		}
		return Variant{Sig: "b", Value: b}, nil
	}
	return p.number(want)
}

func (p *vparser) str(want Signature) (Variant, error) {
	q := p.s[0]
	var b strings.Builder
	i := 1
	for ; i < len(p.s) && p.s[i] != q; i++ {
		if p.s[i] == '\\' && i+1 < len(p.s) {
			i++
		}
		b.WriteByte(p.s[i])
	}
	if i >= len(p.s) {
		return Variant{}, fmt.Errorf("unterminated string")
	}
	p.s = p.s[i+1:]
	if want != "" && want != "s" && want != "o" && want != "g" {
		return Variant{}, fmt.Errorf("a string where %s was expected", want)
	}
	if want == "" {
		want = "s"
	}
	var v any = b.String()
	switch want {
	case "o":
		v = ObjectPath(b.String())
	case "g":
		v = Signature(b.String())
	}
	return Variant{Sig: want, Value: v}, nil
}

func (p *vparser) number(want Signature) (Variant, error) {
	end := strings.IndexAny(p.s, ", \t]")
	if end < 0 {
		end = len(p.s)
	}
	tok := p.s[:end]
	p.s = p.s[end:]
	if want == "" {
		want = "i"
		if strings.ContainsAny(tok, ".eE") {
			want = "d"
		}
	}
	bits := map[Signature]int{"y": 8, "n": 16, "q": 16, "i": 32, "u": 32, "x": 64, "t": 64}[want]
	var v any
	var err error
	switch want {
	case "d":
		v, err = strconv.ParseFloat(tok, 64)
	case "y", "q", "u", "t":
		var n uint64
		n, err = strconv.ParseUint(tok, 0, bits)
		v = map[Signature]any{"y": byte(n), "q": uint16(n), "u": uint32(n), "t": n}[want]
	case "n", "i", "x":
		var n int64
		n, err = strconv.ParseInt(tok, 0, bits)
		v = map[Signature]any{"n": int16(n), "i": int32(n), "x": n}[want]
	default:
		return Variant{}, fmt.Errorf("%q where %s was expected", tok, want)
	}
	if err != nil {
		return Variant{}, fmt.Errorf("%q is not a %s: %w", tok, want, err)
	}
	return Variant{Sig: want, Value: v}, nil
}

func (p *vparser) array(want Signature) (Variant, error) {
	var elem Signature
	if want != "" {
		if want[0] != 'a' {
			return Variant{}, fmt.Errorf("an array where %s was expected", want)
		}
		elem = want[1:]
	}
	p.s = p.s[1:]
	items := []any{}
	for {
		p.space()
		if strings.HasPrefix(p.s, "]") {
			p.s = p.s[1:]
			break
		}
		if len(items) > 0 {
			if !strings.HasPrefix(p.s, ",") {
				return Variant{}, fmt.Errorf("expected , or ] in array")
			}
			p.s = p.s[1:]
		}
		v, err := p.value(elem)
		if err != nil {
			return Variant{}, err
		}
		if elem == "" {
			elem = v.Sig
		} else if v.Sig != elem {
			return Variant{}, fmt.Errorf("array of %s holds a %s", elem, v.Sig)
		}
		items = append(items, v.Value)
	}
	if elem == "" {
		return Variant{}, fmt.Errorf("an empty array needs a type, e.g. @as []")
	}
	if elem == "y" {
		b := make([]byte, len(items))
		for i, x := range items {
			b[i] = x.(byte)
		}
		return Variant{Sig: "ay", Value: b}, nil
	}
	return Variant{Sig: "a" + elem, Value: items}, nil
}
