package wechat_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
)

func TestGroupTextReachesPluginWithDurableIDs(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	alice := r.member(tech, "爱丽丝")

	r.s.SendGroupText("技术群", "alice", "大家好")
	ev := r.waitEvent("group text", isMsg("大家好"))
	if ev.Group != tech || ev.GroupName != "技术群" {
		t.Errorf("group = %s %q, want %s 技术群", ev.Group, ev.GroupName, tech)
	}
	if ev.Sender != alice.ID || ev.SenderName != "Alice@技术" || ev.SenderRemark != "[u1] 爱丽丝" || ev.FromSelf {
		t.Errorf("sender = %s %q remark %q self %v, want %s Alice@技术 remark [u1] 爱丽丝", ev.Sender, ev.SenderName, ev.SenderRemark, ev.FromSelf, alice.ID)
	}
	if ev.Message.Type != bot.MsgText || ev.Message.ID == "" {
		t.Errorf("message = %+v", ev.Message)
	}
	// The runtime recorded it under the durable ids.
	rec, err := r.db.Member(t.Context(), tech, alice.ID)
	if err != nil || !rec.Present || rec.Messages == 0 && rec.LastSpoke.IsZero() && rec.Nick == "" {
		t.Errorf("member record = %+v, %v", rec, err)
	}

	// dave shares bob's nickname; the ids still differ, and only the
	// friend has a remark (bob has none).
	r.s.SendGroupText("技术群", "dave", "我是 dave")
	r.s.SendGroupText("技术群", "bob", "我是 bob")
	d := r.waitEvent("dave", isMsg("我是 dave"))
	b := r.waitEvent("bob", isMsg("我是 bob"))
	if d.Sender == b.Sender || d.SenderName != "Bob" || b.SenderName != "Bob" || d.SenderRemark != "" || b.SenderRemark != "" {
		t.Errorf("dave %+v / bob %+v", d, b)
	}
}

func TestDMsSelfMessagesAndOtherTypes(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{fake: fakewx.Options{EchoSent: true, LoginNotify: true}})
	tech := r.group("技术群")
	eve := r.friend("eve-op")

	r.s.SendDM("eve", "你好")
	ev := r.waitEvent("DM", isMsg("你好"))
	if ev.Group != "" || ev.Sender != eve.ID || ev.SenderRemark != "eve-op" || ev.SenderName != "伊芙" {
		t.Errorf("DM = %+v", ev)
	}

	// The owner types into File Transfer on the phone: an owner command,
	// answered in File Transfer.
	r.s.SendFileHelper("/tasks")
	ev = r.waitEvent("file helper", isMsg("/tasks"))
	if !ev.FromSelf || !ev.FromFileHelper || ev.Sender != bot.SelfID || !ev.IsCommand {
		t.Errorf("file helper message = %+v", ev)
	}
	reply := r.sent("the reply in File Transfer", func(m fakewx.Sent) bool { return m.Person == fakewx.FileHelperKey })
	if !strings.Contains(reply.Text, "没有未完成的待办") {
		t.Errorf("reply = %q", reply.Text)
	}

	// What the owner types into a group on the phone is FromSelf.
	r.s.SendSelfGroupText("技术群", "手机上发的")
	ev = r.waitEvent("self group text", isMsg("手机上发的"))
	if !ev.FromSelf || ev.FromFileHelper || ev.Group != tech || ev.Sender != bot.SelfID {
		t.Errorf("self group text = %+v", ev)
	}
	// The reply above came back as an echo (EchoSent) and was dropped.
	r.noEvent("echo", 300*1e6, func(ev bot.Event) bool {
		return ev.Kind == bot.EventMessage && strings.Contains(ev.Text(), "没有未完成的待办")
	})

	// Pictures and files become events with a summary.
	r.s.SendImage("技术群", "carol", pngBytes(t))
	ev = r.waitEvent("picture", isMsg("[图片]"))
	if ev.Message.Type != bot.MsgImage || ev.SenderName != "卡卡" {
		t.Errorf("picture = %+v %+v", ev, ev.Message)
	}
	r.s.SendFile("技术群", "alice", "纪要.pdf", []byte("%PDF-1.4 ..."))
	ev = r.waitEvent("file", isMsg("纪要.pdf"))
	if ev.Message.Type != bot.MsgFile || ev.Message.FileName != "纪要.pdf" || ev.Message.Size != 12 {
		t.Errorf("file = %+v", ev.Message)
	}
}

func TestHelpInAGroupIsAnsweredInThatGroup(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	r.s.SendGroupText("技术群", "bob", "/help")
	ev := r.waitEvent("the command", isMsg("/help"))
	if !ev.IsCommand {
		t.Errorf("/help was not handled as a command")
	}
	m := r.sent("the help", func(m fakewx.Sent) bool { return strings.Contains(m.Text, "可用命令") })
	if m.Group != "技术群" || m.Kind != "text" {
		t.Errorf("help went to %q/%q as %s", m.Group, m.Person, m.Kind)
	}
}

func TestFilesAndPicturesAreUploadedAndSent(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	report := write("周报.pdf", []byte("%PDF-1.4 weekly report"))
	pic := write("合影.png", pngBytes(t))
	webp := write("贴纸.webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "))

	if err := r.p.SendFile(t.Context(), bot.ToGroup(tech), bot.File{Path: report}); err != nil {
		t.Fatalf("send file: %v", err)
	}
	if err := r.p.SendFile(t.Context(), bot.ToGroup(tech), bot.File{Path: pic, Image: true}); err != nil {
		t.Fatalf("send picture: %v", err)
	}
	if err := r.p.SendFile(t.Context(), bot.ToUser(r.friend("eve-op").ID), bot.File{Path: webp, Image: true}); err != nil {
		t.Fatalf("send webp: %v", err)
	}
	sent := r.s.Sent()
	if len(sent) != 3 {
		t.Fatalf("sent %d messages: %+v", len(sent), sent)
	}
	if sent[0].Kind != "file" || sent[0].FileName != "周报.pdf" || sent[0].Group != "技术群" || !bytes.Equal(sent[0].Data, []byte("%PDF-1.4 weekly report")) {
		t.Errorf("file = %+v", sent[0])
	}
	if sent[1].Kind != "image" || !strings.HasSuffix(sent[1].FileName, "合影.png") {
		t.Errorf("picture = %+v", sent[1])
	}
	if sent[2].Kind != "file" || sent[2].FileName != "贴纸.webp" || sent[2].Person != "eve" {
		t.Errorf("webp = %+v (WeChat shows no webp pictures; it goes as a file)", sent[2])
	}
	ups := r.s.Uploads()
	if len(ups) != 3 || !strings.HasSuffix(ups[0].Name, "周报.pdf") {
		t.Errorf("uploads = %+v", ups)
	}
	if err := r.p.SendFile(t.Context(), bot.ToGroup(tech), bot.File{Path: filepath.Join(dir, "missing.pdf")}); err == nil {
		t.Error("sending a missing file succeeded")
	}
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range 6 {
		img.Set(i%3, i/3, color.RGBA{R: uint8(40 * i), G: 90, B: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
