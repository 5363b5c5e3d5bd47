package train

// The checkpoint file format: safetensors (huggingface/safetensors), so a
// checkpoint opens in Python with safetensors.numpy.load_file (the tensors)
// and safe_open(path, "np").metadata() (everything else), and a Go reader
// can bound every allocation by the file's size before making it.
//
//	bytes 0..8     N, the header's length in bytes, little-endian uint64
//	bytes 8..8+N   the header: one JSON object, padded with spaces so that
//	               8+N is a multiple of 8 (the data is 8-byte aligned)
//	bytes 8+N..    the data: the tensors' bytes back to back, little-endian
//
// The header maps every tensor name to
// {"dtype":"F32","shape":[n],"data_offsets":[begin,end]} (byte offsets into
// the data, end exclusive; the tensors tile the data exactly, in name
// order), and "__metadata__" to a string→string map. The tensors:
//
//	<name>          a parameter, by model.Param name ("layers.0.q.weight"), flat
//	adam.m.<name>   AdamW's first moment of that parameter
//	adam.v.<name>   AdamW's second moment of that parameter
//	galore.p.<name> GaLore's projector of that parameter (galore.Projector.P);
//	                its moments above then hold the projected gradient's
//	                shape (r×n or m×r), not the parameter's
//
// The metadata (JSON values are strings holding JSON; numbers that are not
// finite are written "NaN", "+Inf" or "-Inf", as Number does):
//
//	checkpoint_format  "relora-harness-checkpoint/1" (required)
//	step               optimizer steps completed, decimal (required)
//	adam_steps         JSON {"<name>": AdamW step counter} for every adam.m/adam.v pair
//	galore             JSON {"<name>": {"left","rows","cols","rank"}} for every galore.p tensor
//	extra              JSON {"merges": 2, ...}: method counters
//	evals              JSON [{"step","loss","perplexity","bits_per_byte"}, ...]
//	resets             JSON [{"step","zeroed_m","zeroed_v"}, ...]
//	config             the JSON of the config that wrote the checkpoint
//	recent_loss        JSON [losses]: the last training losses
//	train_seconds      decimal
//	wall_seconds       decimal
//
// Keys of empty fields are left out; unknown metadata keys are ignored.
// The reader reads the whole file, checks that the header lies inside it,
// that every tensor is F32 with shape × 4 bytes equal to its byte range and
// that the ranges tile the data, before it allocates the tensors' values, so
// a file of n bytes never makes it allocate more than a small multiple of n.
// A decoded checkpoint then passes the same checks (validate) as one about to
// be saved: steps ≥ 0, moments as long as their parameter, and so on.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	checkpointFormat = "relora-harness-checkpoint/1"
	adamMPrefix      = "adam.m."
	adamVPrefix      = "adam.v."
	galorePrefix     = "galore.p."
	metadataKey      = "__metadata__"

	// Metadata keys.
	metaFormat       = "checkpoint_format"
	metaStep         = "step"
	metaAdamSteps    = "adam_steps"
	metaGaLore       = "galore"
	metaExtra        = "extra"
	metaEvals        = "evals"
	metaResets       = "resets"
	metaConfig       = "config"
	metaRecentLoss   = "recent_loss"
	metaTrainSeconds = "train_seconds"
	metaWallSeconds  = "wall_seconds"
)

// errNotSafetensors is what a file of another format gets, such as a gob
// checkpoint of the harness's earlier versions.
var errNotSafetensors = errors.New("not a safetensors checkpoint (written by an older version?)")

