package presence

import (
	"crypto/sha256"
	"encoding/base64"
	"hash/fnv"
)

// maxPlainUID is the longest uid whose key is the uid itself, encoded; a
// longer one is keyed by its SHA-256, so that every key stays short.
const maxPlainUID = 192

// uidKey returns the index key of uid. KV keys and NATS subjects allow only
// [-/_=.a-zA-Z0-9] and uids are any string, so the key is "u" and the uid in
// unpadded base64url, or "h" and its SHA-256 so for a uid longer than
// maxPlainUID bytes (the entry names its uid, so a reader can tell a
// collision, should one ever happen, from a match). One subject token, no
// dots: either way.
func uidKey(uid string) string {
	enc := base64.RawURLEncoding
	if len(uid) <= maxPlainUID {
		return "u" + enc.EncodeToString([]byte(uid))
	}
	sum := sha256.Sum256([]byte(uid))
	return "h" + enc.EncodeToString(sum[:])
}

// Partitions is the number of partitions the session events of each
// frontend are published in. A uid's events all go to one, its
// [Partition]; each partition of each run of a frontend numbers its events
// 1, 2, 3…, so that a subscriber to one uid, who hears only that uid's
// partition, can still tell when it missed an event.
const Partitions = 256

// Partition returns the partition of uid's events: FNV-1a (64 bits) of the
// uid's bytes, modulo [Partitions]. It is part of the protocol and never
// changes. The events of sessions closed without a uid are in the partition
// of "".
func Partition(uid string) int {
	h := fnv.New64a()
	h.Write([]byte(uid))
	return int(h.Sum64() % Partitions)
}
