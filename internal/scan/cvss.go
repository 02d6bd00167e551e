package scan

import (
	"math"
	"strings"
)

// cvss3Score is the base score of a CVSS v3 vector
// (CVSS:3.x/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H), false when it is not one.
func cvss3Score(vector string) (float64, bool) {
	parts := strings.Split(vector, "/")
	if len(parts) < 9 || !strings.HasPrefix(parts[0], "CVSS:3") {
		return 0, false
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, ":")
		m[k] = v
	}
	weights := map[string]map[string]float64{
		"AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
		"AC": {"L": 0.77, "H": 0.44},
		"UI": {"N": 0.85, "R": 0.62},
		"C":  {"H": 0.56, "L": 0.22, "N": 0},
		"I":  {"H": 0.56, "L": 0.22, "N": 0},
		"A":  {"H": 0.56, "L": 0.22, "N": 0},
	}
	w := map[string]float64{}
	for k, table := range weights {
		v, ok := table[m[k]]
		if !ok {
			return 0, false
		}
		w[k] = v
	}
	changed := m["S"] == "C"
	if m["S"] != "C" && m["S"] != "U" {
		return 0, false
	}
	pr := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	if changed {
		pr = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	}
	prw, ok := pr[m["PR"]]
	if !ok {
		return 0, false
	}
	iss := 1 - (1-w["C"])*(1-w["I"])*(1-w["A"])
	impact := 6.42 * iss
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	}
	if impact <= 0 {
		return 0, true
	}
	expl := 8.22 * w["AV"] * w["AC"] * prw * w["UI"]
	if changed {
		return roundUp(min(1.08*(impact+expl), 10)), true
	}
	return roundUp(min(impact+expl, 10)), true
}

// roundUp is CVSS v3.1's Roundup: the smallest one-decimal number not
// below x.
func roundUp(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// severityOfScore is ECR's severity of a CVSS base score.
func severityOfScore(s float64) string {
	switch {
	case s >= 9:
		return "CRITICAL"
	case s >= 7:
		return "HIGH"
	case s >= 4:
		return "MEDIUM"
	case s > 0:
		return "LOW"
	}
	return "INFORMATIONAL"
}

// severityOfLabel maps the severity labels OSV databases carry (GitHub's,
// Debian's urgency, Red Hat's and Ubuntu's priorities) to ECR's, "" for a
// label it does not know.
func severityOfLabel(label string) string {
	switch strings.ToUpper(strings.TrimSpace(label)) {
	case "CRITICAL":
		return "CRITICAL"
	case "HIGH", "IMPORTANT":
		return "HIGH"
	case "MEDIUM", "MODERATE":
		return "MEDIUM"
	case "LOW":
		return "LOW"
	case "NEGLIGIBLE", "UNIMPORTANT", "INFORMATIONAL", "NONE":
		return "INFORMATIONAL"
	}
	return ""
}
