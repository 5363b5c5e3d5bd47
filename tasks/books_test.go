package tasks

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestBooksLabels(t *testing.T) {
	task, err := buildSpec(small(t, "books"), synthSources(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range append(append(task.Train, task.Dev...), task.Test...) {
		if want := fmt.Sprintf("of the book %d ", ex.Label+1); !bytes.Contains(ex.A, []byte(want)) {
			t.Fatalf("%q labelled %s", ex.A, task.Classes[ex.Label])
		}
		if bytes.Contains(ex.A, []byte("Front matter")) {
			t.Fatalf("text before Book I taken: %q", ex.A)
		}
	}
}

// A sentence ends before an upper-case letter read as a whole rune: '§'
// (whose first byte, read alone, is 'Â') and 'é' start none, 'Æ' does.
func TestSentencesReadRunes(t *testing.T) {
	got := Sentences([]byte("See Sect. § 29. and Lect. éd. 2. Æther fills Space. _Prop._ One more."))
	want := []string{"See Sect. § 29. and Lect. éd. 2.", "Æther fills Space.", "_Prop._ One more."}
	if len(got) != len(want) {
		t.Fatalf("sentences %q, want %q", got, want)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("sentence %d: %q, want %q", i, got[i], want[i])
		}
	}
}

// namesBook matches what would name a Book outright: any of its headings'
// words in capitals.
var namesBook = regexp.MustCompile(`BOOK|(FIRST|SECOND|THIRD)\s+(BOOK|OF\s+OPTICKS)`)

// No sentence names its Book by a heading, on the synthetic corpus (whose
// headings are laid out over lines as Opticks' are) and on Opticks; and
// each Book's text starts at its heading, not a word before.
func TestBooksShowNoHeading(t *testing.T) {
	check := func(corpus string, task *Task) {
		t.Helper()
		for _, ex := range append(append(task.Train, task.Dev...), task.Test...) {
			if namesBook.Match(ex.A) {
				t.Errorf("%s: %q names a Book", corpus, ex.A)
			}
		}
	}
	task, err := buildSpec(small(t, "books"), synthSources(), 1)
	if err != nil {
		t.Fatal(err)
	}
	check("synthetic", task)
	books, err := bookTexts(synthSources().Opticks)
	if err != nil {
		t.Fatal(err)
	}
	for b, text := range books {
		if b > 0 && strings.HasSuffix(strings.TrimSpace(string(books[b-1])), "THE") {
			t.Errorf("Book %d ends in the next heading's first word", b)
		}
		if !strings.HasPrefix(strings.TrimSpace(string(text)), "Sentence number 0 ") {
			t.Errorf("Book %d starts %q", b+1, text[:40])
		}
	}
	toolchain(t)
	task, err = Generate("books", 1)
	if err != nil {
		t.Fatal(err)
	}
	check("Opticks", task)
	src, _ := LoadSources()
	if n := len(bookHeading.FindAll(src.Opticks, -1)); n != 7 {
		t.Errorf("Opticks has %d Book headings, want 7 (3 Books, 4 running heads)", n)
	}
}
