package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

var systemColor = map[system]string{distill: "#2f6db5", expert: "#4e9a4b", naive: "#d0583f"}

// shownInChart reports whether an app has warm scenarios (python-http is
// built for the image figures only).
func shownInChart(a appResult) bool {
	for _, sc := range scenarios[1:] {
		if len(a.Times[sc][distill]) > 0 {
			return true
		}
	}
	return false
}

// chart draws the median time of every scenario per system as a grouped bar
// chart, one panel per app, on a log scale (cold builds take tens of
// seconds, no-op rebuilds well under one). Plain SVG, no dependency.
func chart(r *results) string {
	const (
		panelW, panelH = 560, 330
		left, right    = 58, 12
		top, bottom    = 40, 70
	)
	var shown []appResult
	for _, a := range r.Apps {
		if shownInChart(a) {
			shown = append(shown, a)
		}
	}
	width := panelW*len(shown) + 20
	height := panelH + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	// legend
	for i, sys := range systems {
		x := 20 + i*110
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x, height-22, systemColor[sys], x+16, height-12, sys)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">median wall time per scenario, log scale; `+"%d warm runs, %d cold"+`</text>`+"\n", 20+3*110, height-12, r.Runs, r.ColdRuns)

	// one log scale for all panels
	lo, hi := math.Inf(1), 0.0
	for _, a := range shown {
		for _, sc := range scenarios {
			for _, sys := range a.compared() {
				if m := median(a.Times[sc][sys]); !math.IsNaN(m) && m > 0 {
					lo, hi = math.Min(lo, m), math.Max(hi, m)
				}
			}
		}
	}
	if hi == 0 {
		b.WriteString("</svg>\n")
		return b.String()
	}
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dhi == dlo {
		dhi++
	}
	plotH := float64(panelH - top - bottom)
	y := func(v float64) float64 {
		return float64(top) + plotH*(1-(math.Log10(v)-dlo)/(dhi-dlo))
	}
	for p, a := range shown {
		x0 := 10 + p*panelW
		plotW := float64(panelW - left - right)
		fmt.Fprintf(&b, `<text x="%d" y="22" font-size="14" font-weight="bold">%s</text>`+"\n", x0+left, html.EscapeString(a.Name))
		// grid and axis labels
		for d := dlo; d <= dhi; d++ {
			for _, k := range []float64{1, 2, 5} {
				v := k * math.Pow(10, d)
				if d == dhi && k > 1 {
					break
				}
				yy := y(v)
				stroke := "#e3e3e3"
				if k == 1 {
					stroke = "#c8c8c8"
				}
				fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x0+left, float64(x0+left)+plotW, yy, yy, stroke)
				fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#555">%s s</text>`+"\n", x0+left-4, yy+4, trimNum(v))
			}
		}
		cmp := a.compared()
		groupW := plotW / float64(len(scenarios))
		barW := groupW * 0.8 / float64(len(cmp))
		for g, sc := range scenarios {
			gx := float64(x0+left) + float64(g)*groupW + groupW*0.1
			if !a.hasScenario(sc) {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#999">not measured</text>`+"\n", gx+groupW*0.4, float64(top)+plotH-6)
			}
			for s, sys := range cmp {
				m := median(a.Times[sc][sys])
				if math.IsNaN(m) || m <= 0 {
					continue
				}
				bx := gx + float64(s)*barW
				by := y(m)
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %.2f s</title></rect>`+"\n",
					bx, by, barW-1, float64(top)+plotH-by, systemColor[sys], html.EscapeString(a.Name), sys, m)
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9" fill="#333">%s</text>`+"\n", bx+barW/2, by-3, fmtSec(m))
			}
			label := strings.SplitN(scenarioTitle[sc], " (", 2)[0]
			for i, part := range wrap(label, 16) {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", gx+groupW*0.4, float64(top)+plotH+14+float64(i)*12, html.EscapeString(part))
			}
		}
		fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#333"/>`+"\n", x0+left, float64(x0+left)+plotW, float64(top)+plotH, float64(top)+plotH)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func trimNum(v float64) string {
	if v >= 1 {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

func fmtSec(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func wrap(s string, n int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		if cur != "" && len(cur)+1+len(w) > n {
			lines = append(lines, cur)
			cur = w
			continue
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	return append(lines, cur)
}
