package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/eatmoreapple/openwechat"
	"github.com/qunguan/qunguan/bot"
)

// Media downloads.
//
// Pictures, voice messages, videos and file attachments sent in managed
// groups are saved as <DataDir>/media/<group id>/<YYYY-MM-DD>/<msgid>_<name>
// (folders 0700, files 0600), so that exports include them.
//
// The owner goroutine decides (managed group, download on, declared size
// under the cap) and hands a job to a bounded queue without waiting; a full
// queue skips the download. Workers make the request with a copy of the
// session's openwechat Client (same transport, cookie jar, domain and
// hooks, but no overall timeout: MediaTimeout bounds a download instead),
// stream the body into a temporary file in the day folder, sync it and
// rename it to its final name only when it is complete. The message's
// event waits in the owner until its download finished, with later events
// of the same group behind it, and then goes out with MediaPath set if the
// file is complete. So a MediaPath always names a complete file, and a
// group's events keep their order; other groups' events do not wait.

// mediaKind is what a message carries that can be downloaded.
type mediaKind uint8

const (
	mediaNone mediaKind = iota
	mediaPicture
	mediaVoice
	mediaVideo
	mediaFile
)

func (k mediaKind) String() string {
	switch k {
	case mediaPicture:
		return "picture"
	case mediaVoice:
		return "voice"
	case mediaVideo:
		return "video"
	case mediaFile:
		return "file"
	}
	return "none"
}

// mediaKindOf says what m carries. Stickers (emoticons) are not kept.
func mediaKindOf(m rawMessage) mediaKind {
	switch {
	case m.Type == openwechat.MsgTypeImage:
		return mediaPicture
	case m.Type == openwechat.MsgTypeVoice:
		return mediaVoice
	case m.Type == openwechat.MsgTypeVideo || m.Type == openwechat.MsgTypeMicroVideo:
		return mediaVideo
	case m.Type == openwechat.MsgTypeApp && m.AppType == openwechat.AppMsgTypeAttach:
		return mediaFile
	}
	return mediaNone
}

// mediaJob is one download. The owner fills the request part and reads the
// result once the job comes back on mediaDone; the worker fills the result
// before it sends the job back.
type mediaJob struct {
	kind  mediaKind
	group bot.GroupID
	msg   openwechat.Message // only the fields the download requests read
	name  string             // the attachment's name; "" for the others
	size  int64              // the attachment's declared size; 0 if unknown
	max   int64
	dir   string
	sess  *session

	// Set by the worker.
	path string
	err  error
	// Set by the owner when the job came back.
	finished bool
}

// heldEvent is an event waiting for a download: its own (job set) or one
// ahead of it in the same group.
type heldEvent struct {
	ev  bot.Event
	job *mediaJob
}

// errTooLarge means the body went past the size cap while streaming.
var errTooLarge = errors.New("larger than media_max_size")

// mediaEvent returns the index of the event in evs that reports m as a
// group message carrying media, or -1.
func mediaEvent(m rawMessage, evs []bot.Event) int {
	if m.ID == "" || mediaKindOf(m) == mediaNone {
		return -1
	}
	for i, ev := range evs {
		if ev.Kind == bot.EventMessage && ev.Group != "" && ev.Message != nil && ev.Message.ID == m.ID {
			return i
		}
	}
	return -1
}

// download queues the download of m's media for ev, or returns nil when it
// is not wanted or cannot be queued (then the event goes out at once).
func (o *owner) download(m rawMessage, ev bot.Event) *mediaJob {
	cfg := o.p.config()
	if cfg == nil || !cfg.Wechat.MediaDownload || o.sess == nil {
		return nil
	}
	g := o.groupIDs[ev.Group]
	if g == nil || !o.isManaged(g) {
		return nil
	}
	kind := mediaKindOf(m)
	max := cfg.Wechat.MediaMaxSize.N()
	if kind == mediaFile && ev.Message.Size > max {
		o.log.Info("attachment larger than media_max_size; not downloaded", "group_id", string(ev.Group),
			"msg_id", m.ID, "size", ev.Message.Size, "max", max)
		return nil
	}
	j := &mediaJob{
		kind: kind, group: ev.Group, max: max, sess: o.sess,
		msg: openwechat.Message{MsgId: m.ID, FromUserName: m.From, MediaId: m.MediaID, EncryFileName: m.EncryFileName},
		dir: bot.MediaDayDir(o.p.mediaRoot, ev.Group, ev.Time, cfg.Location),
	}
	if kind == mediaFile {
		j.name, j.size = ev.Message.FileName, ev.Message.Size
	}
	select {
	case o.p.mediaQueue <- j:
		return j
	default:
		o.log.Warn("media download queue full; not downloaded", "group_id", string(ev.Group), "msg_id", m.ID, "kind", kind.String())
		return nil
	}
}

