package console

import (
	"html/template"
	"math"
	"sort"

	"github.com/sibyldb/sibyldb/internal/ml/automl"
	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// metric is one validation figure of the chosen candidate.
type metric struct {
	Name  string
	Value string
}

// plots are a model's charts and validation metrics.
type plots struct {
	// Heading says what the metrics were computed on.
	Heading string
	Metrics []metric
	Charts  []template.HTML
	Note    string
}

// rocCurve is one ROC curve with its area.
type rocCurve struct {
	Label    string
	FPR, TPR []float64
	AUC      float64
}

// roc computes the ROC curve of scores for the positive rows (pos[i]),
// tied scores taken together, and its area by the trapezoid rule.
func roc(scores []float64, pos []bool) (fpr, tpr []float64, auc float64) {
	idx := make([]int, len(scores))
	var p, n float64
	for i := range idx {
		idx[i] = i
		if pos[i] {
			p++
		} else {
			n++
		}
	}
	if p == 0 || n == 0 {
		return nil, nil, math.NaN()
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	fpr, tpr = []float64{0}, []float64{0}
	var tp, fp float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			if pos[idx[j]] {
				tp++
			} else {
				fp++
			}
			j++
		}
		x, y := fp/n, tp/p
		auc += (x - fpr[len(fpr)-1]) * (y + tpr[len(tpr)-1]) / 2
		fpr, tpr = append(fpr, x), append(tpr, y)
		i = j
	}
	return fpr, tpr, auc
}

// predictedClass is the class a classifier's outputs pick (as
// model.Predictor.Class).
func predictedClass(p model.Problem, out []float64) int {
	if p == model.Binary {
		if len(out) > 0 && out[0] >= 0.5 {
			return 1
		}
		return 0
	}
	best := 0
	for k, v := range out {
		if v > out[best] {
			best = k
		}
	}
	return best
}

// buildPlots draws what the report's validation sample supports.
func buildPlots(rep *automl.Report) plots {
	out := plots{Heading: "Validation metrics of the chosen candidate"}
	if rep.Problem == model.Clustering || rep.Problem == model.Anomaly {
		// Unsupervised training holds out no rows.
		out.Heading = "Figures on the training rows"
	}
	v := rep.Validation
	if v == nil {
		out.Note = "This model's training report keeps no validation outputs (it was trained before the console recorded them, or not by SibylDB)."
		return out
	}
	switch rep.Problem {
	case model.Binary, model.Multiclass:
		classifierPlots(&out, rep.Problem, v)
	case model.Regression:
		regressionPlots(&out, v)
	case model.Clustering:
		labels := make([]string, len(v.ClusterSizes))
		vals := make([]float64, len(v.ClusterSizes))
		total := 0
		for i, n := range v.ClusterSizes {
			labels[i] = "cluster " + itoa(i)
			vals[i] = float64(n)
			total += n
		}
		out.Metrics = append(out.Metrics, metric{"clusters", itoa(len(labels))}, metric{"rows", itoa(total)})
		out.Charts = append(out.Charts, barChart("clusters", "Cluster sizes (training rows)", labels, vals, "rows"))
	case model.Anomaly:
		above := 0
		for _, s := range v.Scores {
			if s > v.Threshold {
				above++
			}
		}
		out.Metrics = append(out.Metrics, metric{"threshold (mean + 3 sd)", num(v.Threshold)},
			metric{"rows scored", itoa(len(v.Scores))}, metric{"rows above threshold", itoa(above)})
		out.Charts = append(out.Charts, histogramChart("scores", "Anomaly score distribution (training rows)", v.Scores, 30, v.Threshold, "anomaly score"))
	}
	return out
}

