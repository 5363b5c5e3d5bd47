package unfused

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const self = "github.com/relorago/harness/internal/unfused"

// TestRefusesGOAMD64v3 builds this package at GOAMD64=v3, which must fail
// with the fix in its message, and at v2, which must build; and checks that
// the packages computing training values import it.
func TestRefusesGOAMD64v3(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	run := func(level string, args ...string) (string, error) {
		cmd := exec.Command(goCmd, args...)
		cmd.Env = append(os.Environ(), "GOARCH=amd64", "GOAMD64="+level)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("v3", "build", self)
	if err == nil {
		t.Fatal("built at GOAMD64=v3; the guard should have stopped it")
	}
	if !strings.Contains(out, "buildWithGOAMD64_v1_or_v2") {
		t.Fatalf("the GOAMD64=v3 build failed without naming the fix:\n%s", out)
	}
	if out, err := run("v2", "build", self); err != nil {
		t.Fatalf("the GOAMD64=v2 build failed: %v\n%s", err, out)
	}
	for _, pkg := range []string{"github.com/relorago/harness/kernels/vecmath", "github.com/relorago/harness/kernels/gemm"} {
		out, err := run("v1", "list", "-f", "{{join .Imports \" \"}}", pkg)
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		if !strings.Contains(" "+strings.TrimSpace(out)+" ", " "+self+" ") {
			t.Errorf("%s does not import %s, so GOAMD64=v3 would build it with fused multiply-adds", pkg, self)
		}
	}
}
