package bot

import "testing"

func TestParseByteSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want ByteSize
	}{
		{"50MB", 50 << 20}, {"50mb", 50 << 20}, {"50 MiB", 50 << 20}, {"50M", 50 << 20},
		{"512KB", 512 << 10}, {"1.5GB", 3 << 29}, {"100", 100}, {"100B", 100}, {"０", 0},
		{"２MB", 2 << 20},
	} {
		got, err := ParseByteSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "MB", "-1MB", "5TB", "lots", "1e30GB", "NaN"} {
		if got, err := ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", bad, got)
		}
	}
	for _, c := range []struct {
		in   ByteSize
		want string
	}{{50 << 20, "50MB"}, {1536 << 10, "1536KB"}, {3 << 29, "1536MB"}, {100, "100B"}, {0, "0B"}} {
		if got := c.in.String(); got != c.want {
			t.Errorf("%d.String() = %q, want %q", c.in, got, c.want)
		}
		if back, err := ParseByteSize(c.want); err != nil || back != c.in {
			t.Errorf("round trip of %q = %d, %v", c.want, back, err)
		}
	}
}
