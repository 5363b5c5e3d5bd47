package experiments

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// The successors experiment sets ReLoRA beside the methods published after
// it that compare against it: GaLore (Zhao et al. 2024, arXiv:2403.03507)
// and the plain low-rank factorisation of GaLore's Table 2. Their numbers
// disagree with the ReLoRA paper's, and a comparison of methods at one
// shared learning rate favours whichever method the rate suits, so every
// method first gets the same small learning-rate search, and then trains
// on the ladder at its own chosen rate.

// Rows of the successors table. Full training and ReLoRA are Table 2's
// rows (at the searched rate, so at the preset's rate they are Table 2's
// runs).
const (
	RowSuccessorGaLore  = "GaLore"
	RowSuccessorLowRank = "Low-rank"
)

// SuccessorMethod is a row: its name, the learning rate its search starts
// from and GaLore's Table 2 perplexities (LLaMA on C4 at 60M, 130M, 350M,
// 1B; GalorePaperSizes).
type SuccessorMethod struct {
	Name string
	// Centre is the rate the search is centred on, as a multiple of the
	// preset's full-rank rate: where each method's own paper trains it.
	Centre float64
	Paper  []float64
}

// SuccessorMethods are the rows, in table order. Centres: full training
// at the preset's rate, ReLoRA at twice it (the ReLoRA paper's LoRA rate),
// GaLore at ten times (GaLore's scripts: 0.01 against full-rank's 0.001),
// low-rank at twice (its factors train from scratch like LoRA's).
var SuccessorMethods = []SuccessorMethod{
	{RowScalingFull, 1, []float64{34.06, 25.08, 18.80, 15.56}},
	{RowScalingReLoRA, 2, []float64{37.04, 29.37, 29.08, 18.33}},
	{RowSuccessorGaLore, 10, []float64{34.88, 25.36, 18.95, 15.64}},
	{RowSuccessorLowRank, 2, []float64{78.18, 45.51, 37.41, 142.53}},
}

// GaLorePaperSizes names the columns of GaLore's Table 2.
var GaLorePaperSizes = []string{"60M", "130M", "350M", "1B"}

// Search settings, the same for every method: three rates a factor of 2
// apart around its centre, extended by the next factor of 2 past whichever
// end is best until the best rate is an interior point, at most
// SearchMaxRates rates in all.
const (
	SearchStep     = 2.0
	SearchMaxRates = 6
	// SearchSeed is the searches' seed: none of the table's seeds, so the
	// rate is not chosen on a run the table then reports.
	SearchSeed uint64 = 100
)

// SuccessorsSpec is the experiment for a preset.
type SuccessorsSpec struct {
	Preset Preset
	// Sizes are the ladder's rungs the methods train at: every rung but
	// the largest, whose runs cost as much as all the others together.
	Sizes []Size
	// SearchSize is the rung the learning rates are searched at: the
	// second, the cheapest above the smallest.
	SearchSize Size
}

// Successors returns the preset's successors experiment.
func Successors(p Preset) (SuccessorsSpec, error) {
	ladder, err := Ladder(p)
	if err != nil {
		return SuccessorsSpec{}, err
	}
	if len(ladder) < 3 {
		return SuccessorsSpec{}, fmt.Errorf("experiments: preset %q's ladder has %d rungs; the successors need 3", p.Name, len(ladder))
	}
	return SuccessorsSpec{Preset: p, Sizes: ladder[:len(ladder)-1], SearchSize: ladder[1]}, nil
}

// sized is the preset's base config at a rung of the ladder, seeded; its
// LoRA rank and alpha are the rung's (alpha = r keeps the scale at 1).
func sized(p Preset, size Size, seed uint64) (train.Config, error) {
	base := p.Base
	base.Seed = seed
	m := &base.Model
	m.Dim, m.Layers, m.Heads, m.FFN = size.Dim, size.Layers, size.Heads, size.FFN
	base.ReLoRA.Rank, base.ReLoRA.Alpha = size.Rank, float64(size.Rank)
	if err := m.Validate(); err != nil {
		return train.Config{}, fmt.Errorf("experiments: size %s: %w", size.Name, err)
	}
	return base, nil
}

// Centre returns the rate a method's search starts from.
func (s SuccessorsSpec) Centre(method string) float64 {
	for _, m := range SuccessorMethods {
		if m.Name == method {
			return m.Centre * s.Preset.Base.LR
		}
	}
	panic("experiments: no successors row " + method)
}

