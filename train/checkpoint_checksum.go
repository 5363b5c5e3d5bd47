package train

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// metaChecksum is the metadata key of a checkpoint's checksum: the sha256
// of the file the checkpoint encodes to without it (every tensor and every
// other metadata entry). Resume trusts a checkpoint's step, merge count and
// optimizer state; a hand-edited step or merge count would otherwise be
// believed and silently make another run than the config says.
const metaChecksum = "checksum"

func checksumOf(encoded []byte) string {
	sum := sha256.Sum256(encoded)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// verifyChecksum re-encodes the decoded checkpoint (encoding is
// deterministic) and compares its checksum with the stored one. Checkpoints
// written before checksums existed have none and are accepted: they are
// local caches of runs, not evidence.
func (ck *Checkpoint) verifyChecksum(meta map[string]string) error {
	stored, ok := meta[metaChecksum]
	if !ok {
		return nil
	}
	if !strings.HasPrefix(stored, "sha256:") {
		return fmt.Errorf("metadata %s %q is not a sha256 checksum", metaChecksum, stored)
	}
	plain, err := ck.encodeWith(nil)
	if err != nil {
		return err
	}
	if got := checksumOf(plain); got != stored {
		return fmt.Errorf("checksum mismatch: the tensors or metadata (step %d, merges %g) are not what was saved (stored %s, content %s): the file was changed after it was written",
			ck.Step, ck.Extra["merges"], shortChecksum(stored), shortChecksum(got))
	}
	return nil
}

func shortChecksum(sum string) string { return sum[:min(len(sum), len("sha256:")+12)] }
