package console

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// The charts are SVG written on the server: no script, nothing fetched.
// Every text is escaped; numbers are formatted by the code here.

const (
	chartW, chartH                     = 480, 300
	marginL, marginR, marginT, marginB = 56, 16, 28, 40
	plotW                              = chartW - marginL - marginR
	plotH                              = chartH - marginT - marginB
)

// frame is a plot area mapping data to pixels.
type frame struct {
	id, title      string
	x0, x1, y0, y1 float64
	xLabel, yLabel string
	b              strings.Builder
}

func newFrame(id, title string, x0, x1, y0, y1 float64, xLabel, yLabel string) *frame {
	if !(x1 > x0) {
		x0, x1 = x0-1, x0+1
	}
	if !(y1 > y0) {
		y0, y1 = y0-1, y0+1
	}
	f := &frame{id: id, title: title, x0: x0, x1: x1, y0: y0, y1: y1, xLabel: xLabel, yLabel: yLabel}
	fmt.Fprintf(&f.b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		esc(id), chartW, chartH, chartW, chartH, esc(title))
	fmt.Fprintf(&f.b, `<text class="title" x="%d" y="18">%s</text>`, marginL, esc(title))
	fmt.Fprintf(&f.b, `<rect class="plot" x="%d" y="%d" width="%d" height="%d"/>`, marginL, marginT, plotW, plotH)
	for i := 0; i <= 4; i++ {
		xv := x0 + (x1-x0)*float64(i)/4
		yv := y0 + (y1-y0)*float64(i)/4
		fmt.Fprintf(&f.b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, f.px(xv), chartH-marginB+14, num(xv))
		fmt.Fprintf(&f.b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, marginL-4, f.py(yv)+4, num(yv))
	}
	fmt.Fprintf(&f.b, `<text class="axis" x="%d" y="%d" text-anchor="middle">%s</text>`, marginL+plotW/2, chartH-6, esc(xLabel))
	fmt.Fprintf(&f.b, `<text class="axis" x="12" y="%d" text-anchor="middle" transform="rotate(-90 12 %d)">%s</text>`, marginT+plotH/2, marginT+plotH/2, esc(yLabel))
	return f
}

func (f *frame) px(x float64) float64 { return marginL + (x-f.x0)/(f.x1-f.x0)*plotW }
func (f *frame) py(y float64) float64 { return marginT + plotH - (y-f.y0)/(f.y1-f.y0)*plotH }

// path draws a polyline through the points.
func (f *frame) path(class string, xs, ys []float64) {
	var d strings.Builder
	first := true
	for i := range xs {
		if math.IsNaN(ys[i]) || math.IsNaN(xs[i]) {
			first = true
			continue
		}
		cmd := "L"
		if first {
			cmd, first = "M", false
		}
		fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, f.px(xs[i]), f.py(ys[i]))
	}
	if d.Len() == 0 {
		return
	}
	fmt.Fprintf(&f.b, `<path class="%s" d="%s"/>`, esc(class), strings.TrimSpace(d.String()))
}

func (f *frame) points(class string, xs, ys []float64) {
	for i := range xs {
		fmt.Fprintf(&f.b, `<circle class="%s" cx="%.1f" cy="%.1f" r="2.5"/>`, esc(class), f.px(xs[i]), f.py(ys[i]))
	}
}

func (f *frame) text(class string, x, y float64, s string) {
	fmt.Fprintf(&f.b, `<text class="%s" x="%.1f" y="%.1f">%s</text>`, esc(class), x, y, esc(s))
}

func (f *frame) legend(items [][2]string) {
	for i, it := range items {
		y := marginT + 14 + 14*i
		fmt.Fprintf(&f.b, `<rect class="%s swatch" x="%d" y="%d" width="10" height="10"/>`, esc(it[0]), marginL+plotW-110, y-9)
		fmt.Fprintf(&f.b, `<text class="legend" x="%d" y="%d">%s</text>`, marginL+plotW-96, y, esc(it[1]))
	}
}

