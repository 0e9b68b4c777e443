package bot

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ByteSize is a number of bytes that reads "50MB", "512KB", "2GB" or
// "1048576" in config files. The units are binary (1 KB = 1024 bytes), as
// file managers on the operators' computers count them; KiB, MiB and GiB,
// K, M and G, and lower case are accepted too.
type ByteSize int64

// N returns the value as a byte count.
func (s ByteSize) N() int64 { return int64(s) }

var sizeUnits = []struct {
	suffix string
	shift  uint
}{
	{"kib", 10}, {"mib", 20}, {"gib", 30},
	{"kb", 10}, {"mb", 20}, {"gb", 30},
	{"k", 10}, {"m", 20}, {"g", 30},
	{"b", 0},
}

// ParseByteSize parses a size such as "50MB", "1.5GB", "700 KB" or a bare
// byte count.
func ParseByteSize(s string) (ByteSize, error) {
	orig := s
	s = strings.ToLower(strings.TrimSpace(FoldWidth(s)))
	if s == "" {
		return 0, fmt.Errorf("empty size")
	}
	shift := uint(0)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, shift = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.shift
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("size %q is not a number with an optional unit (KB, MB, GB)", orig)
	}
	if n < 0 {
		return 0, fmt.Errorf("size %q must not be negative", orig)
	}
	v := n * float64(int64(1)<<shift)
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q is too large", orig)
	}
	return ByteSize(v), nil
}

// String renders the size with the largest unit that divides it: "50MB",
// "1536KB", "100B".
func (s ByteSize) String() string {
	for _, u := range []struct {
		unit  string
		shift uint
	}{{"GB", 30}, {"MB", 20}, {"KB", 10}} {
		if s != 0 && s%(1<<u.shift) == 0 {
			return strconv.FormatInt(int64(s)>>u.shift, 10) + u.unit
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// UnmarshalText parses the size with ParseByteSize.
func (s *ByteSize) UnmarshalText(b []byte) error {
	v, err := ParseByteSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// UnmarshalYAML parses the size and reports errors with their line.
func (s *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if err := s.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// MarshalText renders the size as String does.
func (s ByteSize) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