// hold makes ev wait for job, and every later event of its group behind it.
func (o *owner) hold(ev bot.Event, job *mediaJob) {
	o.holds[ev.Group] = append(o.holds[ev.Group], heldEvent{ev: ev, job: job})
}

// mediaBack takes a finished job back and lets out what waited for it.
func (o *owner) mediaBack(j *mediaJob) {
	j.finished = true
	q := o.holds[j.group]
	for len(q) > 0 {
		h := q[0]
		if h.job != nil {
			if !h.job.finished {
				break
			}
			if h.job.path != "" {
				msg := *h.ev.Message
				msg.MediaPath = h.job.path
				h.ev.Message = &msg
			}
		}
		o.push(h.ev)
		q[0] = heldEvent{}
		q = q[1:]
	}
	if len(q) == 0 {
		delete(o.holds, j.group)
	} else {
		o.holds[j.group] = q
	}
}

// mediaWorker serves the download queue until the platform's life ends.
func (p *Platform) mediaWorker() {
	defer p.workers.Done()
	for {
		select {
		case j := <-p.mediaQueue:
			p.fetch(j)
			select {
			case p.mediaDone <- j:
			case <-p.life.Done():
				// Nobody will record the message: do not keep its file.
				if j.path != "" {
					_ = os.Remove(j.path)
				}
				return
			}
		case <-p.life.Done():
			return
		}
	}
}

// fetch downloads j and sets j.path or j.err.
func (p *Platform) fetch(j *mediaJob) {
	j.path, j.err = p.fetchFile(j)
	switch {
	case j.err == nil:
		p.log.Debug("media downloaded", "group_id", string(j.group), "msg_id", j.msg.MsgId, "kind", j.kind.String(), "path", j.path)
	case errors.Is(j.err, errTooLarge):
		p.log.Info("media larger than media_max_size; not kept", "group_id", string(j.group), "msg_id", j.msg.MsgId,
			"kind", j.kind.String(), "max", j.max)
	default:
		p.log.Warn("media download failed", "group_id", string(j.group), "msg_id", j.msg.MsgId, "kind", j.kind.String(), "err", redact(j.err))
	}
}

