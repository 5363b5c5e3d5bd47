//go:build amd64.v3

package unfused

// This file is built only at GOAMD64=v3 or v4, where the compiler fuses
// a*b + c into one rounding (doc.go): the identifier below is undefined on
// purpose, so that the build fails with the fix in its error message.
var _ = buildWithGOAMD64_v1_or_v2_because_v3_fuses_multiply_adds_and_changes_results
