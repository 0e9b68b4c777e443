package archive

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export/archive/internal/encode"
)

// Message is a record read back from messages.jsonl.
type Message struct {
	bot.Record
	// ArchivePath is the attachment's path inside the archive ("media/…"),
	// "" when it was not copied.
	ArchivePath string
	// Missing reports an attachment the bot saved that could not be copied.
	Missing bool
}

// maxLine bounds one JSONL line (a record with a very long text).
const maxLine = 64 << 20

// ReadMessages decodes messages.jsonl from r and calls fn for each record
// in file order. Every field of bot.Record comes back as written (the time
// to the nanosecond, in the archive's zone); a line that does not decode
// stops the read with its line number.
func ReadMessages(r io.Reader, fn func(Message) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for line := 1; ; line++ {
		raw, err := readLine(br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		m, err := decodeLine(raw)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}

func readLine(br *bufio.Reader) ([]byte, error) {
	var long []byte
	for {
		part, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, part...)
			if len(long) > maxLine {
				return nil, fmt.Errorf("longer than %d bytes", maxLine)
			}
			continue
		}
		if err == io.EOF && (len(part) > 0 || len(long) > 0) {
			return nil, errors.New("last line has no newline (truncated file)")
		}
		if err != nil {
			return nil, err
		}
		if long != nil {
			return append(long, part...), nil
		}
		return part, nil
	}
}

func decodeLine(raw []byte) (Message, error) {
	var j encode.JSONRecord
	if err := json.Unmarshal(raw, &j); err != nil {
		return Message{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, j.Date)
	if err != nil {
		return Message{}, fmt.Errorf("date: %w", err)
	}
	if sec, err := strconv.ParseInt(j.DateUnixtime, 10, 64); err != nil || sec != t.Unix() {
		return Message{}, fmt.Errorf("date_unixtime %q does not match date %q", j.DateUnixtime, j.Date)
	}
	kind, ok := encode.ParseKind(j.Kind)
	if !ok {
		return Message{}, fmt.Errorf("unknown kind %q", j.Kind)
	}
	mt, ok := encode.ParseMsgType(j.MsgType)
	if !ok {
		return Message{}, fmt.Errorf("unknown msg_type %q", j.MsgType)
	}
	m := Message{Record: bot.Record{
		Group:      bot.GroupID(j.GroupID),
		Seq:        j.ID,
		Time:       t,
		Kind:       kind,
		Sender:     bot.UserID(j.FromID),
		SenderName: j.From,
		FromBot:    j.FromBot,
		MsgID:      j.MsgID,
		MsgType:    mt,
		Text:       j.Text,
		Purged:     j.Purged,
	}}
	if j.Media != nil {
		m.FileName, m.Size, m.MediaPath = j.Media.FileName, j.Media.Size, j.Media.SourcePath
		m.ArchivePath, m.Missing = j.Media.Path, j.Media.Missing
	}
	return m, nil
}
