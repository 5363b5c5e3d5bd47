package tasks

import (
	"bytes"
	"fmt"
	"unicode"
)

// bookMarks are the lines that open Opticks' three Books (their first
// occurrence: running heads repeat them).
var bookMarks = []string{"THE FIRST BOOK OF OPTICKS", "SECOND BOOK", "THIRD BOOK"}

// Sentences of the books task.
const (
	minSentence = 40
	bookRun     = 8 // dev takes whole runs of this many consecutive sentences
)

// Sentences splits text into sentences: whitespace runs become one space,
// and a sentence ends at '.', '?' or '!' followed by a space and an
// upper-case letter or '_' (italics). Abbreviations such as "Prop." split
// too; the books task drops the short pieces that leaves.
func Sentences(text []byte) [][]byte {
	flat := bytes.Join(bytes.Fields(text), []byte(" "))
	var out [][]byte
	start := 0
	for i := 0; i+2 < len(flat); i++ {
		c := flat[i]
		if (c == '.' || c == '?' || c == '!') && flat[i+1] == ' ' && (unicode.IsUpper(rune(flat[i+2])) || flat[i+2] == '_') {
			out = append(out, flat[start:i+1])
			start = i + 2
		}
	}
	if start < len(flat) {
		out = append(out, flat[start:])
	}
	return out
}

func buildBooks(src *Sources, seed uint64, spec Spec) (train, dev []Example, err error) {
	text := src.Opticks
	var starts []int
	for _, mark := range bookMarks {
		k := bytes.Index(text, []byte(mark))
		if k < 0 || (len(starts) > 0 && k <= starts[len(starts)-1]) {
			return nil, nil, fmt.Errorf("opticks: no %q after the previous Book", mark)
		}
		starts = append(starts, k)
	}
	starts = append(starts, len(text))
	r := newRNG(seed, spec.Name, "split")
	for book := range 3 {
		var run []Example
		flush := func() {
			if r.float() < 0.2 {
				dev = append(dev, run...)
			} else {
				train = append(train, run...)
			}
			run = nil
		}
		for _, s := range Sentences(text[starts[book]:starts[book+1]]) {
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
	shuffle(newRNG(seed, spec.Name, "train"), train)
	shuffle(newRNG(seed, spec.Name, "dev"), dev)
	return train, dev, nil
}
