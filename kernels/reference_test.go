package kernels

import (
	"runtime"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestReferenceArithmetic: the records' arithmetic is the Go backend on an
// amd64 CPU with AVX2 and FMA; anywhere else the function must say why not.
func TestReferenceArithmetic(t *testing.T) {
	err := ReferenceArithmetic()
	want := GemmBackend == "go" && runtime.GOARCH == "amd64" && cpu.X86.HasAVX2 && cpu.X86.HasFMA && !puregoBuild
	if want && err != nil {
		t.Fatalf("an AVX2+FMA CPU with the Go backend: %v", err)
	}
	if !want && err == nil {
		t.Fatal("off the reference arithmetic, ReferenceArithmetic returned nil")
	}
}
