package scan

import "testing"

func TestCompareDeb(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0-1", "1.0-2", -1},
		{"1:1.0", "2.0", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0", "1.0+b1", -1},
		{"3.0.11-1~deb12u1", "3.0.11-1~deb12u2", -1},
		{"3.0.11-1", "3.0.11-1~deb12u2", 1},
		{"5.2.15-2+b2", "5.2.15-2", 1},
		{"1.2.10", "1.2.9", 1},
		{"1.002", "1.2", 0},
		{"1.0a", "1.0", 1},
		{"1.0-1", "1.0", 1},
		{"7.88.1-10", "7.88.1-10+deb12u5", -1},
	} {
		if got := sign(compareDeb(c.a, c.b)); got != c.want {
			t.Errorf("compareDeb(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := sign(compareDeb(c.b, c.a)); got != -c.want {
			t.Errorf("compareDeb(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestCompareAPK(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.36.1-r15", "1.36.1-r15", 0},
		{"1.36.1-r14", "1.36.1-r15", -1},
		{"1.2.4_git20230717-r4", "1.2.4_git20230717-r5", -1},
		{"1.2.4", "1.2.4_git20230717", -1},
		{"1.2.4_rc1", "1.2.4", -1},
		{"1.2.4_alpha", "1.2.4_beta", -1},
		{"1.2.4_p1", "1.2.4_p2", -1},
		{"1.2.10", "1.2.9", 1},
		{"1.2", "1.2.1", -1},
		{"1.1.1w-r1", "1.1.1v-r9", 1},
		{"3.1.4-r0", "3.1.4-r1", -1},
	} {
		if got := sign(compareAPK(c.a, c.b)); got != c.want {
			t.Errorf("compareAPK(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := sign(compareAPK(c.b, c.a)); got != -c.want {
			t.Errorf("compareAPK(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestCVSS3Score(t *testing.T) {
	for vector, want := range map[string]float64{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": 9.8,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H": 7.5,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N": 6.1,
		"CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H": 7.8,
		"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:N": 0,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H": 10,
	} {
		got, ok := cvss3Score(vector)
		if !ok || got != want {
			t.Errorf("cvss3Score(%s) = %v, %v; want %v", vector, got, ok, want)
		}
	}
	for _, bad := range []string{"", "AV:N/AC:L", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:2.0/AV:N"} {
		if _, ok := cvss3Score(bad); ok {
			t.Errorf("cvss3Score(%q) was read", bad)
		}
	}
}
