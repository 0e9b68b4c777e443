package fakewx

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
)

// Media downloads: webwxgetmsgimg (pictures, by MsgID), webwxgetvoice and
// webwxgetvideo (by msgid) and file.<domain>/…/webwxgetmedia (attachments,
// by mediaid, with a live session's webwx_data_ticket) serve the bytes of
// the scripted messages. FailMedia makes them fail.

// MediaFailure is how the download endpoints fail; see FailMedia.
type MediaFailure int

const (
	// MediaWorks serves the bytes (the default).
	MediaWorks MediaFailure = iota
	// MediaHTTPError answers 500 with an empty body.
	MediaHTTPError
	// MediaEmpty answers 200 with no bytes.
	MediaEmpty
	// MediaTruncated announces the full Content-Length, sends half of the
	// bytes and drops the connection.
	MediaTruncated
)

// FailMedia makes every later download fail as f until it is called with
// MediaWorks. Requests are counted and recorded as usual.
func (s *Server) FailMedia(f MediaFailure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mediaFail = f
}

// SendVoice queues a voice message (MsgType 34) from person in group, or a
// DM when groupKey is "". webwxgetvoice serves data for its MsgId.
func (s *Server) SendVoice(groupKey, person string, data []byte) string {
	return s.sendMedia(groupKey, person, 34, `<msg><voicemsg endflag="1" cancelflag="0" forwardflag="0" voiceformat="4" voicelength="%d" length="%d" /></msg>`, data)
}

// SendVideo queues a video message (MsgType 43) from person in group, or a
// DM when groupKey is "". webwxgetvideo serves data for its MsgId.
func (s *Server) SendVideo(groupKey, person string, data []byte) string {
	return s.sendMedia(groupKey, person, 43, `<msg><videomsg aeskey="" cdnthumbaeskey="" playlength="%d" length="%d" fromusername="" /></msg>`, data)
}

func (s *Server) sendMedia(groupKey, person string, typ int, content string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustPerson(person)
	q := &queued{typ: typ, content: escapeText(fmt.Sprintf(content, 2, len(data)))}
	s.address(q, groupKey, person)
	id := s.enqueue(q)
	s.media[id] = bytes.Clone(data)
	return id
}

// handleGetVoiceVideo serves a voice message or a video by msgid, like
// handleGetMsgImg. openwechat asks with Range: bytes=0-; the answer is the
// whole content with 200.
func (s *Server) handleGetVoiceVideo(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	ret := s.checkSkey(q.Get("skey"))
	data, ok := s.media[q.Get("msgid")]
	s.mu.Unlock()
	if ret != 0 {
		writeBaseErr(w, ret, "")
		return
	}
	s.serveMedia(w, data, ok)
}

// serveMedia writes a download's answer: data, a 404 for an unknown id, or
// the failure FailMedia set.
func (s *Server) serveMedia(w http.ResponseWriter, data []byte, ok bool) {
	s.mu.Lock()
	fail := s.mediaFail
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	switch fail {
	case MediaHTTPError:
		w.WriteHeader(http.StatusInternalServerError)
		return
	case MediaEmpty:
		w.Header().Set("Content-Type", http.DetectContentType(data))
		w.Header().Set("Content-Length", "0")
		return
	case MediaTruncated:
		w.Header().Set("Content-Type", http.DetectContentType(data))
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data[:len(data)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		hangUp()
	}
	w.Header().Set("Content-Type", http.DetectContentType(data))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}