func (f *frame) svg() template.HTML {
	f.b.WriteString(`</svg>`)
	return template.HTML(f.b.String()) //nolint:gosec // built from escaped parts
}

// barChart draws horizontal bars, one per label, in the given order.
func barChart(id, title string, labels []string, values []float64, valueLabel string) template.HTML {
	n := len(labels)
	if n == 0 {
		return ""
	}
	maxV := 0.0
	for _, v := range values {
		maxV = math.Max(maxV, v)
	}
	if maxV == 0 {
		maxV = 1
	}
	rowH := 22
	h := marginT + n*rowH + 12
	left := 150
	w := chartW
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, esc(id), w, h, w, h, esc(title))
	fmt.Fprintf(&b, `<text class="title" x="8" y="18">%s</text>`, esc(title))
	for i, l := range labels {
		y := marginT + i*rowH
		bw := values[i] / maxV * float64(w-left-70)
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, left-6, y+15, esc(truncate(l, 22)))
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%.1f" height="%d"><title>%s: %s</title></rect>`, left, y+3, bw, rowH-6, esc(l), num(values[i]))
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%d">%s</text>`, float64(left)+bw+4, y+15, num(values[i]))
	}
	_ = valueLabel
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from escaped parts
}

// rocChart draws one ROC curve per entry of curves (label → points) and
// the AUCs.
func rocChart(curves []rocCurve) template.HTML {
	f := newFrame("roc", "ROC curve (validation rows)", 0, 1, 0, 1, "false positive rate", "true positive rate")
	f.path("diagonal", []float64{0, 1}, []float64{0, 1})
	var legend [][2]string
	for i, c := range curves {
		class := fmt.Sprintf("roc-curve s%d", i%6)
		f.path(class, c.FPR, c.TPR)
		f.text(fmt.Sprintf("auc s%d", i%6), marginL+plotW-150, float64(marginT+plotH-10-14*(len(curves)-1-i)), fmt.Sprintf("AUC %s = %.3f", c.Label, c.AUC))
		legend = append(legend, [2]string{fmt.Sprintf("s%d", i%6), c.Label})
	}
	if len(curves) > 1 {
		f.legend(legend)
	}
	return f.svg()
}

