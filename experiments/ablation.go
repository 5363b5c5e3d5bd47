package experiments

import (
	"fmt"
	"strings"

	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// AblationRow is a row of the paper's Table 1.
type AblationRow struct {
	Name       string
	R, O, J    bool // restarts, optimizer reset, jagged schedule
	WS         bool // warm start
	Full       bool // plain full-rank training
	PaperPPL   float64
	PaperNotes string // "diverged" where the paper reports it
}

// AblationRows are the paper's Table 1 rows, in its order, with its
// validation perplexities (the 130M model on C4, Lialin et al. Table 1).
var AblationRows = []AblationRow{
	{Name: "LoRA", PaperPPL: 34.17},
	{Name: "+R", R: true, PaperPPL: 34.25},
	{Name: "+R+O", R: true, O: true, PaperNotes: "diverged"},
	{Name: "+R+J", R: true, J: true, PaperPPL: 34.29},
	{Name: "+R+O+J", R: true, O: true, J: true, PaperPPL: 29.77},
	{Name: "LoRA+WS", WS: true, PaperPPL: 25.46},
	{Name: "ReLoRA (R+O+J+WS)", R: true, O: true, J: true, WS: true, PaperPPL: 25.04},
	{Name: "Full-rank", Full: true, PaperPPL: 23.65},
}

// Ablation expands Table 1 for a preset: every row × every seed.
func Ablation(p Preset) []Run {
	return AblationOf(p, AblationRows)
}

// AblationOf expands the given rows of Table 1 for a preset.
func AblationOf(p Preset, rows []AblationRow) []Run {
	var runs []Run
	for _, row := range rows {
		for _, seed := range p.Seeds {
			base := p.Base
			base.Seed = seed
			var cfg = withMethod(base, relora.MethodLoRA, row.R, row.O, row.J, row.WS)
			if row.Full {
				cfg = withMethod(base, relora.MethodFull, false, false, false, false)
			}
			runs = append(runs, Run{Row: row.Name, Seed: seed, Config: cfg})
		}
	}
	return runs
}

// Spectra returns the runs Fig. 5 compares, for the preset's first seed:
// full-rank, LoRA with warm start and ReLoRA, the same runs (and cache
// entries) as their Table 1 rows.
func Spectra(p Preset) []Run {
	p.Seeds = p.Seeds[:1]
	var out []Run
	for _, r := range Ablation(p) {
		switch r.Row {
		case RowFull, RowLoRAWS, RowReLoRA:
			out = append(out, r)
		}
	}
	return out
}

// Names of the rows other packages look up.
const (
	RowFull   = "Full-rank"
	RowLoRAWS = "LoRA+WS"
	RowReLoRA = "ReLoRA (R+O+J+WS)"
)

// AblationRowsNamed returns the Table 1 rows with the given names, in the
// table's order (all of them for no names).
func AblationRowsNamed(names []string) ([]AblationRow, error) {
	if len(names) == 0 {
		return AblationRows, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []AblationRow
	for _, r := range AblationRows {
		if want[r.Name] {
			out = append(out, r)
			delete(want, r.Name)
		}
	}
	for n := range want {
		var have []string
		for _, r := range AblationRows {
			have = append(have, r.Name)
		}
		return nil, fmt.Errorf("experiments: no Table 1 row %q (have %s)", n, strings.Join(have, ", "))
	}
	return out, nil
}

// RowName names a config's method as Table 1 does ("ReLoRA (R+O+J+WS)",
// "LoRA+WS", "+R+O", "Full-rank", ...; "Control" for the control model).
func RowName(cfg train.Config) string {
	r := cfg.ReLoRA
	switch r.Method {
	case relora.MethodFull:
		return RowFull
	case relora.MethodControl:
		return "Control"
	case relora.MethodGaLore:
		return "GaLore"
	case relora.MethodLowRank:
		return "Low-rank"
	}
	for _, row := range AblationRows {
		if !row.Full && row.R == r.Restarts && row.O == r.OptimizerReset && row.J == r.Jagged && row.WS == (r.WarmStartSteps > 0) {
			return row.Name
		}
	}
	name := ""
	for _, f := range []struct {
		on  bool
		tag string
	}{{r.Restarts, "R"}, {r.OptimizerReset, "O"}, {r.Jagged, "J"}, {r.WarmStartSteps > 0, "WS"}} {
		if f.on {
			name += "+" + f.tag
		}
	}
	return name
}