// tensorInfo is one tensor's header entry.
type tensorInfo struct {
	DType       string   `json:"dtype"`
	Shape       []uint64 `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// evalJSON and resetJSON are Eval and Reset with every float a Number, so
// that a NaN or an infinity is written instead of failing the save.
type evalJSON struct {
	Step        int    `json:"step"`
	Loss        Number `json:"loss"`
	Perplexity  Number `json:"perplexity"`
	BitsPerByte Number `json:"bits_per_byte"`
}

type resetJSON struct {
	Step    int    `json:"step"`
	ZeroedM Number `json:"zeroed_m"`
	ZeroedV Number `json:"zeroed_v"`
}

// encode returns the checkpoint as a safetensors file whose metadata holds
// a checksum of the rest (see checkpoint_checksum.go). Equal checkpoints
// give identical bytes.
func (ck *Checkpoint) encode() ([]byte, error) {
	plain, err := ck.encodeWith(nil)
	if err != nil {
		return nil, err
	}
	return ck.encodeWith(map[string]string{metaChecksum: checksumOf(plain)})
}

// encodeWith is encode with extra metadata entries.
func (ck *Checkpoint) encodeWith(extraMeta map[string]string) ([]byte, error) {
	if err := ck.validate(); err != nil {
		return nil, err
	}
	type tensor struct {
		name string
		v    []float32
	}
	ts := make([]tensor, 0, len(ck.Params)+2*len(ck.Adam))
	for name, v := range ck.Params {
		ts = append(ts, tensor{name, v})
	}
	for name, s := range ck.Adam {
		ts = append(ts, tensor{adamMPrefix + name, s.M}, tensor{adamVPrefix + name, s.V})
		if s.Proj != nil {
			ts = append(ts, tensor{galorePrefix + name, s.Proj.P})
		}
	}
	slices.SortFunc(ts, func(a, b tensor) int { return strings.Compare(a.name, b.name) })

	header := make(map[string]any, len(ts)+1)
	var size uint64
	for _, t := range ts {
		n := 4 * uint64(len(t.v))
		header[t.name] = tensorInfo{DType: "F32", Shape: []uint64{uint64(len(t.v))}, DataOffsets: []uint64{size, size + n}}
		size += n
	}
	meta, err := ck.metadata()
	if err != nil {
		return nil, err
	}
	maps.Copy(meta, extraMeta)
	header[metadataKey] = meta
	h, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}

	buf := make([]byte, 8+uint64(len(h))+size)
	binary.LittleEndian.PutUint64(buf, uint64(len(h)))
	copy(buf[8:], h)
	d := buf[8+len(h):]
	for _, t := range ts {
		for i, x := range t.v {
			binary.LittleEndian.PutUint32(d[4*i:], math.Float32bits(x))
		}
		d = d[4*len(t.v):]
	}
	return buf, nil
}

// metadata returns the checkpoint's fields other than tensors.
func (ck *Checkpoint) metadata() (map[string]string, error) {
	m := map[string]string{
		metaFormat: checkpointFormat,
		metaStep:   strconv.Itoa(ck.Step),
	}
	put := func(key string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		m[key] = string(b)
		return nil
	}
	var err error
	if len(ck.Adam) > 0 {
		steps := make(map[string]int, len(ck.Adam))
		for name, s := range ck.Adam {
			steps[name] = s.Step
		}
		err = errors.Join(err, put(metaAdamSteps, steps))
		if shapes := projectorShapes(ck.Adam); len(shapes) > 0 {
			err = errors.Join(err, put(metaGaLore, shapes))
		}
	}
	if len(ck.Extra) > 0 {
		extra := make(map[string]Number, len(ck.Extra))
		for k, v := range ck.Extra {
			extra[k] = Number(v)
		}
		err = errors.Join(err, put(metaExtra, extra))
	}
	if len(ck.Evals) > 0 {
		evals := make([]evalJSON, len(ck.Evals))
		for i, e := range ck.Evals {
			evals[i] = evalJSON{e.Step, Number(e.Loss), e.Perplexity, Number(e.BitsPerByte)}
		}
		err = errors.Join(err, put(metaEvals, evals))
	}
	if len(ck.Resets) > 0 {
		resets := make([]resetJSON, len(ck.Resets))
		for i, r := range ck.Resets {
			resets[i] = resetJSON{r.Step, Number(r.ZeroedM), Number(r.ZeroedV)}
		}
		err = errors.Join(err, put(metaResets, resets))
	}
	if len(ck.Config) > 0 {
		m[metaConfig] = string(ck.Config)
	}
	if len(ck.RecentLoss) > 0 {
		loss := make([]Number, len(ck.RecentLoss))
		for i, l := range ck.RecentLoss {
			loss[i] = Number(l)
		}
		err = errors.Join(err, put(metaRecentLoss, loss))
	}
	if ck.TrainSeconds != 0 {
		m[metaTrainSeconds] = strconv.FormatFloat(ck.TrainSeconds, 'g', -1, 64)
	}
	if ck.WallSeconds != 0 {
		m[metaWallSeconds] = strconv.FormatFloat(ck.WallSeconds, 'g', -1, 64)
	}
	return m, err
}

// decodeCheckpoint parses a whole checkpoint file. Its errors say what is
// wrong; the caller adds the file's name.
func decodeCheckpoint(b []byte) (*Checkpoint, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: the file is only %d bytes", errNotSafetensors, len(b))
	}
	n, rest := binary.LittleEndian.Uint64(b), uint64(len(b)-8)
	startsJSON := rest > 0 && b[8] == '{'
	switch {
	case n > rest && startsJSON:
		return nil, fmt.Errorf("truncated: the header alone is %d bytes, the file has %d after the header length", n, rest)
	case n > rest:
		return nil, fmt.Errorf("%w: the header length %d exceeds the file's %d bytes", errNotSafetensors, n, len(b))
	case !startsJSON:
		return nil, fmt.Errorf("%w: the header does not start with '{'", errNotSafetensors)
	}
	tensors, meta, err := parseHeader(b[8 : 8+n])
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	data := b[8+n:]
	if err := checkLayout(tensors, uint64(len(data))); err != nil {
		return nil, err
	}
	ck, err := fromMetadata(meta)
	if err != nil {
		return nil, err
	}
	params, adam, projectors := sortTensors(tensors, data)
	var steps map[string]int
	if err := jsonMeta(meta, metaAdamSteps, &steps); err != nil {
		return nil, err
	}
	ck.Params = params
	if ck.Adam, err = pairMoments(adam, steps); err != nil {
		return nil, err
	}
	if err := attachProjectors(ck.Adam, projectors, meta); err != nil {
		return nil, err
	}
	if err := ck.validate(); err != nil {
		return nil, err
	}
	if err := ck.verifyChecksum(meta); err != nil {
		return nil, err
	}
	return ck, nil
}

// moments are one parameter's Adam moment tensors as found in the file.
type moments struct {
	m, v       []float32
	hasM, hasV bool
}

// sortTensors splits the file's tensors into weights, Adam moments (by
// parameter) and GaLore projectors (by parameter), by name prefix.
func sortTensors(tensors map[string]tensorInfo, data []byte) (params map[string][]float32, adam map[string]*moments, projectors map[string][]float32) {
	params, adam, projectors = map[string][]float32{}, map[string]*moments{}, map[string][]float32{}
	state := func(name string) *moments {
		if adam[name] == nil {
			adam[name] = &moments{}
		}
		return adam[name]
	}
	for name, t := range tensors {
		v := float32s(data[t.DataOffsets[0]:t.DataOffsets[1]])
		if p, ok := strings.CutPrefix(name, adamMPrefix); ok {
			s := state(p)
			s.m, s.hasM = v, true
		} else if p, ok := strings.CutPrefix(name, adamVPrefix); ok {
			s := state(p)
			s.v, s.hasV = v, true
		} else if p, ok := strings.CutPrefix(name, galorePrefix); ok {
			projectors[p] = v
		} else {
			params[name] = v
		}
	}
	return params, adam, projectors
}

// pairMoments makes each parameter's AdamW state from its two moment
// tensors and its step counter, refusing a state with a piece missing.
func pairMoments(adam map[string]*moments, steps map[string]int) (map[string]*AdamState, error) {
	out := map[string]*AdamState{}
	for name, s := range adam {
		step, ok := steps[name]
		switch {
		case !s.hasM:
			return nil, fmt.Errorf("tensor %s%s is missing (%s%s is there)", adamMPrefix, name, adamVPrefix, name)
		case !s.hasV:
			return nil, fmt.Errorf("tensor %s%s is missing (%s%s is there)", adamVPrefix, name, adamMPrefix, name)
		case !ok:
			return nil, fmt.Errorf("metadata %s has no step counter for the AdamW state of %q", metaAdamSteps, name)
		}
		out[name] = &AdamState{M: s.m, V: s.v, Step: step}
	}
	for name := range steps {
		if adam[name] == nil {
			return nil, fmt.Errorf("metadata %s has a step counter for %q, which has no tensors %s%s and %s%s", metaAdamSteps, name, adamMPrefix, name, adamVPrefix, name)
		}
	}
	return out, nil
}

// parseHeader decodes the header's JSON object, refusing duplicate names,
// unknown fields and anything after the object but the padding.
func parseHeader(h []byte) (map[string]tensorInfo, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(h))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("not a JSON object: %w", err)
	} else if tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("not a JSON object")
	}
	tensors := map[string]tensorInfo{}
	var meta map[string]string
	seenMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("not a JSON object: %w", err)
		}
		name, _ := tok.(string)
		if name == metadataKey {
			if seenMeta {
				return nil, nil, fmt.Errorf("%s appears twice", metadataKey)
			}
			seenMeta = true
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", metadataKey, err)
			}
			continue
		}
		if _, dup := tensors[name]; dup {
			return nil, nil, fmt.Errorf("tensor %q appears twice", name)
		}
		var t tensorInfo
		if err := dec.Decode(&t); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		tensors[name] = t
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("data after the JSON object")
	}
	return tensors, meta, nil
}

// checkLayout checks every tensor's dtype, shape and byte range against a
// data section of size bytes: F32, shape product × 4 = end − begin, and the
// ranges tiling the data with neither gap nor overlap (safetensors' rule).
func checkLayout(tensors map[string]tensorInfo, size uint64) error {
	names := make([]string, 0, len(tensors))
	for name, t := range tensors {
		if t.DType != "F32" {
			return fmt.Errorf("tensor %q has dtype %q, checkpoints hold F32 only", name, t.DType)
		}
		if t.Shape == nil {
			return fmt.Errorf("tensor %q has no shape", name)
		}
		if len(t.DataOffsets) != 2 {
			return fmt.Errorf("tensor %q: data_offsets has %d numbers, want [begin, end]", name, len(t.DataOffsets))
		}
		begin, end := t.DataOffsets[0], t.DataOffsets[1]
		if begin > end || end > size {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] are not a range inside the %d bytes of data (truncated file?)", name, begin, end, size)
		}
		// The element count, stopping before it could exceed the data.
		numel := uint64(1)
		if slices.Contains(t.Shape, 0) {
			numel = 0
		}
		for _, d := range t.Shape {
			if numel == 0 {
				break
			}
			if d > size/4/numel {
				return fmt.Errorf("tensor %q: shape %v needs more than the %d bytes of data", name, t.Shape, size)
			}
			numel *= d
		}
		if end-begin != 4*numel {
			return fmt.Errorf("tensor %q: shape %v is %d bytes of F32, data_offsets [%d, %d] hold %d", name, t.Shape, 4*numel, begin, end, end-begin)
		}
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		ta, tb := tensors[a].DataOffsets, tensors[b].DataOffsets
		if c := cmpU64(ta[0], tb[0]); c != 0 {
			return c
		}
		if c := cmpU64(ta[1], tb[1]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var at uint64
	prev := ""
	for _, name := range names {
		begin := tensors[name].DataOffsets[0]
		switch {
		case begin < at:
			return fmt.Errorf("tensors %q and %q overlap", prev, name)
		case begin > at:
			return fmt.Errorf("%d bytes of data before tensor %q belong to no tensor", begin-at, name)
		}
		at, prev = tensors[name].DataOffsets[1], name
	}
	if at != size {
		return fmt.Errorf("the data is %d bytes, the tensors account for %d (truncated or padded file?)", size, at)
	}
	return nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// float32s decodes little-endian F32 values; an empty range gives nil, as
// Snapshot's copies of empty slices are.
func float32s(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// fromMetadata reads the non-tensor fields.
func fromMetadata(meta map[string]string) (*Checkpoint, error) {
	format, ok := meta[metaFormat]
	switch {
	case meta == nil:
		return nil, fmt.Errorf("a safetensors file without %s: not a checkpoint of this harness", metadataKey)
	case !ok:
		return nil, fmt.Errorf("a safetensors file without %q in its %s: not a checkpoint of this harness", metaFormat, metadataKey)
	case format != checkpointFormat:
		return nil, fmt.Errorf("format %q, this version reads %q", format, checkpointFormat)
	}
	step, ok := meta[metaStep]
	if !ok {
		return nil, fmt.Errorf("metadata has no %s", metaStep)
	}
	ck := &Checkpoint{}
	var err error
	if ck.Step, err = strconv.Atoi(step); err != nil {
		return nil, fmt.Errorf("metadata %s %q is not an integer", metaStep, step)
	}
	var extra map[string]Number
	var evals []evalJSON
	var resets []resetJSON
	var loss []Number
	for _, f := range []struct {
		key string
		v   any
	}{{metaExtra, &extra}, {metaEvals, &evals}, {metaResets, &resets}, {metaRecentLoss, &loss}} {
		if err := jsonMeta(meta, f.key, f.v); err != nil {
			return nil, err
		}
	}
	if extra != nil {
		ck.Extra = make(map[string]float64, len(extra))
		for k, v := range extra {
			ck.Extra[k] = float64(v)
		}
	}
	for _, e := range evals {
		ck.Evals = append(ck.Evals, Eval{Step: e.Step, Loss: float64(e.Loss), Perplexity: e.Perplexity, BitsPerByte: float64(e.BitsPerByte)})
	}
	for _, r := range resets {
		ck.Resets = append(ck.Resets, Reset{Step: r.Step, ZeroedM: float64(r.ZeroedM), ZeroedV: float64(r.ZeroedV)})
	}
	for _, l := range loss {
		ck.RecentLoss = append(ck.RecentLoss, float64(l))
	}
	if c, ok := meta[metaConfig]; ok && c != "" {
		ck.Config = []byte(c)
	}
	for _, f := range []struct {
		key string
		v   *float64
	}{{metaTrainSeconds, &ck.TrainSeconds}, {metaWallSeconds, &ck.WallSeconds}} {
		if s, ok := meta[f.key]; ok {
			if *f.v, err = strconv.ParseFloat(s, 64); err != nil {
				return nil, fmt.Errorf("metadata %s %q is not a number", f.key, s)
			}
		}
	}
	return ck, nil
}

// jsonMeta decodes the JSON held by metadata key into v (left as is when
// the key is absent), refusing unknown fields and trailing data.
func jsonMeta(meta map[string]string, key string, v any) error {
	s, ok := meta[key]
	if !ok {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, tail := dec.Token(); tail != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	if err != nil {
		return fmt.Errorf("metadata %s: %w", key, err)
	}
	return nil
}

// validate checks what Save and LoadCheckpoint both require, so that a
// checkpoint that was saved can always be loaded.
func (ck *Checkpoint) validate() error {
	if ck.Step < 0 {
		return fmt.Errorf("step %d is negative", ck.Step)
	}
	for name := range ck.Params {
		switch {
		case !utf8.ValidString(name):
			return fmt.Errorf("parameter name %q is not UTF-8", name)
		case name == metadataKey || strings.HasPrefix(name, adamMPrefix) || strings.HasPrefix(name, adamVPrefix) || strings.HasPrefix(name, galorePrefix):
			return fmt.Errorf("parameter name %q is reserved for the file format", name)
		}
	}
	for name, s := range ck.Adam {
		p, ok := ck.Params[name]
		switch {
		case !ok:
			return fmt.Errorf("AdamW state for %q, which is not a parameter", name)
		case s == nil:
			return fmt.Errorf("AdamW state for %q is nil", name)
		case s.Step < 0:
			return fmt.Errorf("AdamW step of %q is %d, negative", name, s.Step)
		case s.Proj != nil:
			if err := validProjected(name, s, len(p)); err != nil {
				return err
			}
		case len(s.M) != len(p) || len(s.V) != len(p):
			return fmt.Errorf("AdamW state of %q has %d first and %d second moments for %d values", name, len(s.M), len(s.V), len(p))
		}
	}
	for k, v := range ck.Extra {
		switch {
		case !utf8.ValidString(k):
			return fmt.Errorf("counter name %q is not UTF-8", k)
		case math.IsNaN(v) || math.IsInf(v, 0):
			return fmt.Errorf("counter %q is %v", k, v)
		}
	}
	for _, e := range ck.Evals {
		if e.Step < 0 || e.Step > ck.Step {
			return fmt.Errorf("an evaluation at step %d, outside [0, step %d]", e.Step, ck.Step)
		}
	}
	for _, r := range ck.Resets {
		switch {
		case r.Step < 0 || r.Step > ck.Step:
			return fmt.Errorf("an optimizer reset at step %d, outside [0, step %d]", r.Step, ck.Step)
		case !(r.ZeroedM >= 0 && r.ZeroedM <= 1 && r.ZeroedV >= 0 && r.ZeroedV <= 1):
			return fmt.Errorf("the optimizer reset at step %d zeroed fractions %v and %v, outside [0, 1]", r.Step, r.ZeroedM, r.ZeroedV)
		}
	}
	if !utf8.Valid(ck.Config) {
		return fmt.Errorf("config is not UTF-8 text")
	}
	if !(ck.TrainSeconds >= 0 && ck.WallSeconds >= 0) || math.IsInf(ck.TrainSeconds, 0) || math.IsInf(ck.WallSeconds, 0) {
		return fmt.Errorf("train_seconds %v and wall_seconds %v must be finite and ≥ 0", ck.TrainSeconds, ck.WallSeconds)
	}
	return nil
}