func classifierPlots(out *plots, p model.Problem, v *automl.Validation) {
	k := len(v.Classes)
	if k == 0 || len(v.Actual) == 0 {
		return
	}
	m := make([][]int, k)
	for i := range m {
		m[i] = make([]int, k)
	}
	correct := 0
	for i, a := range v.Actual {
		pc := predictedClass(p, v.Outputs[i])
		ai := int(a)
		if ai >= 0 && ai < k && pc < k {
			m[ai][pc]++
			if ai == pc {
				correct++
			}
		}
	}
	out.Metrics = append(out.Metrics, metric{"accuracy", num(float64(correct) / float64(len(v.Actual)))})
	var curves []rocCurve
	if p == model.Binary {
		scores := make([]float64, len(v.Actual))
		pos := make([]bool, len(v.Actual))
		for i, a := range v.Actual {
			scores[i], pos[i] = v.Outputs[i][0], a == 1
		}
		fpr, tpr, auc := roc(scores, pos)
		if fpr != nil {
			curves = append(curves, rocCurve{Label: v.Classes[1], FPR: fpr, TPR: tpr, AUC: auc})
			out.Metrics = append(out.Metrics, metric{"AUC", num(auc)})
		}
		prec, rec := prf(m, 1)
		out.Metrics = append(out.Metrics, metric{"precision (" + v.Classes[1] + ")", num(prec)}, metric{"recall (" + v.Classes[1] + ")", num(rec)}, metric{"F1 (" + v.Classes[1] + ")", num(f1(prec, rec))})
	} else {
		var macro float64
		for c := 0; c < k; c++ {
			scores := make([]float64, len(v.Actual))
			pos := make([]bool, len(v.Actual))
			for i, a := range v.Actual {
				if c < len(v.Outputs[i]) {
					scores[i] = v.Outputs[i][c]
				}
				pos[i] = int(a) == c
			}
			if fpr, tpr, auc := roc(scores, pos); fpr != nil {
				curves = append(curves, rocCurve{Label: v.Classes[c] + " vs rest", FPR: fpr, TPR: tpr, AUC: auc})
			}
			prec, rec := prf(m, c)
			macro += f1(prec, rec)
		}
		out.Metrics = append(out.Metrics, metric{"F1 macro", num(macro / float64(k))})
	}
	out.Metrics = append(out.Metrics, metric{"validation rows", itoa(len(v.Actual))})
	out.Charts = append(out.Charts, confusionChart(v.Classes, m))
	if len(curves) > 0 {
		out.Charts = append(out.Charts, rocChart(curves))
	}
}

// prf is class c's precision and recall from the confusion matrix.
func prf(m [][]int, c int) (prec, rec float64) {
	var tp, predicted, actual float64
	for i := range m {
		predicted += float64(m[i][c])
		actual += float64(m[c][i])
	}
	tp = float64(m[c][c])
	if predicted > 0 {
		prec = tp / predicted
	}
	if actual > 0 {
		rec = tp / actual
	}
	return prec, rec
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func regressionPlots(out *plots, v *automl.Validation) {
	n := len(v.Actual)
	if n == 0 {
		return
	}
	pred := make([]float64, n)
	res := make([]float64, n)
	var se, ae, mean float64
	for i, a := range v.Actual {
		pred[i] = v.Outputs[i][0]
		res[i] = a - pred[i]
		se += res[i] * res[i]
		ae += math.Abs(res[i])
		mean += a
	}
	mean /= float64(n)
	var ss float64
	for _, a := range v.Actual {
		ss += (a - mean) * (a - mean)
	}
	mse := se / float64(n)
	out.Metrics = append(out.Metrics, metric{"MSE", num(mse)}, metric{"RMSE", num(math.Sqrt(mse))}, metric{"MAE", num(ae / float64(n))})
	if ss > 0 {
		out.Metrics = append(out.Metrics, metric{"R²", num(1 - se/ss)})
	}
	out.Metrics = append(out.Metrics, metric{"validation rows", itoa(n)})
	out.Charts = append(out.Charts,
		scatterChart("predicted-actual", "Predicted vs actual (validation rows)", v.Actual, pred, "actual", "predicted", true, false),
		scatterChart("residuals", "Residuals (validation rows)", pred, res, "predicted", "actual − predicted", false, true))
}
