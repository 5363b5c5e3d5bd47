package kernels

import "math"

func math64Exp(x float64) float64 { return math.Exp(x) }