func (p *Platform) fetchFile(j *mediaJob) (string, error) {
	ctx, cancel := context.WithTimeout(j.sess.ctx(), p.o.MediaTimeout)
	defer cancel()
	c, info := j.sess.media, j.sess.info
	var resp *http.Response
	var err error
	switch j.kind {
	case mediaPicture:
		resp, err = c.WebWxGetMsgImg(ctx, &j.msg, info)
	case mediaVoice:
		resp, err = c.WebWxGetVoice(ctx, &j.msg, info)
	case mediaVideo:
		resp, err = c.WebWxGetVideo(ctx, &j.msg, info)
	case mediaFile:
		resp, err = c.WebWxGetMedia(ctx, &j.msg, info)
	default:
		return "", fmt.Errorf("nothing to download for %s", j.kind)
	}
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	// openwechat does not look at the status; an error page is not media.
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		return "", fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	if resp.ContentLength > j.max {
		return "", errTooLarge
	}
	if err := os.MkdirAll(j.dir, 0o700); err != nil {
		return "", fmt.Errorf("media folder: %w", err)
	}
	tmp, err := os.CreateTemp(j.dir, ".download-*") // mode 0600
	if err != nil {
		return "", fmt.Errorf("media file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	head := &headBuffer{}
	n, err := io.Copy(tmp, io.TeeReader(io.LimitReader(resp.Body, j.max+1), head))
	switch {
	case err != nil:
		return "", fmt.Errorf("after %d bytes: %w", n, err)
	case n > j.max:
		return "", errTooLarge
	case n == 0:
		return "", errors.New("empty answer")
	case j.size > 0 && n != j.size:
		return "", fmt.Errorf("got %d bytes of %d", n, j.size)
	}
	ctype := resp.Header.Get("Content-Type")
	if ctype == "" {
		ctype = http.DetectContentType(head.b)
	}
	if j.kind != mediaFile && isText(ctype) {
		return "", fmt.Errorf("the server answered with %s, not %s", ctype, j.kind)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("media file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("media file: %w", err)
	}
	final := filepath.Join(j.dir, mediaFileName(j.msg.MsgId, j.fileName(ctype, head.b)))
	if err := os.Rename(tmp.Name(), final); err != nil {
		os.Remove(tmp.Name())
		done = true
		return "", fmt.Errorf("media file: %w", err)
	}
	done = true
	return final, nil
}

// fileName is the name the media is saved under (before the msgid prefix).
func (j *mediaJob) fileName(ctype string, head []byte) string {
	switch j.kind {
	case mediaPicture:
		return "picture" + mediaExt(ctype, head, ".jpg")
	case mediaVoice:
		return "voice" + mediaExt(ctype, head, ".mp3")
	case mediaVideo:
		return "video" + mediaExt(ctype, head, ".mp4")
	}
	return j.name
}

// mediaExts are the extensions of the types web WeChat serves.
var mediaExts = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp", "image/bmp": ".bmp",
	"audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/amr": ".amr", "audio/silk": ".silk",
	"video/mp4": ".mp4", "video/quicktime": ".mov",
}

// mediaExt picks the extension from the Content-Type, else from the
// content itself, else def.
func mediaExt(ctype string, head []byte, def string) string {
	if t, _, err := mime.ParseMediaType(ctype); err == nil {
		if ext, ok := mediaExts[t]; ok {
			return ext
		}
	}
	if t, _, err := mime.ParseMediaType(http.DetectContentType(head)); err == nil {
		if ext, ok := mediaExts[t]; ok {
			return ext
		}
	}
	return def
}

func isText(ctype string) bool {
	t, _, err := mime.ParseMediaType(ctype)
	return err == nil && (strings.HasPrefix(t, "text/") || t == "application/json")
}

// headBuffer keeps the first 512 bytes written to it, for sniffing.
type headBuffer struct{ b []byte }

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := 512 - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// maxMediaName bounds the saved name in bytes; file systems allow 255.
const maxMediaName = 160

// mediaFileName is <msgid>_<name> with both made safe as one file name:
// no separators, control or reserved characters, no leading dots (hidden
// files, ".."), valid UTF-8, and not longer than maxMediaName bytes, the
// extension kept.
func mediaFileName(msgID, name string) string {
	id := strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return '_'
	}, msgID)
	if len(id) > 40 {
		id = id[:40]
	}
	if id == "" {
		id = "0"
	}
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || !unicode.IsPrint(r) && r != ' ' || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	if name == "" {
		name = "file"
	}
	room := maxMediaName - len(id) - 1
	if len(name) > room {
		ext := filepath.Ext(name)
		if len(ext) > 16 || len(ext) == len(name) {
			ext = ""
		}
		stem := name[:len(name)-len(ext)]
		cut := room - len(ext)
		for cut > 0 && !utf8.RuneStart(stem[cut]) {
			cut--
		}
		name = strings.TrimRight(stem[:cut], " .") + ext
	}
	return id + "_" + name
}

// mediaClient returns a Client for downloads that shares c's session
// (transport, cookie jar, domain, hooks) but has no overall timeout: the
// session's client gives up after HTTPTimeout, which a large attachment
// may need more than. It makes only the download requests, whose request
// building reads the client and the jar (goroutine-safe) and writes
// nothing openwechat shares, so workers may use it beside the owner.
func mediaClient(c *openwechat.Client) *openwechat.Client {
	hc := c.HTTPClient()
	mc := openwechat.NewClient(&http.Client{Transport: hc.Transport, CheckRedirect: hc.CheckRedirect})
	mc.SetCookieJar(c.Jar())
	mc.Domain = c.Domain
	mc.HttpHooks = slices.Clone(c.HttpHooks)
	mc.MaxRetryTimes = 1
	return mc
}
