package fakewx_test

import (
	"context"
	"fmt"
	"time"

	"github.com/eatmoreapple/openwechat"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
)

// A real openwechat bot logs in by QR code and receives a group message.
func Example() {
	s := fakewx.New(fakewx.Options{LoginPoll: 20 * time.Millisecond, SyncPoll: 50 * time.Millisecond})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // runs before s.Close: stops the bot's sync loop first

	b := openwechat.NewBot(ctx) // never DefaultBot: it runs xdg-open
	s.Attach(b)
	b.UUIDCallback = func(string) { s.Scan() }
	got := make(chan string, 1)
	b.MessageHandler = func(m *openwechat.Message) {
		sender, err := m.SenderInGroup()
		if err != nil {
			got <- err.Error()
			return
		}
		got <- sender.DisplayName + ": " + m.Content
	}
	if err := b.Login(); err != nil {
		fmt.Println(err)
		return
	}
	s.SendGroupText("技术群", "alice", "hello")
	fmt.Println(<-got)
	// Output: Alice@技术: hello
}
