package spectra

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Thresholds of the counts in the table.
const (
	// AbsThreshold is the paper's cut-off: Fig. 5 is read as "how many
	// singular values of ΔW are below 0.1".
	AbsThreshold = 0.1
	// RelThreshold is the scale-free variant: singular values below
	// RelThreshold·σ_max. An absolute cut-off measures the size of ΔW as
	// much as its rank (a smaller learning rate, fewer steps or a smaller
	// init push every σ below 0.1 without changing the rank), so the
	// relative count is the one comparable across scales and methods.
	RelThreshold = 0.1
	// NumRankTol defines the numerical rank: singular values above
	// NumRankTol·σ_max count. The weights are float32, whose rounding
	// leaves noise near 1e-7 relative to σ_max, so 1e-6 sits above that
	// noise and far below any trained direction; a product s·B·A of rank r
	// (computed in float64) has exactly r values above it.
	NumRankTol = 1e-6
)

// Spectrum is what the table reports about one matrix ΔW.
type Spectrum struct {
	SigmaMax   float64 `json:"sigma_max"`
	BelowAbs   int     `json:"below_abs"`      // σ < AbsThreshold
	BelowRel   int     `json:"below_rel"`      // σ < RelThreshold·σ_max
	EffRank    float64 `json:"effective_rank"` // Roy & Vetterli
	StableRank float64 `json:"stable_rank"`    // ‖ΔW‖_F² / σ_max²
	NumRank    int     `json:"numerical_rank"` // σ > NumRankTol·σ_max
}

// SingularValues returns the singular values of m in decreasing order. Only
// the values are computed (mat.SVDNone): Fig. 5 and every metric here need
// nothing else, and skipping U and V is several times cheaper.
func SingularValues(m mat.Matrix) ([]float64, error) {
	var svd mat.SVD
	if !svd.Factorize(m, mat.SVDNone) {
		return nil, errors.New("spectra: SVD did not converge")
	}
	return svd.Values(nil), nil
}

// Analyze summarises singular values (any order).
func Analyze(sigma []float64) Spectrum {
	s := Spectrum{SigmaMax: sigmaMax(sigma), EffRank: EffectiveRank(sigma), StableRank: StableRank(sigma),
		BelowAbs: CountBelow(sigma, AbsThreshold), NumRank: NumericalRank(sigma, NumRankTol)}
	s.BelowRel = CountBelow(sigma, RelThreshold*s.SigmaMax)
	return s
}

func sigmaMax(sigma []float64) float64 {
	m := 0.0
	for _, v := range sigma {
		m = math.Max(m, v)
	}
	return m
}

// EffectiveRank is Roy & Vetterli's (2007) effective rank exp(H(p)), with
// p_k = σ_k / Σσ and H the Shannon entropy in nats. Unlike a count above a
// threshold it is continuous and needs no cut-off: it is 1 for a rank-one
// matrix and min(out, in) when all singular values are equal. A zero matrix
// has effective rank 0.
func EffectiveRank(sigma []float64) float64 {
	sum := 0.0
	for _, v := range sigma {
		sum += v
	}
	if !(sum > 0) {
		return 0
	}
	h := 0.0
	for _, v := range sigma {
		if p := v / sum; p > 0 {
			h -= p * math.Log(p)
		}
	}
	return math.Exp(h)
}

// StableRank is ‖ΔW‖_F² / σ_max² = Σσ² / σ_max²: a lower bound of the rank
// that, unlike the rank, does not count directions with negligible energy.
// A zero matrix has stable rank 0.
func StableRank(sigma []float64) float64 {
	m := sigmaMax(sigma)
	if !(m > 0) {
		return 0
	}
	f := 0.0
	for _, v := range sigma {
		f += v * v
	}
	return f / (m * m)
}

// CountBelow counts the singular values strictly below thr.
func CountBelow(sigma []float64, thr float64) int {
	n := 0
	for _, v := range sigma {
		if v < thr {
			n++
		}
	}
	return n
}

// NumericalRank counts the singular values above tol·σ_max.
func NumericalRank(sigma []float64, tol float64) int {
	m := sigmaMax(sigma)
	n := 0
	for _, v := range sigma {
		if v > tol*m {
			n++
		}
	}
	return n
}
