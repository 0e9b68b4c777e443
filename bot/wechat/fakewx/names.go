package fakewx

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"strings"
)

// A ref names something the bot can talk to, independent of the session:
// "p:<person key>", "g:<group key>", "m:<mp nickname>", or the fixed names
// "filehelper" and "fmessage" (the sender of friend requests). Session
// UserNames are derived from refs lazily and forgotten at every login.
const (
	fileHelperRef = FileHelperKey
	fmessageRef   = "fmessage"
)

func personRef(key string) string { return "p:" + key }
func groupRef(key string) string  { return "g:" + key }
func mpRef(nick string) string    { return "m:" + nick }

func splitRef(ref string) (kind, key string) {
	switch {
	case strings.HasPrefix(ref, "p:"):
		return "person", ref[2:]
	case strings.HasPrefix(ref, "g:"):
		return "group", ref[2:]
	case strings.HasPrefix(ref, "m:"):
		return "mp", ref[2:]
	}
	return ref, ref
}

// resetNames forgets every session name, so the next lookups generate new
// ones. The real server hands out new UserNames for everyone at each login.
func (s *Server) resetNames() {
	s.names = map[string]string{}
	s.refs = map[string]string{}
	s.seqs = map[string]int64{}
}

// nameOf returns ref's UserName in the current session, creating it on first
// use. Caller holds s.mu.
func (s *Server) nameOf(ref string) string {
	if ref == fileHelperRef || ref == fmessageRef {
		return ref
	}
	if n, ok := s.names[ref]; ok {
		return n
	}
	prefix := "@"
	if strings.HasPrefix(ref, "g:") {
		prefix = "@@"
	}
	n := prefix + randHex(32)
	s.names[ref] = n
	s.refs[n] = ref
	return n
}

// refOf maps a UserName of the current session back to its ref.
func (s *Server) refOf(name string) (string, bool) {
	if name == fileHelperRef || name == fmessageRef {
		return name, true
	}
	ref, ok := s.refs[name]
	return ref, ok
}

// avatarSeq is the seq in HeadImgUrl. openwechat's AvatarID falls back to it
// (Uin is 0), and it changes between logins, so it must not look stable.
func (s *Server) avatarSeq(ref string) int64 {
	if v, ok := s.seqs[ref]; ok {
		return v
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1e9))
	if err != nil {
		panic(err)
	}
	v := 600000000 + n.Int64()
	s.seqs[ref] = v
	return v
}

func randHex(nbytes int) string {
	b := make([]byte, nbytes)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func randBase64(nbytes int) string {
	b := make([]byte, nbytes)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}