// Config is a method's run at a rung, rate and seed. The rate is the one
// the method's trainable weights use: full training's, ReLoRA's low-rank
// phase (its warm start keeps the preset's full-rank rate, as Table 2's
// does), GaLore's and low-rank's whole run.
func (s SuccessorsSpec) Config(method string, size Size, lr float64, seed uint64) (train.Config, error) {
	base, err := sized(s.Preset, size, seed)
	if err != nil {
		return train.Config{}, err
	}
	var cfg train.Config
	switch method {
	case RowScalingFull:
		cfg = withMethod(base, relora.MethodFull, false, false, false, false)
		cfg.LR = lr
	case RowScalingReLoRA:
		cfg = withMethod(base, relora.MethodLoRA, true, true, true, true)
		cfg.ReLoRA.LR = lr
	case RowSuccessorGaLore:
		cfg = withMethod(base, relora.MethodGaLore, false, false, false, false)
		cfg.ReLoRA.GaLoreRefreshEvery, cfg.ReLoRA.GaLoreScale = relora.DefaultGaLoreRefreshEvery, relora.DefaultGaLoreScale
		cfg.LR = lr
	case RowSuccessorLowRank:
		cfg = withMethod(base, relora.MethodLowRank, false, false, false, false)
		cfg.LR = lr
	default:
		return train.Config{}, fmt.Errorf("experiments: no successors row %q", method)
	}
	return cfg, cfg.Validate()
}

// SearchRun is one method's run at the search rung and seed.
func (s SuccessorsSpec) SearchRun(method string, lr float64) (Run, error) {
	cfg, err := s.Config(method, s.SearchSize, lr, SearchSeed)
	if err != nil {
		return Run{}, err
	}
	return Run{Row: method, Size: "lr " + strconv.FormatFloat(lr, 'g', 4, 64), Seed: SearchSeed, Config: cfg}, nil
}

// FirstSearch are the searches' first rates: the centre and a factor of 2
// either side, for every method.
func (s SuccessorsSpec) FirstSearch() ([]Run, error) {
	var out []Run
	for _, m := range SuccessorMethods {
		c := s.Centre(m.Name)
		for _, lr := range []float64{c / SearchStep, c, c * SearchStep} {
			r, err := s.SearchRun(m.Name, lr)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// LRLoss is one searched rate and the final validation loss it reached
// (+Inf for a diverged run).
type LRLoss struct {
	LR   float64 `json:"lr"`
	Loss float64 `json:"val_loss"`
}

// Best returns the rate with the lowest loss (the lower rate on a tie)
// and whether it is interior: a rate on either side of it was searched.
func Best(points []LRLoss) (best LRLoss, interior bool) {
	pts := slices.Clone(points)
	slices.SortFunc(pts, func(a, b LRLoss) int { return cmpFloat(a.LR, b.LR) })
	i := 0
	for j, p := range pts {
		if p.Loss < pts[i].Loss {
			i = j
		}
	}
	return pts[i], i > 0 && i < len(pts)-1
}

// NextRate returns the rate to search next for a method, given its
// searched points: a factor of 2 past the best end, or false when the best
// is interior or the method has had SearchMaxRates rates.
func NextRate(points []LRLoss) (float64, bool) {
	return widen(points, SearchStep, SearchMaxRates)
}

// widen is a staged search's next rate: a factor of step past whichever
// end of points is best, or false when the best is interior or the search
// has had maxRates rates.
func widen(points []LRLoss, step float64, maxRates int) (float64, bool) {
	if len(points) == 0 || len(points) >= maxRates {
		return 0, false
	}
	best, interior := Best(points)
	if interior {
		return 0, false
	}
	lo, hi := math.Inf(1), 0.0
	for _, p := range points {
		lo, hi = min(lo, p.LR), max(hi, p.LR)
	}
	if best.LR == lo {
		return lo / step, true
	}
	return hi * step, true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// LadderRuns are every method at every rung and seed, each at its chosen
// rate (chosen maps a method to it; methods it lacks are left out). Seed
// by seed, so a matrix stopped part-way has whole seeds; largest rung
// first within a seed, so the long runs do not end alone on one core.
func (s SuccessorsSpec) LadderRuns(chosen map[string]float64, seeds []uint64) ([]Run, error) {
	var out []Run
	for _, seed := range seeds {
		for i := len(s.Sizes) - 1; i >= 0; i-- {
			size := s.Sizes[i]
			for _, m := range SuccessorMethods {
				lr, ok := chosen[m.Name]
				if !ok {
					continue
				}
				cfg, err := s.Config(m.Name, size, lr, seed)
				if err != nil {
					return nil, err
				}
				out = append(out, Run{Row: m.Name, Size: size.Name, Seed: seed, Config: cfg})
			}
		}
	}
	return out, nil
}
