package tasks

import (
	"bytes"
	"fmt"
	"regexp"
	"unicode"
	"unicode/utf8"
)

// bookHeading matches the headings that open Opticks' Books ("THE FIRST
// BOOK OF OPTICKS", and "THE / SECOND BOOK / OF / OPTICKS" over lines).
// The first of each marks where its Book starts; running heads repeat
// them at the Parts. Every one is cut from the text: a sentence that
// opens with one would name its Book outright.
var bookHeading = regexp.MustCompile(`THE\s+(FIRST|SECOND|THIRD)\s+BOOK\s+OF\s+OPTICKS`)

// bookOrdinals are the headings' ordinals, in the Books' order.
var bookOrdinals = []string{"FIRST", "SECOND", "THIRD"}

// Sentences of the books task.
const (
	minSentence = 40
	bookRun     = 8 // dev and test take whole runs of this many consecutive sentences
)

// Sentences splits text into sentences: whitespace runs become one space,
// and a sentence ends at '.', '?' or '!' followed by a space and an
// upper-case letter or '_' (italics), read as a whole UTF-8 rune (the first
// byte of '§' is no letter). Abbreviations such as "Prop." split too; the
// books task drops the short pieces that leaves.
func Sentences(text []byte) [][]byte {
	flat := bytes.Join(bytes.Fields(text), []byte(" "))
	var out [][]byte
	start := 0
	for i := 0; i+2 < len(flat); i++ {
		c := flat[i]
		if (c == '.' || c == '?' || c == '!') && flat[i+1] == ' ' {
			if r, _ := utf8.DecodeRune(flat[i+2:]); unicode.IsUpper(r) || r == '_' {
				out = append(out, flat[start:i+1])
				start = i + 2
			}
		}
	}
	if start < len(flat) {
		out = append(out, flat[start:])
	}
	return out
}

// bookTexts returns the text of each Book, from its first heading to the
// next Book's, with every Book heading blanked; the front matter before
// Book I is left out.
func bookTexts(text []byte) ([][]byte, error) {
	heads := bookHeading.FindAllSubmatchIndex(text, -1)
	starts := make([]int, len(bookOrdinals))
	for b, ord := range bookOrdinals {
		starts[b] = -1
		for _, h := range heads {
			if string(text[h[2]:h[3]]) == ord {
				starts[b] = h[0]
				break
			}
		}
		if starts[b] < 0 || (b > 0 && starts[b] <= starts[b-1]) {
			return nil, fmt.Errorf("opticks: no heading of the %s BOOK after the previous Book's", ord)
		}
	}
	blank := bytes.Clone(text)
	for _, h := range heads {
		for i := h[0]; i < h[1]; i++ {
			blank[i] = ' '
		}
	}
	var out [][]byte
	for b, s := range starts {
		end := len(blank)
		if b+1 < len(starts) {
			end = starts[b+1]
		}
		out = append(out, blank[s:end])
	}
	return out, nil
}

func buildBooks(src *Sources, seed uint64, spec Spec) ([3][]Example, error) {
	var out [3][]Example
	books, err := bookTexts(src.Opticks)
	if err != nil {
		return out, err
	}
	r := newRNG(seed, spec.Name, "split")
	for book, text := range books {
		var run []Example
		flush := func() {
			// A fifth of the runs each to dev and test.
			s := inTrain
			switch u := r.float(); {
			case u < 0.2:
				s = inDev
			case u < 0.4:
				s = inTest
			}
			out[s] = append(out[s], run...)
			run = nil
		}
		for _, s := range Sentences(text) {
			if len(s) < minSentence {
				continue
			}
			run = append(run, Example{A: s, Label: book})
			if len(run) == bookRun {
				flush()
			}
		}
		if len(run) > 0 {
			flush()
		}
	}
	for s := range out {
		shuffle(newRNG(seed, spec.Name, splitNames[s]), out[s])
	}
	return out, nil
}
