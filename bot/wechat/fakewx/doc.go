// Package fakewx is a fake web-WeChat server for tests. The real openwechat
// client (v1.4.10) runs against it unchanged: a rewrite transport sends
// every https request, whatever its host, to a local httptest server, which
// routes on the original host and path (login.wx.qq.com, <domain>,
// file.<domain>, webpush.<domain>; the domain is "wx.fake.test" unless
// Options.Domain says otherwise).
//
// # Using it
//
//	s := fakewx.New(fakewx.Options{SyncPoll: 50 * time.Millisecond})
//	defer s.Close()
//	ctx, cancel := context.WithCancel(context.Background())
//	defer cancel() // runs before s.Close: stops the bot's sync loop first
//	b := openwechat.NewBot(ctx) // never DefaultBot: it runs xdg-open
//	s.Attach(b)                 // transport, short timeout, no retries
//	b.UUIDCallback = func(string) { s.Scan() }
//	got := make(chan string, 1)
//	b.MessageHandler = func(m *openwechat.Message) { got <- m.Content }
//	if err := b.Login(); err != nil { // 408 ... 201, 200
//		t.Fatal(err)
//	}
//	s.SendGroupText("技术群", "alice", "hello")
//	fmt.Println(<-got) // hello
//
// The scripted World (DefaultWorld unless Options.World is set) has stable
// keys for people and groups; the @/@@ UserNames are regenerated at every
// login, as on the real server. Group, Member, Person and Self return
// snapshots with the current session's UserName; Resolve maps a UserName
// back to its key.
//
// Scripting: SendGroupText, SendDM, SendSelfGroupText, SendSelfDM,
// SendFileHelper, SendSystem (with the Sys* templates), SendImage,
// SendFile and SendFriendRequest queue messages; AddMember, RemoveMember,
// SetCard, RenameGroup, AddGroup, RemoveGroup, RemoveBotFromGroup,
// AddFriend, SetFriend and SetSaved change the world silently. Login is
// driven by Scan, ConfirmPush and ExpireLogin (or Options.AutoScan and
// AutoConfirmPush). Failures: ForceLogout, SetDown, FailNext,
// SetCreateChatRoomFails. Records: Sent, Uploads, ChatRoomOps, Calls,
// Requests, LoginPolls. WaitFor waits for any of them. MemoryStorage is a
// hot-reload storage for HotLogin and PushLogin.
//
// # openwechat traps the tests had to respect
//
// openwechat's Bot is not goroutine-safe. Its sync goroutine runs the
// MessageHandler and, while processing a group message, sorts and rewrites
// the cached contact lists; Exit writes a field that Block and Alive read.
// So: set MessageHandler and MessageErrorHandler before logging in; copy
// what you need out of a Message inside the handler; do not call contact
// methods (Groups, Members, ...) from another goroutine while messages may
// be processed; call Logout from the handler; wait for an exit with
// <-b.Context().Done() and b.CrashReason() rather than Block, which races
// if the bot can exit while it starts; stop a bot by cancelling its
// context, not with Exit. A bot never recovers from an exit: make a new
// one and use HotLogin or PushLogin. Without a MessageErrorHandler that
// sleeps, a down server makes openwechat retry in a hot loop.
//
// # Known differences from the real server
//
//   - Plain HTTP behind a rewrite transport. Long polls are held for
//     Options.LoginPoll and SyncPoll (ms) instead of about 25 s.
//   - Sessions are checked by skey, sid and uin (query and BaseRequest),
//     never by cookie. Only webwx_data_ticket is checked, as the form field
//     of uploads and the query of webwxgetmedia. Cookies are set once, at
//     webwxnewloginpage, with Domain=<domain>; openwechat's hot-reload
//     storage drops the Domain, so after HotLogin uploads fail with
//     ErrWebWxDataTicketNotFound unless Options.DataTicketOnInit. Whether
//     the real server re-sets the cookie is unknown.
//   - A new login ends the previous session (retcode 1101), as logging in
//     elsewhere does. Push login needs an earlier login of the same Uin and
//     does not look at the tip parameter.
//   - UserNames are "@" or "@@" plus 64 hex digits. Within a session one
//     person has one UserName in every group and in the friend list. Uin is
//     0 for everyone but the bot; the HeadImgUrl seq (openwechat's
//     AvatarID) changes at every login; EncryChatRoomId is derived from the
//     group's session name.
//   - The message log is a single cursor in SyncKey key 1 (key 2 counts
//     contact changes). webwxinit hands out the last cursor a client
//     acknowledged, so messages nobody acknowledged are delivered again
//     after a re-login; webwxsync returns everything at once (no
//     ContinueFlag). Real offline-message behaviour is unverified.
//   - Text content escapes only &, < and > and turns newlines into <br/>;
//     emoji are sent as UTF-8, not as <span class="emoji ...">.
//   - Messages the client sends come back through webwxsync only with
//     Options.EchoSent, and the MsgType 51 status notify after login only
//     with Options.LoginNotify; the real server sends both.
//   - World changes are reported by synccheck selector 4 (modified) or 6
//     (added or removed) with ModContactList/DelContactList entries, which
//     openwechat ignores; the real selectors for these events are
//     unverified. World mutations queue no message: pair them with
//     SendSystem.
//   - addmember adds the friends at once and queues
//     `你邀请"X"加入了群聊  `. invitemember (what openwechat sends for
//     groups of 40 or more) gives each friend an invitation card and
//     changes nothing else: they join when a test calls AcceptInvitation,
//     which queues `你邀请"X"加入了群聊  ` or a given text (the real text
//     of that join is unverified), and DeclineInvitation drops the card.
//     Which fun the real server accepts for which group size, and whether
//     it syncs the sent card back to the bot's session, is unverified; the
//     fake goes by fun alone. modtopic queues `你修改群名为“X”`. delmember
//     is recorded and has no effect unless Options.KickWorks. A create
//     queues the invitation message; the new group is not saved to
//     contacts. The failing create's ErrMsg text is approximated.
//   - Requests the fake cannot place (unknown ToUserName, adding a
//     non-friend, an unknown MediaId or friend-request ticket) answer
//     BaseResponse.Ret 1; the real codes are unknown. webwxbatchgetcontact
//     answers unknown names with UserName-only entries and groups the bot
//     is no longer in without members.
//   - webwxlogout answers a JSON BaseResponse (openwechat decodes one).
//     webwxrevokemsg and webwxoplog (remark, pin) answer Ret 0 and change
//     nothing. Voice and video (SendVoice, SendVideo) carry minimal XML
//     content and are served whole with 200 even though the client asks
//     for a Range; the real server's error answers for downloads are
//     unknown (FailMedia offers a 500, an empty body and a cut
//     connection). There is no scripting for cards, recalls or red
//     packets.
//   - The English multi-invitee separator in SysInviteEN is a guess.
package fakewx
