package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/throughput"
)

func TestReportReusesTable4OfTheSamePreset(t *testing.T) {
	dir := t.TempDir()
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, throughput.JSONFile), []byte(`{"preset":"quick","rank":4}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tt, note, err := throughputForReport(p, dir, false)
	if err != nil || tt.Rank != 4 || !strings.Contains(note, "reused") {
		t.Fatalf("got %+v, %q, %v; want the stored table reused", tt, note, err)
	}
}

func TestReportNamesACorruptTable4(t *testing.T) {
	dir := t.TempDir()
	p, _ := experiments.Get("quick")
	if err := os.WriteFile(filepath.Join(dir, throughput.JSONFile), []byte(`{"preset":`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := throughputForReport(p, dir, false)
	if err == nil || !strings.Contains(err.Error(), throughput.JSONFile) {
		t.Fatalf("error %v, want one naming %s", err, throughput.JSONFile)
	}
}