// confusionChart draws the confusion matrix as a heat map: rows actual,
// columns predicted.
func confusionChart(classes []string, m [][]int) template.HTML {
	n := len(classes)
	if n == 0 {
		return ""
	}
	cell := 48
	if n > 8 {
		cell = 384 / n
	}
	left, top := 120, 60
	w, h := max(left+n*cell+16, 300), top+n*cell+36
	maxV := 1
	for _, r := range m {
		for _, v := range r {
			if v > maxV {
				maxV = v
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="confusion" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="confusion matrix">`, w, h, w, h)
	b.WriteString(`<text class="title" x="8" y="18">Confusion matrix (validation rows)</text>`)
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="36" text-anchor="middle">predicted</text>`, left+n*cell/2)
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="end">actual</text>`, left-6, top-8)
	for j, c := range classes {
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="middle">%s</text>`, left+j*cell+cell/2, top-8, esc(truncate(c, 8)))
	}
	for i, c := range classes {
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, left-6, top+i*cell+cell/2+4, esc(truncate(c, 16)))
		for j := range classes {
			v := m[i][j]
			op := 0.08 + 0.92*float64(v)/float64(maxV)
			fmt.Fprintf(&b, `<rect class="cell" x="%d" y="%d" width="%d" height="%d" fill-opacity="%.2f"><title>actual %s, predicted %s: %d</title></rect>`,
				left+j*cell, top+i*cell, cell-2, cell-2, op, esc(c), esc(classes[j]), v)
			fmt.Fprintf(&b, `<text class="count" x="%d" y="%d" text-anchor="middle">%d</text>`, left+j*cell+cell/2, top+i*cell+cell/2+4, v)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from escaped parts
}

// scatterChart plots ys against xs; diagonal draws y = x, zero draws y = 0.
func scatterChart(id, title string, xs, ys []float64, xLabel, yLabel string, diagonal, zero bool) template.HTML {
	if len(xs) == 0 {
		return ""
	}
	x0, x1 := bounds(xs)
	y0, y1 := bounds(ys)
	if diagonal {
		x0, y0 = math.Min(x0, y0), math.Min(x0, y0)
		x1, y1 = math.Max(x1, y1), math.Max(x1, y1)
	}
	f := newFrame(id, title, x0, x1, y0, y1, xLabel, yLabel)
	if diagonal {
		f.path("diagonal", []float64{x0, x1}, []float64{x0, x1})
	}
	if zero && y0 <= 0 && y1 >= 0 {
		f.path("diagonal", []float64{x0, x1}, []float64{0, 0})
	}
	f.points("point", xs, ys)
	return f.svg()
}

// histogramChart draws values in bins, with a vertical line at threshold
// when it is not NaN.
func histogramChart(id, title string, values []float64, bins int, threshold float64, xLabel string) template.HTML {
	if len(values) == 0 {
		return ""
	}
	lo, hi := bounds(values)
	if !math.IsNaN(threshold) {
		lo, hi = math.Min(lo, threshold), math.Max(hi, threshold)
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	counts := make([]float64, bins)
	for _, v := range values {
		k := int((v - lo) / (hi - lo) * float64(bins))
		if k >= bins {
			k = bins - 1
		}
		if k < 0 {
			k = 0
		}
		counts[k]++
	}
	_, maxC := bounds(counts)
	f := newFrame(id, title, lo, hi, 0, maxC, xLabel, "rows")
	bw := (hi - lo) / float64(bins)
	for k, c := range counts {
		x := lo + float64(k)*bw
		fmt.Fprintf(&f.b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, f.px(x), f.py(c), math.Max(0, f.px(x+bw)-f.px(x)-1), f.py(0)-f.py(c))
	}
	if !math.IsNaN(threshold) {
		f.path("threshold", []float64{threshold, threshold}, []float64{0, maxC})
		f.text("threshold-label", f.px(threshold)+4, marginT+12, "threshold "+num(threshold))
	}
	return f.svg()
}

// series is one line of a time chart.
type series struct {
	Label string
	Class string
	Ys    []float64
}

// timeChart draws series against seconds before now.
func timeChart(id, title string, xs []float64, lines []series, yLabel string) template.HTML {
	if len(xs) == 0 {
		return ""
	}
	x0, x1 := bounds(xs)
	y0, y1 := 0.0, 0.0
	for _, l := range lines {
		for _, v := range l.Ys {
			if !math.IsNaN(v) {
				y1 = math.Max(y1, v)
			}
		}
	}
	if y1 == 0 {
		y1 = 1
	}
	f := newFrame(id, title, x0, x1, y0, y1*1.05, "seconds ago", yLabel)
	var legend [][2]string
	for _, l := range lines {
		f.path("line "+l.Class, xs, l.Ys)
		if len(xs) <= 60 {
			// Few samples yet: mark them, so a single one shows.
			for i, y := range l.Ys {
				if !math.IsNaN(y) {
					fmt.Fprintf(&f.b, `<circle class="%s" cx="%.1f" cy="%.1f" r="2.5"/>`, esc(l.Class), f.px(xs[i]), f.py(y))
				}
			}
		}
		legend = append(legend, [2]string{l.Class, l.Label})
	}
	f.legend(legend)
	return f.svg()
}

func bounds(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if math.IsInf(lo, 1) {
		return 0, 1
	}
	return lo, hi
}

func num(v float64) string {
	switch a := math.Abs(v); {
	case v == 0:
		return "0"
	case a >= 1e6 || a < 1e-3:
		return fmt.Sprintf("%.2g", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	default:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
	}
}

func esc(s string) string { return html.EscapeString(s) }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
